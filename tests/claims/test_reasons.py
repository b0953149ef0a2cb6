from __future__ import annotations

import copy
import json
from importlib import resources
from typing import Any

import pytest

from handrail.claims.reasons import (
    TABLE_FILE,
    ReasonKind,
    ReasonTableError,
    parse_reason_table,
    reason_table,
)

# The codes therapy remittances most often carry; the brief and issue 9 name these.
THERAPY_CARCS = [
    "1",
    "2",
    "3",
    "4",
    "5",
    "16",
    "18",
    "22",
    "23",
    "27",
    "29",
    "45",
    "50",
    "55",
    "59",
    "96",
    "97",
    "109",
    "119",
    "146",
    "151",
    "167",
    "170",
    "181",
    "182",
    "185",
    "197",
    "198",
    "204",
    "226",
    "227",
    "236",
    "242",
    "253",
    "B7",
    "B9",
    "B15",
]
THERAPY_RARCS = ["M15", "M80", "N20", "N115", "N386", "N130", "MA130", "N362", "M86"]
# Fragments of the official descriptions: our table is in our own words, so none may appear.
OFFICIAL_WORDING = (
    "claim/service lacks information",
    "charge exceeds fee schedule",
    "expenses incurred after coverage terminated",
    "time limit for filing has expired",
    "precertification/authorization/notification",
    "inconsistent with the modifier used",
    "deemed a 'medical necessity'",
    "benefit maximum for this time period",
    "exact duplicate claim/service",
    "the impact of prior payer(s) adjudication",
)


def _document() -> dict[str, Any]:
    text = resources.files("handrail.claims").joinpath("data", TABLE_FILE).read_text("utf-8")
    document: dict[str, Any] = json.loads(text)
    return document


class ReasonTableTests:
    def test_it_covers_the_codes_therapy_claims_most_often_get(self) -> None:
        table = reason_table()
        missing = [
            f"{kind} {code}"
            for kind, codes in ((ReasonKind.CARC, THERAPY_CARCS), (ReasonKind.RARC, THERAPY_RARCS))
            for code in codes
            if not table.explain(kind, code).known
        ]
        assert missing == []
        assert len(table.reasons) >= 40

    def test_every_entry_has_a_meaning_a_cause_and_a_fix(self) -> None:
        for reason in reason_table().reasons.values():
            assert reason.meaning.endswith("."), reason.code
            assert reason.therapy_cause.endswith("."), reason.code
            assert reason.fix.endswith("."), reason.code

    def test_it_is_in_our_own_words(self) -> None:
        text = json.dumps(_document()["codes"]).lower()
        assert [fragment for fragment in OFFICIAL_WORDING if fragment in text] == []

    def test_it_says_where_it_comes_from(self) -> None:
        table = reason_table()
        assert table.version == "2026.1"
        assert "own plain-language summaries" in table.provenance
        assert "NOT the code lists' official descriptions" in table.provenance

    def test_it_explains_a_code_whatever_its_case_or_spacing(self) -> None:
        reason = reason_table().explain("CARC", " b7 ")
        assert (reason.kind, reason.code, reason.known) == (ReasonKind.CARC, "B7", True)
        assert "enrollment" in reason.therapy_cause.lower()

    def test_a_carc_and_a_rarc_with_the_same_number_are_kept_apart(self) -> None:
        table = reason_table()
        assert table.explain(ReasonKind.CARC, "97").known
        assert not table.explain(ReasonKind.RARC, "97").known

    def test_an_unknown_code_gets_an_honest_answer(self) -> None:
        reason = reason_table().explain(ReasonKind.RARC, "N9999")
        assert reason.known is False
        assert reason.meaning == (
            "RARC N9999 is not in Handrail's table (version 2026.1); read its official "
            "description in the CMS RARC list."
        )
        assert (reason.therapy_cause, reason.fix) == ("", "")
        assert reason.to_dict()["known"] is False

    def test_it_explains_group_codes(self) -> None:
        table = reason_table()
        assert table.group("pr").startswith("Patient responsibility")
        assert table.group("XX") == (
            "'XX' is not a claim adjustment group code (CO, PR, OI, PI, CR)"
        )

    def test_an_unknown_kind_is_refused(self) -> None:
        with pytest.raises(ValueError):
            reason_table().explain("CAGC", "1")


class ParseReasonTableTests:
    def _with_entry(self, entry: object) -> dict[str, Any]:
        document = copy.deepcopy(_document())
        document["codes"].append(entry)
        return document

    def test_a_repeated_code_is_refused(self) -> None:
        entry = {"kind": "CARC", "code": "45", "meaning": "m.", "therapy_cause": "c.", "fix": "f."}
        position = len(_document()["codes"])
        with pytest.raises(ReasonTableError, match=rf"codes\[{position}\]: CARC 45 is repeated"):
            parse_reason_table(self._with_entry(entry))

    def test_an_unknown_field_is_refused(self) -> None:
        entry = {
            "kind": "RARC", "code": "N1", "meaning": "m.", "therapy_cause": "c.", "fix": "f.",
            "official": "copied text",
        }  # fmt: skip
        with pytest.raises(ReasonTableError, match="unknown field"):
            parse_reason_table(self._with_entry(entry))

    def test_an_empty_fix_is_refused_naming_the_field(self) -> None:
        entry = {"kind": "RARC", "code": "N1", "meaning": "m.", "therapy_cause": "c.", "fix": " "}
        with pytest.raises(ReasonTableError, match=r"\.fix: missing or empty"):
            parse_reason_table(self._with_entry(entry))

    def test_a_lower_case_code_is_refused(self) -> None:
        entry = {"kind": "CARC", "code": "b9", "meaning": "m.", "therapy_cause": "c.", "fix": "f."}
        with pytest.raises(ReasonTableError, match="must be upper case"):
            parse_reason_table(self._with_entry(entry))

    def test_an_unknown_kind_is_refused(self) -> None:
        entry = {"kind": "XYZ", "code": "1", "meaning": "m.", "therapy_cause": "c.", "fix": "f."}
        with pytest.raises(ReasonTableError, match="is not CARC or RARC"):
            parse_reason_table(self._with_entry(entry))

"""The engine's code reference, over the built-in tables (real PTP and MUE releases)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from handrail.officialdata import load_ruleset
from handrail.rules.catalog import CATALOG
from handrail.rules.model import RuleInputError
from handrail.rules.reference import code_reference, nearest_codes
from handrail.rules.tables import EditTables

ON = date(2026, 3, 2)
SUMMARY = "Handrail code reference, in our own words"


@pytest.fixture(scope="module")
def edits(tmp_path_factory: pytest.TempPathFactory) -> EditTables:
    return load_ruleset(data_dir=Path(tmp_path_factory.mktemp("data"))).edits


class CodeReferenceTests:
    def test_it_answers_for_97535(self, edits: EditTables) -> None:
        ref = code_reference("97535", ON, edits)
        assert (ref.code, ref.name, ref.disciplines) == (
            "97535",
            "Self-care/home management training",
            ("PT", "OT"),
        )
        assert ref.neighbours == ("97550", "97552", "97110", "97530", "97537")
        assert ref.covers.source.label() == SUMMARY
        assert ref.timing.text == (
            "timed: 15-minute units under the day's total of timed minutes (8-minute rule)"
        )
        assert [fact.text for fact in ref.furnished_by] == [
            "the patient is present",
            "therapist, or in whole or in part a PT assistant (CQ, paid at 85% when over the "
            "10% de minimis) or OT assistant (CO, paid at 85% when over the 10% de minimis)",
        ]
        assert ref.documentation[0].text == (
            "a note with each element in its own field: baseline, task, technique, skilled, "
            "performance"
        )
        assert ref.documentation[0].source.label().endswith("[unverified]")
        assert ref.mue.text == (
            "at most 8 unit(s) per patient per day (MUE Medicaid practitioner 2026Q1 (derived))"
        )
        assert ref.telehealth.source.verified is False
        assert ref.status == ()

    def test_it_says_an_assistant_does_not_evaluate(self, edits: EditTables) -> None:
        ref = code_reference("97161", ON, edits)
        assert [fact.text for fact in ref.furnished_by] == [
            "the patient is present",
            "the therapist only: assistants do not evaluate",
        ]
        assert not any("CQ/CO" in fact.text for fact in ref.modifiers)

    def test_it_marks_caregiver_only_codes_and_their_dates(self, edits: EditTables) -> None:
        before = code_reference("97550", date(2023, 12, 31), edits)
        assert before.furnished_by[0].text.startswith("caregiver only: ")
        assert [fact.text for fact in before.status] == [
            "did not exist on 2023-12-31: payable from 2024-01-01"
        ]
        for on, text in (
            (date(2024, 12, 31), "not on the Medicare telehealth list on 2024-12-31 "),
            (
                date(2025, 1, 1),
                "on the Medicare telehealth list on 2025-01-01 (2025-01-01..2025-12-31)",
            ),
        ):
            assert code_reference("97551", on, edits).telehealth.text.startswith(text)
        assert [f.text for f in code_reference("97551", ON, edits).status] == [
            "add-on: billed only with 97550"
        ]

    def test_it_names_the_ncci_pair_and_says_when_no_mue_release_covers_the_date(
        self, edits: EditTables
    ) -> None:
        pairs = [fact.text for fact in code_reference("97530", ON, edits).ncci_pairs]
        assert pairs == [
            "97140 (column 1) with 97530 (column 2): a 59/X modifier on the column-2 code "
            "bypasses it when the services are distinct"
        ]
        assert code_reference("97535", date(2025, 6, 2), edits).mue.text == (
            "no MUE release covers 2025-06-02: not checked"
        )

    def test_it_has_telehealth_outside_the_window_as_not_billable(self, edits: EditTables) -> None:
        for on, billable in (
            (date(2020, 2, 29), False),
            (date(2020, 3, 1), True),
            (date(2027, 12, 31), True),
            (date(2028, 1, 1), False),
        ):
            text = code_reference("97110", on, edits).telehealth.text
            assert text.startswith("not billable by telehealth") is not billable

    def test_it_answers_for_every_catalog_code(self, edits: EditTables) -> None:
        for code in CATALOG:
            ref = code_reference(code.lower(), ON, edits)
            assert ref.code == code and ref.covers.text and ref.boundaries
            assert code not in ref.neighbours

    def test_it_refuses_an_unknown_code_naming_the_nearest(self, edits: EditTables) -> None:
        with pytest.raises(RuleInputError) as caught:
            code_reference("97536", ON, edits)
        assert str(caught.value) == (
            "CODE: '97536' is not a code Handrail knows; nearest: 97535, 97537, 97533"
        )
        assert nearest_codes("zzz") == []
        assert nearest_codes("97530x") == ["97530", "97750", "97550"]

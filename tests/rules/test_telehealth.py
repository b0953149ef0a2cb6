"""The dated Medicare telehealth list of therapy codes, and what a visit is told about it."""

from __future__ import annotations

from datetime import date

import pytest

from handrail.rules import telehealth
from handrail.rules.catalog import CATALOG
from handrail.rules.model import Explanation
from handrail.rules.visit import telehealth_findings
from handrail.rules.visit_record import visit_record_from_dict


def telehealth_visit(day: str, code: str, payer: str = "medicare") -> tuple[list[str], list[str]]:
    record = visit_record_from_dict(
        {
            "date": day,
            "discipline": "OT",
            "telehealth": "home",
            "payer": {"type": payer},
            "patient_present": False,
            "lines": [{"code": "97110", "minutes": 15}, {"code": code, "minutes": 30}],
        }
    )
    explanation = Explanation()
    found = telehealth_findings(record, explanation)
    return [f"{f.rule}@{f.line}: {f.message}" for f in found], explanation.steps


class TelehealthListTests:
    @pytest.mark.parametrize(
        ("day", "verified"),
        [
            ("2024-01-01", None),
            ("2024-12-31", None),
            ("2025-01-01", True),
            ("2025-12-31", True),
            ("2026-01-01", False),
            ("2027-12-31", False),
        ],
    )
    @pytest.mark.parametrize("code", ["97550", "97551", "97552"])
    def test_it_sweeps_the_caregiver_codes_from_absent_to_provisional(
        self, code: str, day: str, verified: bool | None
    ) -> None:
        listed = telehealth.listing_on(code, date.fromisoformat(day))
        if verified is None:
            assert listed is None
        else:
            assert listed is not None and listed.source.verified is verified

    @pytest.mark.parametrize(
        ("day", "verified"),
        [
            ("2020-02-29", None),
            ("2020-03-01", True),
            ("2023-05-11", True),
            ("2023-05-12", False),
            ("2026-12-31", False),
        ],
    )
    @pytest.mark.parametrize("code", telehealth.PT_CODES_FROM_PHE)
    def test_it_sweeps_the_pt_codes_over_the_phe_and_after(
        self, code: str, day: str, verified: bool | None
    ) -> None:
        listed = telehealth.listing_on(code, date.fromisoformat(day))
        if verified is None:
            assert listed is None
        else:
            assert listed is not None and listed.source.verified is verified

    def test_it_lists_only_catalog_codes_with_a_source_for_each_row(self) -> None:
        for row in telehealth.TELEHEALTH_LIST:
            assert row.code in CATALOG
            assert row.source.citation
            assert row.effective_to is None or row.effective_from <= row.effective_to

    def test_it_never_has_two_rows_of_one_code_on_one_day(self) -> None:
        for code in CATALOG:
            rows = telehealth.listings(code)
            for before, after in zip(rows, rows[1:], strict=False):
                assert (
                    before.effective_to is not None and before.effective_to < after.effective_from
                )

    @pytest.mark.parametrize(
        ("day", "expected"),
        [
            (
                "2024-12-31",
                [
                    "telehealth.code-not-listed@1: 97550 is not on the Medicare telehealth list "
                    "on 2024-12-31; it is listed 2025-01-01..2025-12-31, 2026-01-01..onward: "
                    "furnished by telehealth it will deny"
                ],
            ),
            ("2025-01-01", []),
        ],
    )
    def test_it_refuses_97550_by_telehealth_in_2024(self, day: str, expected: list[str]) -> None:
        found, steps = telehealth_visit(day, "97550")
        assert found == expected
        assert any(step.startswith("Telehealth list: 97110 is on") for step in steps)

    def test_it_cites_the_2025_addition_as_the_source_of_the_2024_refusal(self) -> None:
        record = visit_record_from_dict(
            {
                "date": "2024-06-03",
                "discipline": "OT",
                "telehealth": "other",
                "patient_present": False,
                "lines": [{"code": "97552", "minutes": 30}],
            }
        )
        (found,) = telehealth_findings(record, Explanation())
        assert found.source is telehealth.SOURCE_CAREGIVER_2025
        assert found.source.verified

    def test_it_checks_no_code_for_another_payer(self) -> None:
        assert telehealth_visit("2024-06-03", "97550", payer="commercial") == ([], [])

    def test_it_says_only_the_window_outside_it(self) -> None:
        found, _ = telehealth_visit("2028-01-03", "97140")
        assert [line.split(":")[0] for line in found] == ["telehealth.outside-window@None"]

    @pytest.mark.parametrize(
        ("day", "verified"),
        [("2024-01-01", True), ("2024-12-31", True), ("2025-01-01", False), ("2026-06-01", False)],
    )
    def test_it_labels_modifier_95_unverified_from_2025(self, day: str, verified: bool) -> None:
        assert telehealth.modifier_95_source(date.fromisoformat(day)).verified is verified

"""A year past Handrail's own tables, priced from the clinic's imported CMS files."""

from __future__ import annotations

import copy
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from handrail.officialdata import load_ruleset
from handrail.officialdata.service import run_import
from handrail.rules.conversion import conversion_factor
from handrail.rules.model import RuleInputError
from handrail.rules.visit import evaluate_visit
from handrail.rules.visit_record import visit_record_from_dict
from tests.officialdata.samples import pfs_row, write_pfs

FEBRUARY_3_2027 = date(2027, 2, 3)
JANUARY_2027 = "2027 National Physician Fee Schedule Relative Value File January Release"
VISIT: dict[str, Any] = {
    "date": "2027-02-03",
    "payer": {"type": "medicare", "unit_rule": "cms"},
    "discipline": "OT",
    "diagnoses": ["Z47.1"],
    "threshold": {"accrued_before": 2600, "medical_necessity_attested": False},
    "lines": [
        {
            "code": "97535",
            "minutes": 24,
            "note": {
                "baseline": "Needs moderate assist to don a pullover shirt.",
                "task": "Upper-body dressing seated at the edge of the bed.",
                "technique": "One-handed dressing method, weak arm first.",
                "skilled": "Motor planning errors need graded cues from a therapist.",
                "performance": "Donned the shirt with minimal assist and 2 verbal cues.",
            },
        }
    ],
}


def import_2027(folder: Path) -> None:
    path = write_pfs(
        folder / "PPRRVU2027_Jan_nonQPP.csv",
        [pfs_row("97535", work="0.45", pe="0.52", mp="0.01", cf="34.1234")],
        title=JANUARY_2027,
    )
    run_import("pfs", path, data_dir=folder)


class NewYearTests:
    def test_it_takes_the_conversion_factor_from_the_imported_file(self, tmp_path: Path) -> None:
        import_2027(tmp_path)
        fees = load_ruleset(data_dir=tmp_path).fees
        factor = conversion_factor(FEBRUARY_3_2027, fees=fees)
        assert (factor.amount, factor.label, factor.source.label()) == (
            Decimal("34.1234"),
            "CY2027 non-qualifying APM (from RVU27A)",
            "CMS PFS RVU27A (CONV FACTOR column)",
        )
        with pytest.raises(RuleInputError, match="import the year's qualifying APM"):
            conversion_factor(FEBRUARY_3_2027, qp=True, fees=fees)

    def test_it_prices_a_2027_visit_and_says_kx_was_not_checked(self, tmp_path: Path) -> None:
        import_2027(tmp_path)
        result = evaluate_visit(
            visit_record_from_dict(copy.deepcopy(VISIT)), load_ruleset(data_dir=tmp_path)
        )
        document = result.to_dict()
        # (0.45 + 0.52 + 0.01) x 34.1234 = 33.44; the second unit, half PE: 0.72 x 34.1234 = 24.57
        assert [(line["code"], line["unit_amounts"]) for line in document["claim_lines"]] == [
            ("97535", [33.44, 24.57])
        ]
        assert document["claim_lines"][0]["fee_schedule"] == "RVU27A"
        assert document["threshold"]["applies"] is False
        finding = next(f for f in document["findings"] if f["rule"] == "threshold.unknown-year")
        assert (finding["severity"], finding["message"]) == (
            "warning",
            "No 2027 therapy (KX) threshold is known to this Handrail release: whether this "
            "visit needs KX was not checked",
        )

    def test_it_names_the_file_to_import_when_the_year_has_none(self, tmp_path: Path) -> None:
        with pytest.raises(RuleInputError) as error:
            evaluate_visit(
                visit_record_from_dict(copy.deepcopy(VISIT)), load_ruleset(data_dir=tmp_path)
            )
        assert error.value.field == "date"
        assert "import the year's PPRRVU file (`handrail data import pfs FILE`)" in (
            error.value.message
        )

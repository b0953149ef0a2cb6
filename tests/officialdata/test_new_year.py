"""A year outside Handrail's own tables, later or earlier, priced from imported CMS files."""

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
        with pytest.raises(RuleInputError) as error:
            conversion_factor(FEBRUARY_3_2027, qp=True, fees=fees)
        assert error.value.message == (
            "no Medicare conversion factor is loaded for 2027-02-03 (Handrail ships "
            "CY2023-CY2026); import the CY2027 qualifying APM (QPP) PPRRVU file with "
            "`handrail data import pfs FILE`: its CONV FACTOR column gives it"
        )

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
        assert error.value.message == (
            "no Medicare conversion factor is loaded for 2027-02-03 (Handrail ships "
            "CY2023-CY2026); import the CY2027 PPRRVU file with `handrail data import pfs FILE`: "
            "its CONV FACTOR column gives it"
        )
        import_2027(tmp_path)  # doing what the message says makes the visit priceable
        result = evaluate_visit(
            visit_record_from_dict(copy.deepcopy(VISIT)), load_ruleset(data_dir=tmp_path)
        )
        assert result.to_dict()["payment"]["allowed"] == 58.01


JUNE_1_2022 = date(2022, 6, 1)
OCTOBER_2022 = "2022 National Physician Fee Schedule Relative Value File October Release"


def import_2022(folder: Path) -> None:
    path = write_pfs(
        folder / "PPRRVU22_OCT.csv",
        [pfs_row("97535", work="0.45", pe="0.50", mp="0.02", cf="34.0000")],
        title=OCTOBER_2022,
    )
    run_import("pfs", path, data_dir=folder)


class OldYearTests:
    """A year before Handrail's first factor (CY2023) whose KX threshold it knows (2018+)."""

    def test_it_takes_the_conversion_factor_from_the_imported_file(self, tmp_path: Path) -> None:
        import_2022(tmp_path)
        fees = load_ruleset(data_dir=tmp_path).fees
        # Before CY2026 one factor applies to everyone: --qp changes nothing.
        for qp in (False, True):
            factor = conversion_factor(JUNE_1_2022, qp=qp, fees=fees)
            assert (factor.amount, factor.label, factor.source.label()) == (
                Decimal("34.0000"),
                "CY2022 (from RVU22D)",
                "CMS PFS RVU22D (CONV FACTOR column)",
            )

    def test_it_prices_a_2022_visit_with_its_kx_threshold(self, tmp_path: Path) -> None:
        import_2022(tmp_path)
        record = copy.deepcopy(VISIT) | {"date": "2022-06-01"}
        document = evaluate_visit(
            visit_record_from_dict(record), load_ruleset(data_dir=tmp_path)
        ).to_dict()
        # A made-up factor. (0.45 + 0.50 + 0.02) x 34 = 32.98; the second unit at half PE:
        # 0.72 x 34 = 24.48
        assert [(line["code"], line["unit_amounts"]) for line in document["claim_lines"]] == [
            ("97535", [32.98, 24.48])
        ]
        assert (document["threshold"]["year"], document["threshold"]["amount"]) == (2022, 2150.0)

    def test_it_gives_advice_that_works_for_a_2022_visit(self, tmp_path: Path) -> None:
        record = copy.deepcopy(VISIT) | {"date": "2022-06-01"}
        with pytest.raises(RuleInputError) as error:
            evaluate_visit(visit_record_from_dict(record), load_ruleset(data_dir=tmp_path))
        assert error.value.message.endswith(
            "import the CY2022 PPRRVU file with `handrail data import pfs FILE`: its CONV "
            "FACTOR column gives it"
        )
        import_2022(tmp_path)
        result = evaluate_visit(visit_record_from_dict(record), load_ruleset(data_dir=tmp_path))
        assert result.to_dict()["payment"]["allowed"] == 57.46

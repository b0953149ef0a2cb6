"""Which release answers for a date of service, and imported-over-built-in precedence."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

from handrail.officialdata import load_ruleset
from handrail.officialdata.service import run_import
from tests.officialdata.samples import (
    cms_file,
    pfs_row,
    ptp_line,
    write_lines,
    write_mue,
    write_pfs,
    write_ptp,
)

JANUARY_2026 = "2026 National Physician Fee Schedule Relative Value File January Release"
JULY_2026 = "2026 National Physician Fee Schedule Relative Value File July Release"
OCTOBER_2025 = "2025 National Physician Fee Schedule Relative Value File October Release"


def zip_record(zip5: str, mac: str, locality: str, stamp: str) -> str:
    return f"AK{zip5}{mac}{locality} Z9   0 A".ljust(75) + stamp


class FeeScheduleSelectionTests:
    def test_it_serves_the_builtin_release_of_the_year(self, tmp_path: Path) -> None:
        fees = load_ruleset(data_dir=tmp_path).fees
        july = fees.rvu("97535", date(2026, 8, 1))
        march = fees.rvu("97535", date(2026, 3, 1))  # before RVU26C: the year's earliest
        autumn = fees.rvu("97535", date(2025, 12, 31))
        assert july is not None and march is not None and autumn is not None
        assert (july.release.label, march.release.label, autumn.release.label) == (
            "RVU26C",
            "RVU26C",
            "RVU25D",
        )
        assert july.release.builtin is True
        assert (july.pe_nonfacility, autumn.pe_nonfacility) == (Decimal("0.51"), Decimal("0.53"))

    def test_it_has_nothing_for_a_year_without_a_release(self, tmp_path: Path) -> None:
        fees = load_ruleset(data_dir=tmp_path).fees
        assert fees.rvu("97535", date(2024, 6, 1)) is None
        assert fees.rvu("97535", date(2027, 1, 1)) is None
        assert fees.gpci("01182", "18", date(2024, 6, 1)) is None

    def test_it_picks_the_latest_release_effective_on_the_date(self, tmp_path: Path) -> None:
        january = write_pfs(
            tmp_path / "jan.csv", [pfs_row("97535", work="0.50")], title=JANUARY_2026
        )
        assert run_import("pfs", january, data_dir=tmp_path).label == "RVU26A"
        fees = load_ruleset(data_dir=tmp_path).fees
        picks = [
            fees.rvu("97535", date(2026, month, day)) for month, day in ((1, 1), (6, 30), (7, 1))
        ]
        assert [(r.release.label, r.work) for r in picks if r is not None] == [
            ("RVU26A", Decimal("0.50")),
            ("RVU26A", Decimal("0.50")),
            ("RVU26C", Decimal("0.45")),
        ]

    def test_it_prefers_an_import_over_the_builtin_of_the_same_date(self, tmp_path: Path) -> None:
        path = write_pfs(tmp_path / "july.csv", [pfs_row("97535", work="0.99")], title=JULY_2026)
        run_import("pfs", path, data_dir=tmp_path)
        fees = load_ruleset(data_dir=tmp_path).fees
        row = fees.rvu("97535", date(2026, 3, 1))
        assert row is not None
        assert (row.work, row.release.label, row.release.builtin) == (
            Decimal("0.99"),
            "RVU26C",
            False,
        )
        # The import replaces the built-in release for that date: codes it lacks are missing.
        assert fees.rvu("97110", date(2026, 8, 1)) is None
        assert fees.rvu("97110", date(2025, 11, 1)) is not None

    def test_it_serves_gpcis_by_calendar_year(self, tmp_path: Path) -> None:
        for name in ("GPCI2025.csv", "GPCI2026.csv"):
            run_import("gpci", cms_file(name), data_dir=tmp_path)
        fees = load_ruleset(data_dir=tmp_path).fees
        end_2025 = fees.gpci("01182", "18", date(2025, 12, 31))
        start_2026 = fees.gpci("01182", "18", date(2026, 1, 1))
        assert end_2025 is not None and start_2026 is not None
        assert (end_2025.release.label, end_2025.mp) == ("GPCI2025", Decimal("0.690"))
        assert (start_2026.release.label, start_2026.mp) == ("GPCI2026", Decimal("0.664"))
        assert fees.gpci("01182", "98", date(2026, 1, 1)) is None

    def test_it_serves_the_latest_zip_quarter_else_the_earliest(self, tmp_path: Path) -> None:
        run_import("zip5", cms_file("ZIP5_OCT2025.txt"), data_dir=tmp_path)
        path = write_lines(
            tmp_path / "ZIP5_APR2026.txt", [zip_record("99501", "02102", "77", "20262")]
        )
        assert run_import("zip5", path, data_dir=tmp_path).label == "ZIP5 2026Q2"
        fees = load_ruleset(data_dir=tmp_path).fees
        early = fees.locality_for_zip("99501", date(2024, 1, 2))
        before = fees.locality_for_zip("99501", date(2026, 3, 31))
        after = fees.locality_for_zip("99501", date(2026, 4, 1))
        assert early is not None and before is not None and after is not None
        assert (early.release.label, early.locality) == ("ZIP5 2025Q4", "01")
        assert (before.release.label, before.locality) == ("ZIP5 2025Q4", "01")
        assert (after.release.label, after.locality) == ("ZIP5 2026Q2", "77")


class EditSelectionTests:
    def test_it_serves_the_builtin_therapy_pair(self, tmp_path: Path) -> None:
        edits = load_ruleset(data_dir=tmp_path).edits
        (edit,) = edits.ptp_pairs(["97530", "97140", "97110"], date(2025, 5, 5))
        assert (edit.column1, edit.column2, edit.modifier_indicator) == ("97140", "97530", 1)
        assert edit.effective == date(2000, 1, 1) and edit.deleted is None
        assert edit.rationale == (
            "CMS 'Proper use of modifier 59' article, example 9 (distinct 15-minute time blocks)"
        )
        assert (edit.release.source.verified, edit.release.source.note) == (
            False,
            "effective date unverified",
        )
        assert edits.ptp_pairs(["97530"], date(2025, 5, 5)) == []

    def test_it_lets_an_imported_ptp_release_take_over_from_its_date(self, tmp_path: Path) -> None:
        path = write_ptp(tmp_path / "ccipra.txt", [ptp_line("97110", "97530")])
        run_import("ptp", path, release="NCCI PTP 2026Q3", data_dir=tmp_path)
        edits = load_ruleset(data_dir=tmp_path).edits
        codes = ["97110", "97140", "97530"]
        before = edits.ptp_pairs(codes, date(2026, 6, 30))
        after = edits.ptp_pairs(codes, date(2026, 7, 1))
        assert [(e.column1, e.release.label) for e in before] == [
            ("97140", "NCCI PTP therapy excerpt (built-in)")
        ]
        assert [(e.column1, e.release.label) for e in after] == [("97110", "NCCI PTP 2026Q3")]

    def test_it_has_no_mue_before_the_first_release(self, tmp_path: Path) -> None:
        edits = load_ruleset(data_dir=tmp_path).edits
        assert edits.mue("97535", date(2025, 12, 31)) is None
        edit = edits.mue("97535", date(2026, 1, 1))
        assert edit is not None
        assert (edit.max_units, edit.release.label, edit.release.source.verified) == (
            8,
            "MUE Medicaid practitioner 2026Q1 (derived)",
            False,
        )

    def test_it_prefers_an_imported_medicare_mue_release_from_its_date(
        self, tmp_path: Path
    ) -> None:
        rows = ["97535,6,3 Date of Service Edit: Clinical,Clinical: Medicare Data"]
        path = write_mue(tmp_path / "MCR_MUE_PractitionerServices_Eff_04-01-2026.csv", rows)
        run_import("mue", path, data_dir=tmp_path)
        edits = load_ruleset(data_dir=tmp_path).edits
        march = edits.mue("97535", date(2026, 3, 31))
        april = edits.mue("97535", date(2026, 4, 1))
        assert march is not None and april is not None
        assert (march.max_units, april.max_units, april.adjudication_indicator) == (8, 6, 3)
        assert edits.mue("97110", date(2026, 4, 1)) is None

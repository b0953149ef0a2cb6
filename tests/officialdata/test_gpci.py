"""Importing the CMS GPCI table (PFS Addendum E)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from handrail.officialdata import load_ruleset
from handrail.officialdata.errors import OfficialDataError
from handrail.officialdata.service import data_status, run_import
from tests.officialdata.samples import cms_file, write_lines

HEADER = [
    "ADDENDUM E. FINAL CY 2026 GEOGRAPHIC PRACTICE COST INDICES (GPCIs) BY STATE AND MEDICARE"
    " LOCALITY,,,,,,",
    ",,,,,,",
    "Medicare Administrative Contractor (MAC),State,Locality Number,Locality Name,"
    "2026 PW GPCI (with 1.0 Floor)***,2026 PE GPCI,2026 MP GPCI",
]
ALABAMA = "10112,AL,00,ALABAMA,1.000,0.875,0.566"
ALASKA = "02102,AK,01,ALASKA*,1.500,1.065,0.551"
FOOTNOTES = [",,,,,,", "*Work GPCI reflects a 1.5 floor in Alaska.,,,,,,", ",,,,,,"]


class GpciImportTests:
    def test_it_imports_both_real_years(self, tmp_path: Path) -> None:
        first = run_import("gpci", cms_file("GPCI2025.csv"), data_dir=tmp_path)
        second = run_import("gpci", cms_file("GPCI2026.csv"), data_dir=tmp_path)
        assert (first.label, first.rows, first.effective_from) == (
            "GPCI2025",
            109,
            date(2025, 1, 1),
        )
        assert (second.label, second.rows, second.effective_to) == (
            "GPCI2026",
            109,
            date(2026, 12, 31),
        )
        fees = load_ruleset(data_dir=tmp_path).fees
        la_2026 = fees.gpci("01182", "18", date(2026, 3, 2))
        la_2025 = fees.gpci("01182", "18", date(2025, 3, 3))
        assert la_2026 is not None and la_2025 is not None
        assert (la_2026.work, la_2026.pe, la_2026.mp) == (
            Decimal("1.041"),
            Decimal("1.183"),
            Decimal("0.664"),
        )
        assert (la_2025.work, la_2025.pe, la_2025.mp) == (
            Decimal("1.042"),
            Decimal("1.194"),
            Decimal("0.690"),
        )
        assert (la_2026.release.label, la_2026.release.builtin) == ("GPCI2026", False)

    def test_it_strips_the_footnote_asterisks_from_names(self, tmp_path: Path) -> None:
        run_import("gpci", cms_file("GPCI2025.csv"), data_dir=tmp_path)
        fees = load_ruleset(data_dir=tmp_path).fees
        alaska = fees.gpci("02102", "01", date(2025, 6, 1))
        wyoming = fees.gpci("03602", "21", date(2025, 6, 1))
        assert alaska is not None and wyoming is not None
        assert (alaska.name, alaska.work) == ("ALASKA", Decimal("1.5"))
        assert (wyoming.name, wyoming.state, wyoming.pe) == ("WYOMING", "WY", Decimal("1"))

    def test_it_reads_the_floored_work_gpci_when_both_are_printed(self, tmp_path: Path) -> None:
        header = [
            HEADER[0],
            "MAC,State,Locality Number,Locality Name,2026 PW GPCI (without 1.0 Floor),"
            "2026 PW GPCI (with 1.0 Floor),2026 PE GPCI,2026 MP GPCI",
        ]
        path = write_lines(
            tmp_path / "GPCI2026.csv", [*header, "10112,AL,00,ALABAMA*,0.988,1.000,0.875,0.566"]
        )
        run_import("gpci", path, data_dir=tmp_path)
        alabama = load_ruleset(data_dir=tmp_path).fees.gpci("10112", "00", date(2026, 5, 1))
        assert alabama is not None
        assert (alabama.work, alabama.pe, alabama.mp) == (
            Decimal("1.000"),
            Decimal("0.875"),
            Decimal("0.566"),
        )

    def test_it_stops_at_the_footnotes(self, tmp_path: Path) -> None:
        path = write_lines(tmp_path / "GPCI2026.csv", [*HEADER, ALABAMA, ALASKA, *FOOTNOTES])
        summary = run_import("gpci", path, data_dir=tmp_path)
        assert summary.rows == 2

    def test_it_rejects_an_empty_row_between_localities(self, tmp_path: Path) -> None:
        path = write_lines(tmp_path / "GPCI2026.csv", [*HEADER, ALABAMA, ",,,,,,", ALASKA])
        with pytest.raises(OfficialDataError) as caught:
            run_import("gpci", path, data_dir=tmp_path)
        assert str(caught.value).startswith(f"{path}:5: an empty row in the middle of the data;")

    def test_it_rejects_a_malformed_row_in_the_middle(self, tmp_path: Path) -> None:
        run_import("gpci", write_lines(tmp_path / "a.csv", [*HEADER, ALABAMA]), data_dir=tmp_path)
        bad = "02102,AK,01,ALASKA*,1.500,one,0.551"
        path = write_lines(tmp_path / "GPCI2026.csv", [*HEADER, ALABAMA, bad, *FOOTNOTES])
        with pytest.raises(OfficialDataError) as caught:
            run_import("gpci", path, data_dir=tmp_path)
        assert str(caught.value).startswith(
            f"{path}:5: PE GPCI 'one' is not a number of zero or more;"
        )
        statuses = [(s.label, s.rows) for s in data_status(data_dir=tmp_path) if not s.builtin]
        assert statuses == [("GPCI2026", 1)]

    def test_it_rejects_a_locality_row_cut_short_at_the_end(self, tmp_path: Path) -> None:
        path = write_lines(tmp_path / "GPCI2026.csv", [*HEADER, ALABAMA, "02102,AK,01,ALA"])
        with pytest.raises(OfficialDataError) as caught:
            run_import("gpci", path, data_dir=tmp_path)
        assert str(caught.value).startswith(f"{path}:5: expected 7 fields, found 4;")

    def test_it_says_a_fee_schedule_is_not_a_gpci_file(self, tmp_path: Path) -> None:
        path = cms_file("PPRRVU2025_Oct_97xxx_extract.csv")
        with pytest.raises(OfficialDataError) as caught:
            run_import("gpci", path, data_dir=tmp_path)
        assert "this looks like a pfs file" in str(caught.value)

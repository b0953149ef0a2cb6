"""Importing the CMS ZIP code to carrier locality file (ZIP5)."""

from __future__ import annotations

import sqlite3
from datetime import date
from pathlib import Path

import pytest

from handrail.officialdata import load_ruleset
from handrail.officialdata.errors import OfficialDataError
from handrail.officialdata.service import run_import
from tests.officialdata.samples import cms_file, write_lines


def record(zip5: str, mac: str, locality: str, stamp: str = "20254", state: str = "AK") -> str:
    return f"{state}{zip5}{mac}{locality} Z9   0 A".ljust(75) + stamp


class Zip5ImportTests:
    def test_it_imports_the_real_2025q4_file(self, tmp_path: Path) -> None:
        summary = run_import("zip5", cms_file("ZIP5_OCT2025.txt"), data_dir=tmp_path)
        assert (summary.label, summary.rows, summary.effective_from) == (
            "ZIP5 2025Q4",
            42956,
            date(2025, 10, 1),
        )
        fees = load_ruleset(data_dir=tmp_path).fees
        anchorage = fees.locality_for_zip("99501", date(2026, 2, 2))
        assert anchorage is not None
        assert (anchorage.state, anchorage.mac, anchorage.locality) == ("AK", "02102", "01")
        assert anchorage.release.label == "ZIP5 2025Q4"
        assert fees.locality_for_zip("00000", date(2026, 2, 2)) is None

    def test_it_keeps_the_plus_four_flag_of_zips_that_span_localities(
        self, tmp_path: Path
    ) -> None:
        run_import("zip5", cms_file("ZIP5_OCT2025.txt"), data_dir=tmp_path)
        with sqlite3.connect(tmp_path / "official-data.sqlite3") as db:
            (count,) = db.execute("SELECT SUM(plus_four) FROM zip5_row").fetchone()
        assert count == 580

    def test_it_rejects_a_short_record(self, tmp_path: Path) -> None:
        lines = [record("99501", "02102", "01"), record("99502", "02102", "01")[:30]]
        path = write_lines(tmp_path / "ZIP5_OCT2025.txt", lines)
        with pytest.raises(OfficialDataError) as caught:
            run_import("zip5", path, data_dir=tmp_path)
        assert str(caught.value).startswith(
            f"{path}:2: the record has 30 characters, expected 80;"
        )

    def test_it_rejects_a_file_mixing_quarters(self, tmp_path: Path) -> None:
        lines = [record("99501", "02102", "01"), record("99502", "02102", "01", stamp="20261")]
        path = write_lines(tmp_path / "ZIP5.txt", lines)
        with pytest.raises(OfficialDataError, match=r":2: year/quarter '20261' differs"):
            run_import("zip5", path, data_dir=tmp_path)

    def test_it_says_a_gpci_file_is_not_a_zip_file(self, tmp_path: Path) -> None:
        path = cms_file("GPCI2025.csv")
        with pytest.raises(OfficialDataError, match="this looks like a gpci file"):
            run_import("zip5", path, data_dir=tmp_path)

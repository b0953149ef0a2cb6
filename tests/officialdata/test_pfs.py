"""Importing the CMS PFS relative value file (PPRRVU*.csv)."""

from __future__ import annotations

import shutil
import zipfile
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from handrail.officialdata import load_ruleset
from handrail.officialdata.errors import OfficialDataError
from handrail.officialdata.service import data_status, run_import
from handrail.rules.catalog import CATALOG
from tests.officialdata.samples import PFS_HEADER_LINES, cms_file, pfs_row, write_pfs


def imported(data_dir: Path) -> list[tuple[str, str, int]]:
    return [(s.kind, s.label, s.rows) for s in data_status(data_dir=data_dir) if not s.builtin]


class PfsImportTests:
    def test_it_imports_the_cy2025_october_file(self, tmp_path: Path) -> None:
        summary = run_import("pfs", cms_file("PPRRVU2025_Oct.csv"), data_dir=tmp_path)
        assert summary.messages == (
            "imported 19090 pfs rows as release RVU25D (effective 2025-10-01)",
        )
        assert (summary.label, summary.effective_from, summary.effective_to) == (
            "RVU25D",
            date(2025, 10, 1),
            date(2025, 12, 31),
        )
        assert summary.rows == 19090
        assert summary.conversion_factor == Decimal("32.3465")
        assert summary.qp is False
        assert summary.sha256.startswith("8af460f3") and summary.sha256.endswith("23c56")
        row = load_ruleset(data_dir=tmp_path).fees.rvu("97535", date(2025, 11, 3))
        assert row is not None
        assert (row.work, row.pe_nonfacility, row.pe_facility, row.mp) == (
            Decimal("0.45"),
            Decimal("0.53"),
            Decimal("0.53"),
            Decimal("0.01"),
        )
        assert (row.status, row.pctc, row.mult_proc, row.global_days) == ("A", "7", "5", "XXX")
        assert row.facility_na is True
        assert row.conversion_factor == Decimal("32.3465")
        assert (row.release.label, row.release.builtin) == ("RVU25D", False)

    def test_it_imports_the_cy2026_july_file_with_its_extra_column(self, tmp_path: Path) -> None:
        summary = run_import("pfs", cms_file("PPRRVU2026_Jul_nonQPP.csv"), data_dir=tmp_path)
        assert (summary.label, summary.effective_from) == ("RVU26C", date(2026, 7, 1))
        assert summary.rows == 19356
        assert summary.conversion_factor == Decimal("33.4009")
        assert summary.sha256.startswith("b7d197e7") and summary.sha256.endswith("ee21")
        fees = load_ruleset(data_dir=tmp_path).fees
        row = fees.rvu("97535", date(2026, 8, 3))
        assert row is not None
        assert (row.work, row.pe_nonfacility, row.mp, row.conversion_factor) == (
            Decimal("0.45"),
            Decimal("0.51"),
            Decimal("0.01"),
            Decimal("33.4009"),
        )
        caregiver = fees.rvu("97551", date(2026, 8, 3))
        assert caregiver is not None
        assert (caregiver.pe_facility, caregiver.mp, caregiver.facility_na) == (
            Decimal("0.09"),
            Decimal("0.00"),
            False,
        )
        assert (caregiver.global_days, caregiver.mult_proc) == ("ZZZ", "0")

    def test_it_lists_the_therapy_codes_a_file_lacks(self, tmp_path: Path) -> None:
        codes = sorted(CATALOG)
        path = write_pfs(tmp_path / "rvu.csv", [pfs_row(code) for code in codes[2:]])
        summary = run_import("pfs", path, data_dir=tmp_path)
        assert summary.messages[-1] == f"therapy codes not in this file: {codes[0]}, {codes[1]}"

    def test_it_never_stores_the_description_column(self, tmp_path: Path) -> None:
        path = write_pfs(tmp_path / "PPRRVU2026_Jul_nonQPP.csv", [pfs_row("97535")])
        run_import("pfs", path, data_dir=tmp_path)
        stored = (tmp_path / "official-data.sqlite3").read_bytes()
        assert b"placeholder" not in stored

    def test_it_marks_a_qpp_file_and_keeps_it_apart(self, tmp_path: Path) -> None:
        regular = write_pfs(tmp_path / "PPRRVU2026_Jul_nonQPP.csv", [pfs_row("97535")])
        qpp = write_pfs(tmp_path / "PPRRVU2026_Jul_QPP.csv", [pfs_row("97535", cf="33.5675")])
        assert run_import("pfs", regular, data_dir=tmp_path).qp is False
        summary = run_import("pfs", qpp, data_dir=tmp_path)
        assert (summary.label, summary.qp) == ("RVU26C QPP", True)
        fees = load_ruleset(data_dir=tmp_path).fees
        row = fees.rvu("97535", date(2026, 9, 1))
        assert row is not None and row.conversion_factor == Decimal("33.4009")
        assert fees.conversion_factor_from_file(2026, qp=True) == Decimal("33.5675")  # type: ignore[attr-defined]
        assert fees.conversion_factor_from_file(2026) == Decimal("33.4009")  # type: ignore[attr-defined]
        assert fees.conversion_factor_from_file(2024) is None  # type: ignore[attr-defined]

    def test_it_takes_the_release_label_from_the_option(self, tmp_path: Path) -> None:
        path = write_pfs(tmp_path / "rvu.csv", [pfs_row("97535")])
        summary = run_import("pfs", path, release="RVU26C-corrected", data_dir=tmp_path)
        assert (summary.label, summary.effective_from) == ("RVU26C-corrected", date(2026, 7, 1))

    def test_it_needs_a_release_when_the_title_row_is_missing(self, tmp_path: Path) -> None:
        path = write_pfs(tmp_path / "rvu.csv", [pfs_row("97535")], title="")
        with pytest.raises(OfficialDataError) as caught:
            run_import("pfs", path, data_dir=tmp_path)
        assert str(caught.value) == (
            f"{path}: the file has no title row naming its year and release; give --release"
            " (e.g. --release RVU26C) or --effective YYYY-MM-DD"
        )
        summary = run_import("pfs", path, release="RVU26B", data_dir=tmp_path)
        assert (summary.label, summary.effective_from) == ("RVU26B", date(2026, 4, 1))

    def test_it_refuses_an_effective_date_outside_the_files_year(self, tmp_path: Path) -> None:
        path = write_pfs(tmp_path / "rvu.csv", [pfs_row("97535")])
        with pytest.raises(OfficialDataError, match="not in the file's year 2026"):
            run_import("pfs", path, effective="2025-07-01", data_dir=tmp_path)

    def test_it_stops_at_a_malformed_row_and_keeps_the_store_unchanged(
        self, tmp_path: Path
    ) -> None:
        good = write_pfs(tmp_path / "good.csv", [pfs_row("97110"), pfs_row("97535")])
        run_import("pfs", good, data_dir=tmp_path)
        before = imported(tmp_path)
        rows = [
            pfs_row("97110"),
            pfs_row("97112"),
            pfs_row("97530", work="0,44"),
            pfs_row("97535"),
        ]
        bad = write_pfs(tmp_path / "bad.csv", rows)
        with pytest.raises(OfficialDataError) as caught:
            run_import("pfs", bad, data_dir=tmp_path)
        line = PFS_HEADER_LINES + 3
        assert str(caught.value).startswith(f"{bad}:{line}: expected 32 fields, found 33;")
        assert imported(tmp_path) == before == [("pfs", "RVU26C", 2)]

    def test_it_keeps_the_earlier_import_when_a_reimport_fails(self, tmp_path: Path) -> None:
        good = write_pfs(tmp_path / "good.csv", [pfs_row("97535", work="0.45")])
        first = run_import("pfs", good, data_dir=tmp_path)
        bad = write_pfs(tmp_path / "bad.csv", [pfs_row("97535", work="0.50"), pfs_row("9753")])
        with pytest.raises(OfficialDataError, match=r"HCPCS '9753' is not a 5-character"):
            run_import("pfs", bad, data_dir=tmp_path)
        (status,) = [s for s in data_status(data_dir=tmp_path) if not s.builtin]
        assert (status.label, status.rows, status.sha256) == ("RVU26C", 1, first.sha256)
        row = load_ruleset(data_dir=tmp_path).fees.rvu("97535", date(2026, 7, 1))
        assert row is not None and (row.work, row.release.builtin) == (Decimal("0.45"), False)

    def test_it_refuses_a_store_that_is_not_a_database(self, tmp_path: Path) -> None:
        store = tmp_path / "official-data.sqlite3"
        store.write_text("not a database\n")
        path = write_pfs(tmp_path / "rvu.csv", [pfs_row("97535")])
        with pytest.raises(OfficialDataError) as caught:
            run_import("pfs", path, data_dir=tmp_path)
        assert str(caught.value).startswith(f"{store} is not a Handrail data store or is damaged")
        with pytest.raises(OfficialDataError, match="cannot read the data store"):
            data_status(data_dir=tmp_path)

    def test_it_names_the_column_of_a_bad_value(self, tmp_path: Path) -> None:
        bad = write_pfs(tmp_path / "bad.csv", [pfs_row("97110"), pfs_row("97530", mp="x.01")])
        with pytest.raises(OfficialDataError) as caught:
            run_import("pfs", bad, data_dir=tmp_path)
        assert str(caught.value) == (
            f"{bad}:{PFS_HEADER_LINES + 2}: MP RVU 'x.01' is not a number of zero or more;"
            " correct the row or download the file again from CMS and import the untouched copy"
        )
        assert imported(tmp_path) == []

    def test_it_rejects_a_file_cut_in_the_middle_of_a_row(self, tmp_path: Path) -> None:
        source = cms_file("PPRRVU2025_Oct.csv")
        cut = tmp_path / "PPRRVU2025_Oct.csv"
        cut.write_bytes(source.read_bytes()[:1_000_000])
        with pytest.raises(OfficialDataError) as caught:
            run_import("pfs", cut, data_dir=tmp_path)
        message = str(caught.value)
        assert message.startswith(f"{cut}:")
        assert "looks truncated" in message
        assert not (tmp_path / "official-data.sqlite3").exists()

    def test_it_rejects_a_row_cut_short_before_the_last_line(self, tmp_path: Path) -> None:
        path = write_pfs(tmp_path / "rvu.csv", [pfs_row("97110"), pfs_row("97530")[:40]])
        with pytest.raises(OfficialDataError) as caught:
            run_import("pfs", path, data_dir=tmp_path)
        assert str(caught.value).startswith(f"{path}:{PFS_HEADER_LINES + 2}: expected 32 fields")

    def test_it_rejects_an_empty_file(self, tmp_path: Path) -> None:
        path = tmp_path / "empty.csv"
        path.write_bytes(b"")
        with pytest.raises(OfficialDataError) as caught:
            run_import("pfs", path, data_dir=tmp_path)
        assert str(caught.value) == (
            f"{path}: the file is empty; download the file again from CMS and import the"
            " untouched copy"
        )

    def test_it_rejects_a_zip_archive(self, tmp_path: Path) -> None:
        archive = tmp_path / "rvu26c.zip"
        with zipfile.ZipFile(archive, "w") as bundle:
            bundle.writestr("PPRRVU2026_Jul_nonQPP.csv", "HCPCS\n")
        with pytest.raises(OfficialDataError) as caught:
            run_import("pfs", archive, data_dir=tmp_path)
        assert str(caught.value) == (
            f"{archive}: this is a ZIP archive (or an Excel workbook), not a text file; unzip"
            " the CMS download and import the pfs text file inside it"
        )

    def test_it_rejects_a_header_without_rows(self, tmp_path: Path) -> None:
        path = write_pfs(tmp_path / "rvu.csv", [])
        with pytest.raises(OfficialDataError, match="has a header but no data rows"):
            run_import("pfs", path, data_dir=tmp_path)

    def test_it_says_a_gpci_file_is_not_a_fee_schedule(self, tmp_path: Path) -> None:
        path = cms_file("GPCI2026.csv")
        with pytest.raises(OfficialDataError) as caught:
            run_import("pfs", path, data_dir=tmp_path)
        assert str(caught.value) == (
            f"{path}: this is not a CMS PFS relative value file (PPRRVU*.csv); this looks like"
            " a gpci file: import it with `handrail data import gpci FILE`"
        )

    def test_it_replaces_a_reimported_release_atomically(self, tmp_path: Path) -> None:
        first = write_pfs(tmp_path / "a.csv", [pfs_row("97110"), pfs_row("97535", work="0.40")])
        run_import("pfs", first, data_dir=tmp_path)
        second = write_pfs(tmp_path / "b.csv", [pfs_row("97535", work="0.45")])
        summary = run_import("pfs", second, data_dir=tmp_path)
        assert summary.replaced is True
        assert "replaced the earlier import of RVU26C" in summary.messages
        assert imported(tmp_path) == [("pfs", "RVU26C", 1)]
        fees = load_ruleset(data_dir=tmp_path).fees
        row = fees.rvu("97535", date(2026, 7, 1))
        assert row is not None and row.work == Decimal("0.45")
        assert fees.rvu("97110", date(2026, 7, 1)) is None

    def test_it_reads_a_copy_with_windows_line_endings(self, tmp_path: Path) -> None:
        source = cms_file("PPRRVU2026_Jul_nonQPP_97xxx_extract.csv")
        copy = tmp_path / "PPRRVU2026_Jul_nonQPP.csv"
        shutil.copy(source, copy)
        copy.write_bytes(copy.read_bytes().replace(b"\r\n", b"\n").replace(b"\n", b"\r\n"))
        summary = run_import("pfs", copy, data_dir=tmp_path)
        assert summary.label == "RVU26C"
        row = load_ruleset(data_dir=tmp_path).fees.rvu("97140", date(2026, 7, 2))
        assert row is not None and row.pe_nonfacility == Decimal("0.39")

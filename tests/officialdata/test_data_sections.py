"""Every line-oriented importer: blank lines at the end are fine, a blank line inside the
data stops the import at that line and nothing is written (files.data_section)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from handrail.officialdata.errors import OfficialDataError
from handrail.officialdata.service import data_status, run_import
from tests.officialdata.samples import (
    MUE_PREAMBLE_LINES,
    PFS_HEADER_LINES,
    PTP_PREAMBLE_LINES,
    order_line,
    pfs_row,
    ptp_line,
    write_lines,
    write_mue,
    write_pfs,
    write_ptp,
)
from tests.officialdata.test_zip5 import record

Writer = Callable[[Path, list[str]], Path]


def _order_file(path: Path, lines: list[str]) -> Path:
    return write_lines(path.with_name("icd10cm-order-2027.txt"), lines)


def _zip_file(path: Path, lines: list[str]) -> Path:
    return write_lines(path.with_name("ZIP5_OCT2025.txt"), lines)


def _pfs_file(path: Path, rows: list[str]) -> Path:
    return write_pfs(path.with_name("PPRRVU2026_Jul_nonQPP.csv"), rows)


def _mue_file(path: Path, rows: list[str]) -> Path:
    return write_mue(path.with_name("MCR_MUE_PractitionerServices_Eff_10-01-2026.csv"), rows)


# kind, writer, data rows, lines before the first data row, "row" or "line", options
CASES: list[tuple[str, Writer, list[str], int, str, dict[str, str]]] = [
    ("pfs", _pfs_file, [pfs_row("97110"), pfs_row("97535")], PFS_HEADER_LINES, "row", {}),
    (
        "mue",
        _mue_file,
        [
            "97110,6,3 Date of Service Edit: Clinical,Clinical: Medicare Data",
            "97535,8,3 Date of Service Edit: Clinical,Clinical: Medicare Data",
        ],
        MUE_PREAMBLE_LINES,
        "row",
        {},
    ),
    (
        "ptp",
        write_ptp,
        [ptp_line("97140", "97530"), ptp_line("97161", "97140")],
        PTP_PREAMBLE_LINES,
        "line",
        {"release": "NCCI PTP 2026Q3", "effective": "2026-07-01"},
    ),
    (
        "icd10cm",
        _order_file,
        [order_line(1, "M545", False, "Low back pain"), order_line(2, "M5450", True, "LBP")],
        0,
        "line",
        {},
    ),
    (
        "zip5",
        _zip_file,
        [record("99501", "02102", "01"), record("99502", "02102", "01")],
        0,
        "line",
        {},
    ),
]
IDS = [case[0] for case in CASES]


class DataSectionTests:
    @pytest.mark.parametrize(
        ("kind", "write", "rows", "before", "unit", "options"), CASES, ids=IDS
    )
    def test_it_accepts_blank_lines_at_the_end(
        self,
        tmp_path: Path,
        kind: str,
        write: Writer,
        rows: list[str],
        before: int,
        unit: str,
        options: dict[str, str],
    ) -> None:
        path = write(tmp_path / "file", [*rows, "", ""])
        summary = run_import(kind, path, data_dir=tmp_path, **options)
        assert summary.rows == 2

    @pytest.mark.parametrize(
        ("kind", "write", "rows", "before", "unit", "options"), CASES, ids=IDS
    )
    def test_it_stops_at_a_blank_line_inside_the_data_and_writes_nothing(
        self,
        tmp_path: Path,
        kind: str,
        write: Writer,
        rows: list[str],
        before: int,
        unit: str,
        options: dict[str, str],
    ) -> None:
        path = write(tmp_path / "file", [rows[0], "", rows[1]])
        blank_line = before + 2
        with pytest.raises(OfficialDataError) as caught:
            run_import(kind, path, data_dir=tmp_path, **options)
        assert str(caught.value) == (
            f"{path}:{blank_line}: an empty {unit} in the middle of the data; remove the empty "
            f"{unit} at line {blank_line} or download the file again from CMS and import the "
            "untouched copy"
        )
        assert all(release.builtin for release in data_status(data_dir=tmp_path))

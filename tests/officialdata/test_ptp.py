"""Importing NCCI practitioner PTP edit files (tab-delimited ccipra-*.txt)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from handrail.officialdata import load_ruleset
from handrail.officialdata.errors import OfficialDataError
from handrail.officialdata.service import data_status, run_import
from tests.officialdata.samples import PTP_PREAMBLE_LINES, ptp_line, write_ptp

LINES = [
    ptp_line("97140", "97530", "20200101", "*", "1"),
    ptp_line("97161", "97140", "20200101", "*", "1"),
    ptp_line("97161", "97530", "20200101", "20200331", "0"),
    ptp_line("97530", "97150", "20260701", "*", "9"),
]


class PtpImportTests:
    def test_it_imports_edits_and_serves_them_by_date(self, tmp_path: Path) -> None:
        path = write_ptp(tmp_path / "ccipra-v322r0-f1.txt", LINES)
        summary = run_import("ptp", path, release="NCCI PTP 2026Q3", data_dir=tmp_path)
        assert (summary.label, summary.rows, summary.effective_from) == (
            "NCCI PTP 2026Q3",
            4,
            date(2026, 7, 1),
        )
        edits = load_ruleset(data_dir=tmp_path).edits
        codes = ["97161", "97140", "97530", "97150"]
        in_force = edits.ptp_pairs(codes, date(2026, 7, 15))
        assert [(e.column1, e.column2, e.modifier_indicator) for e in in_force] == [
            ("97140", "97530", 1),
            ("97161", "97140", 1),
            ("97530", "97150", 9),
        ]
        assert all(e.release.label == "NCCI PTP 2026Q3" for e in in_force)
        assert edits.ptp_pairs(["97140", "97110"], date(2026, 7, 15)) == []

    def test_it_filters_rows_by_their_own_dates(self, tmp_path: Path) -> None:
        path = write_ptp(tmp_path / "ccipra.txt", LINES)
        run_import("ptp", path, release="NCCI PTP 2020Q1", data_dir=tmp_path)
        edits = load_ruleset(data_dir=tmp_path).edits
        codes = ["97161", "97530", "97150"]
        # Deletion date 2020-03-31: the edit applies through the day before.
        assert [e.column2 for e in edits.ptp_pairs(codes, date(2020, 3, 30))] == ["97530"]
        assert edits.ptp_pairs(codes, date(2020, 3, 31)) == []
        # Not yet effective in 2025, in force from 2026-07-01.
        assert edits.ptp_pairs(["97530", "97150"], date(2025, 1, 2)) == []
        assert len(edits.ptp_pairs(["97530", "97150"], date(2026, 7, 1))) == 1

    def test_it_uses_the_release_in_force_on_the_date(self, tmp_path: Path) -> None:
        old = write_ptp(tmp_path / "old.txt", [ptp_line("97110", "97112")])
        new = write_ptp(tmp_path / "new.txt", [ptp_line("97110", "97116")])
        run_import("ptp", old, release="NCCI PTP 2026Q1", data_dir=tmp_path)
        run_import("ptp", new, release="NCCI PTP 2026Q2", data_dir=tmp_path)
        edits = load_ruleset(data_dir=tmp_path).edits
        codes = ["97110", "97112", "97116"]
        assert [e.column2 for e in edits.ptp_pairs(codes, date(2026, 3, 31))] == ["97112"]
        assert [e.column2 for e in edits.ptp_pairs(codes, date(2026, 4, 1))] == ["97116"]

    def test_it_imports_a_folder_of_part_files_as_one_release(self, tmp_path: Path) -> None:
        folder = tmp_path / "ccipra-v322r0"
        folder.mkdir()
        write_ptp(folder / "ccipra-v322r0-f1.txt", LINES[:2])
        write_ptp(folder / "ccipra-v322r0-f2.txt", LINES[2:])
        summary = run_import("ptp", folder, release="NCCI PTP 2026Q3", data_dir=tmp_path)
        assert (summary.rows, summary.file_name) == (4, "ccipra-v322r0")
        assert len(summary.sha256) == 64

    def test_it_needs_a_release_label(self, tmp_path: Path) -> None:
        path = write_ptp(tmp_path / "ccipra.txt", LINES)
        with pytest.raises(OfficialDataError) as caught:
            run_import("ptp", path, data_dir=tmp_path)
        assert str(caught.value) == (
            f"{path}: a PTP file does not name its release; give --release, e.g. --release"
            " 'NCCI PTP 2026Q3' (and --effective 2026-07-01)"
        )

    def test_it_needs_an_effective_date_when_the_label_has_no_quarter(
        self, tmp_path: Path
    ) -> None:
        path = write_ptp(tmp_path / "ccipra.txt", LINES)
        with pytest.raises(OfficialDataError, match="give --effective YYYY-MM-DD"):
            run_import("ptp", path, release="v322r0", data_dir=tmp_path)
        summary = run_import(
            "ptp", path, release="v322r0", effective="2026-07-01", data_dir=tmp_path
        )
        assert summary.effective_from == date(2026, 7, 1)

    def test_it_rejects_a_bad_modifier_indicator_and_writes_nothing(self, tmp_path: Path) -> None:
        lines = [*LINES[:2], ptp_line("97161", "97530", modifier="2"), *LINES[3:]]
        path = write_ptp(tmp_path / "ccipra.txt", lines)
        with pytest.raises(OfficialDataError) as caught:
            run_import("ptp", path, release="NCCI PTP 2026Q3", data_dir=tmp_path)
        assert str(caught.value) == (
            f"{path}:{PTP_PREAMBLE_LINES + 3}: Modifier indicator '2' is not 0, 1 or 9;"
            " correct the line or download the file again from CMS and import the untouched copy"
        )
        assert [s for s in data_status(data_dir=tmp_path) if not s.builtin] == []

    def test_it_rejects_a_bad_date(self, tmp_path: Path) -> None:
        path = write_ptp(tmp_path / "ccipra.txt", [ptp_line("97140", "97530", "20261301")])
        with pytest.raises(OfficialDataError, match=r":7: Effective Date '20261301' is not"):
            run_import("ptp", path, release="NCCI PTP 2026Q3", data_dir=tmp_path)

    def test_it_refuses_the_outpatient_hospital_file(self, tmp_path: Path) -> None:
        path = write_ptp(tmp_path / "ccioph-v322r0-f1.txt", LINES)
        with pytest.raises(OfficialDataError, match="outpatient hospital PTP file"):
            run_import("ptp", path, release="NCCI PTP 2026Q3", data_dir=tmp_path)

    def test_it_rejects_a_file_without_the_ptp_header(self, tmp_path: Path) -> None:
        path = tmp_path / "edits.txt"
        path.write_text(ptp_line("97140", "97530") + "\n")
        with pytest.raises(OfficialDataError, match="this is not a NCCI PTP edit file"):
            run_import("ptp", path, release="NCCI PTP 2026Q3", data_dir=tmp_path)

    def test_it_streams_a_large_file(self, tmp_path: Path) -> None:
        codes = [f"{n:05d}" for n in range(10000, 10500)]
        lines = [ptp_line(a, b) for a in codes[:200] for b in codes[200:400]]
        path = write_ptp(tmp_path / "big.txt", lines)
        summary = run_import("ptp", path, release="NCCI PTP 2026Q3", data_dir=tmp_path)
        assert summary.rows == 40_000
        edits = load_ruleset(data_dir=tmp_path).edits
        found = edits.ptp_pairs(["10000", "10200", "10201", "10300"], date(2026, 8, 1))
        assert [(e.column1, e.column2) for e in found] == [
            ("10000", "10200"),
            ("10000", "10201"),
            ("10000", "10300"),
        ]

"""The store's location, the status listing and the service's option checks."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from handrail.officialdata import load_ruleset
from handrail.officialdata.errors import OfficialDataError
from handrail.officialdata.service import data_status, run_import
from handrail.officialdata.store import data_dir
from tests.officialdata.samples import pfs_row, write_pfs


class DataStatusTests:
    def test_it_lists_the_builtin_releases_of_a_fresh_install(self, tmp_path: Path) -> None:
        listing = [
            (s.kind, s.label, s.effective_from, s.rows, s.origin)
            for s in data_status(data_dir=tmp_path)
        ]
        assert listing == [
            ("pfs", "RVU25D", date(2025, 10, 1), 43, "built-in"),
            ("pfs", "RVU26C", date(2026, 7, 1), 43, "built-in"),
            ("gpci", "GPCI2025", date(2025, 1, 1), 109, "built-in"),
            ("gpci", "GPCI2026", date(2026, 1, 1), 109, "built-in"),
            ("zip5", "ZIP5 2025Q4", date(2025, 10, 1), 42_956, "built-in"),
            ("ptp", "NCCI PTP therapy excerpt (built-in)", date(2000, 1, 1), 1, "built-in"),
            (
                "mue",
                "MUE Medicaid practitioner 2026Q1 (derived)",
                date(2026, 1, 1),
                83,
                "built-in",
            ),
            (
                "icd10cm",
                "ICD-10-CM FY2025 (April 2025 update, simple-icd-10-cm 1.4.0)",
                date(2024, 10, 1),
                97_584,  # FY2026's codes with the shipped FY2025 differences applied
                "built-in",
            ),
            (
                "icd10cm",
                "ICD-10-CM FY2026 (April 2026 update, simple-icd-10-cm 1.5.0)",
                date(2025, 10, 1),
                98_186,  # categories, subcategories and codes of FY2026 (April update)
                "built-in",
            ),
        ]
        assert not tmp_path.joinpath("official-data.sqlite3").exists()
        assert [path.name for path in tmp_path.joinpath("cache").iterdir()] == [
            "icd10cm-packaged-1.5.0-v2.sqlite3"
        ]

    def test_it_lists_an_import_next_to_the_builtin_release(self, tmp_path: Path) -> None:
        path = write_pfs(tmp_path / "PPRRVU2026_Jul_nonQPP.csv", [pfs_row("97535")])
        summary = run_import("pfs", path, data_dir=tmp_path)
        pfs = [s for s in data_status(data_dir=tmp_path) if s.label == "RVU26C"]
        assert [(s.origin, s.rows) for s in pfs] == [("built-in", 43), ("imported", 1)]
        mine = pfs[1]
        assert mine.sha256_short == summary.sha256[:12]
        assert mine.imported_at == summary.imported_at
        document = mine.to_dict()
        assert json.loads(json.dumps(document)) == document
        assert (document["origin"], document["file_name"], document["conversion_factor"]) == (
            "imported",
            "PPRRVU2026_Jul_nonQPP.csv",
            "33.4009",
        )

    def test_it_gives_a_json_ready_import_summary(self, tmp_path: Path) -> None:
        path = write_pfs(tmp_path / "PPRRVU2026_Jul_nonQPP.csv", [pfs_row("97535")])
        document = run_import("pfs", path, data_dir=tmp_path).to_dict()
        assert json.loads(json.dumps(document)) == document
        assert (document["label"], document["effective_from"], document["rows"]) == (
            "RVU26C",
            "2026-07-01",
            1,
        )
        assert document["replaced"] is False


class StoreLocationTests:
    def test_it_reads_handrail_data_dir(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setenv("HANDRAIL_DATA_DIR", str(tmp_path / "store"))
        assert data_dir() == tmp_path / "store"
        path = write_pfs(tmp_path / "PPRRVU2026_Jul_nonQPP.csv", [pfs_row("97535")])
        run_import("pfs", path)
        assert (tmp_path / "store" / "official-data.sqlite3").is_file()
        row = load_ruleset().fees.rvu("97535", date(2026, 7, 1))
        assert row is not None and row.release.builtin is False

    def test_it_falls_back_to_xdg_data_home_then_home(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.delenv("HANDRAIL_DATA_DIR", raising=False)
        monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
        assert data_dir() == tmp_path / "xdg" / "handrail"
        monkeypatch.delenv("XDG_DATA_HOME")
        monkeypatch.setenv("HOME", str(tmp_path / "home"))
        assert data_dir() == tmp_path / "home" / ".local" / "share" / "handrail"


class ImportOptionTests:
    def test_it_rejects_an_unknown_kind(self, tmp_path: Path) -> None:
        with pytest.raises(OfficialDataError) as caught:
            run_import("rvu", tmp_path / "x.csv", data_dir=tmp_path)
        assert str(caught.value) == (
            "unknown data kind 'rvu'; use one of: pfs, gpci, zip5, ptp, mue, icd10cm"
        )

    def test_it_rejects_an_effective_date_it_cannot_read(self, tmp_path: Path) -> None:
        with pytest.raises(OfficialDataError) as caught:
            run_import("pfs", tmp_path / "x.csv", effective="07/01/2026", data_dir=tmp_path)
        assert str(caught.value) == (
            "--effective '07/01/2026' is not a date; write it as YYYY-MM-DD,"
            " e.g. --effective 2026-07-01"
        )

    def test_it_rejects_a_missing_file(self, tmp_path: Path) -> None:
        missing = tmp_path / "PPRRVU2026_Jul_nonQPP.csv"
        with pytest.raises(OfficialDataError) as caught:
            run_import("pfs", missing, data_dir=tmp_path)
        assert (
            str(caught.value)
            == f"{missing}: no such file; check the path of the pfs file to import"
        )

"""The built-in tables equal the CMS files they were generated from."""

from __future__ import annotations

import importlib.util
import sqlite3
import sys
from contextlib import closing
from datetime import date
from pathlib import Path
from types import ModuleType

from handrail.officialdata import load_ruleset
from handrail.officialdata.builtin import builtin_tables
from handrail.officialdata.service import run_import
from handrail.officialdata.store import DB_NAME, ROW_COLUMNS
from handrail.rules.catalog import CATALOG
from tests.officialdata.samples import CMS_DIR, cms_file

REPO = Path(__file__).resolve().parents[2]


def build_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "build_builtin_tables", REPO / "scripts" / "build_builtin_tables.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the file runs
    spec.loader.exec_module(module)
    return module


class BuiltinTablesTests:
    def test_it_ships_these_releases(self) -> None:
        shipped = [
            (t.release.kind, t.release.label, t.row_count, t.release.source.verified)
            for t in builtin_tables()
        ]
        assert shipped == [
            ("gpci", "GPCI2025", 109, True),
            ("gpci", "GPCI2026", 109, True),
            ("mue", "MUE Medicaid practitioner 2026Q1 (derived)", 83, False),
            ("pfs", "RVU25D", len(CATALOG), True),
            ("pfs", "RVU26C", len(CATALOG), True),
            ("ptp", "NCCI PTP therapy excerpt (built-in)", 1, False),
            ("zip5", "ZIP5 2025Q4", 42_956, True),
        ]
        # The fee schedule ships for the therapy codes only (the PPRRVU files carry AMA
        # descriptors); the locality tables ship whole: they hold no AMA text.

    def test_it_names_the_source_file_and_its_checksum(self) -> None:
        by_label = {t.release.label: t for t in builtin_tables()}
        assert (by_label["RVU25D"].source_file, by_label["RVU25D"].source_sha256[:8]) == (
            "PPRRVU2025_Oct.csv",
            "8af460f3",
        )
        assert (by_label["RVU26C"].source_file, by_label["RVU26C"].source_sha256[-4:]) == (
            "PPRRVU2026_Jul_nonQPP.csv",
            "ee21",
        )
        assert str(by_label["RVU25D"].conversion_factor) == "32.3465"
        assert str(by_label["RVU26C"].conversion_factor) == "33.4009"
        mue = by_label["MUE Medicaid practitioner 2026Q1 (derived)"].release.source
        assert mue.note.startswith("LOW CONFIDENCE: derived from the CMS Medicaid NCCI Q1-2026")
        assert "MAI unknown" in mue.note

    def test_it_keeps_no_description_column(self) -> None:
        data = REPO / "src" / "handrail" / "officialdata" / "data"
        for name in ("pfs_RVU25D_derived.csv", "pfs_RVU26C_derived.csv"):
            text = (data / name).read_text()
            assert "description" not in text.lower()
            assert "Self care" not in text and "Manual therapy" not in text

    def test_it_equals_the_real_fee_schedules_for_every_therapy_code(self, tmp_path: Path) -> None:
        imported_dir = tmp_path / "imported"
        run_import("pfs", cms_file("PPRRVU2025_Oct.csv"), data_dir=imported_dir)
        run_import("pfs", cms_file("PPRRVU2026_Jul_nonQPP.csv"), data_dir=imported_dir)
        builtin = load_ruleset(data_dir=tmp_path / "none").fees
        imported = load_ruleset(data_dir=imported_dir).fees
        compared = 0
        for on in (date(2025, 11, 1), date(2026, 8, 1)):
            for code in CATALOG:
                mine, theirs = builtin.rvu(code, on), imported.rvu(code, on)
                assert mine is not None and theirs is not None, code
                assert mine.release.builtin and not theirs.release.builtin
                assert mine.release.label == theirs.release.label
                fields = ("status", "work", "pe_nonfacility", "pe_facility", "mp", "facility_na")
                more = ("pctc", "mult_proc", "global_days", "conversion_factor")
                for name in fields + more:
                    assert getattr(mine, name) == getattr(theirs, name), (code, name)
                compared += 1
        assert compared == 2 * len(CATALOG)

    def test_it_equals_the_real_locality_tables_row_for_row(self, tmp_path: Path) -> None:
        imported_dir = tmp_path / "imported"
        for kind, name in (
            ("gpci", "GPCI2025.csv"),
            ("gpci", "GPCI2026.csv"),
            ("zip5", "ZIP5_OCT2025.txt"),
        ):
            run_import(kind, cms_file(name), data_dir=imported_dir)
        with closing(sqlite3.connect(imported_dir / DB_NAME)) as conn:
            imported = {
                label: sorted(
                    tuple(row)
                    for row in conn.execute(
                        f"SELECT {', '.join(ROW_COLUMNS[kind])} FROM {kind}_row"  # noqa: S608
                        " WHERE release_id = ?",
                        (release_id,),
                    )
                )
                for release_id, kind, label in conn.execute("SELECT id, kind, label FROM release")
            }
        shipped = {
            t.release.label: sorted(t.rows())
            for t in builtin_tables()
            if t.release.kind in ("gpci", "zip5")
        }
        assert sorted(shipped) == sorted(imported) == ["GPCI2025", "GPCI2026", "ZIP5 2025Q4"]
        for label, rows in shipped.items():
            assert rows == imported[label], label
        by_label = {t.release.label: t for t in builtin_tables()}
        assert [by_label[label].source_file for label in sorted(shipped)] == [
            "GPCI2025.csv",
            "GPCI2026.csv",
            "ZIP5_OCT2025.txt",
        ]
        manhattan = [r for r in shipped["GPCI2026"] if r[0] == "13202" and r[2] == "01"]
        assert manhattan == [("13202", "NY", "01", "MANHATTAN", "1.064", "1.162", "1.586")]
        assert ("10001", "NY", "13202", "01", 0) in shipped["ZIP5 2025Q4"]

    def test_it_is_regenerated_byte_for_byte_by_the_build_script(self) -> None:
        cms_file("PPRRVU2025_Oct.csv")
        outputs = build_script().build(CMS_DIR)
        data = REPO / "src" / "handrail" / "officialdata" / "data"
        assert sorted(outputs) == sorted(
            p.name for p in data.iterdir() if p.name.endswith((".csv", ".gz"))
        )
        for name, content in outputs.items():
            assert (data / name).read_bytes() == content, name

"""The benchmark's synthetic visit generator: exact count, valid records, deterministic."""

from __future__ import annotations

import importlib.util
import json
import sys
from datetime import date
from pathlib import Path
from types import ModuleType

from handrail.rules.catalog import CATALOG
from handrail.rules.visit_record import VisitRecord, visit_record_from_dict

GENERATOR = Path(__file__).resolve().parents[2] / "benchmarks" / "generate_visits.py"


def _load_generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("generate_visits", GENERATOR)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("generate_visits", module)
    spec.loader.exec_module(module)
    return module


generate_visits = _load_generator()

# The codes each discipline may bill in the generated data (the benchmark brief's lists).
PT_CODES = "97110 97112 97116 97140 97530 97535 97161 97162 97163 97164 97032 97035 G0283"
OT_CODES = "97535 97530 97110 97112 97140 97165 97166 97167 97168 97760 97763"
ALLOWED = {"PT": set(PT_CODES.split()), "OT": set(OT_CODES.split()), "SLP": {"92507"}}


def _write(tmp_path: Path, name: str, count: int, seed: int) -> Path:
    path = tmp_path / name
    generate_visits.write_visits(path, count, seed)
    return path


def _records(path: Path) -> list[VisitRecord]:
    with path.open(encoding="utf-8") as lines:
        return [visit_record_from_dict(json.loads(line)) for line in lines]


class GenerateVisitsTests:
    def test_it_writes_exactly_the_number_of_visits_asked(self, tmp_path: Path) -> None:
        path = _write(tmp_path, "visits.jsonl", 50, 7)
        assert len(path.read_text(encoding="utf-8").splitlines()) == 50

    def test_it_writes_records_the_visit_parser_accepts(self, tmp_path: Path) -> None:
        records = _records(_write(tmp_path, "visits.jsonl", 50, 7))
        assert len(records) == 50

    def test_it_writes_the_same_bytes_for_the_same_seed(self, tmp_path: Path) -> None:
        first = _write(tmp_path, "a.jsonl", 50, 7).read_bytes()
        second = _write(tmp_path, "b.jsonl", 50, 7).read_bytes()
        other = _write(tmp_path, "c.jsonl", 50, 8).read_bytes()
        assert first == second
        assert first != other

    def test_it_uses_only_codes_of_the_visit_discipline(self, tmp_path: Path) -> None:
        records = _records(_write(tmp_path, "visits.jsonl", 500, 11))
        wrong = [
            (record.discipline, line.code)
            for record in records
            for line in record.lines
            if line.code not in ALLOWED[record.discipline]
            or record.discipline not in CATALOG[line.code].disciplines
        ]
        assert wrong == []

    def test_it_keeps_dates_inside_the_loaded_data(self, tmp_path: Path) -> None:
        records = _records(_write(tmp_path, "visits.jsonl", 500, 11))
        outside = [
            record.date
            for record in records
            if not date(2025, 1, 2) <= record.date <= date(2026, 9, 30)
        ]
        assert outside == []

    def test_it_mixes_payers_disciplines_and_note_quality(self, tmp_path: Path) -> None:
        records = _records(_write(tmp_path, "visits.jsonl", 500, 11))
        assert {record.payer.type for record in records} == {"medicare", "commercial", "medicaid"}
        assert {record.discipline for record in records} == {"PT", "OT", "SLP"}
        notes = [
            line.note
            for record in records
            for line in record.lines
            if line.code == "97535" and line.note is not None
        ]
        assert any(note.baseline and note.skilled and note.performance for note in notes)
        assert any(not note.baseline and note.text == "ADL training performed." for note in notes)

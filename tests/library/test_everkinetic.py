"""Reading an Everkinetic folder strictly and matching its exercises to the built-in library."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from handrail.library import builtin_entries, entry
from handrail.library.everkinetic import (
    EVERKINETIC_MAP,
    EverkineticError,
    match_everkinetic,
    read_everkinetic,
)

ROOT = Path(__file__).resolve().parents[2]
MEDIA_DIR = Path(
    os.environ.get("HANDRAIL_EXERCISE_MEDIA_DIR")
    or ROOT / ".." / "shared" / "data" / "exercise-media"
)
REAL = MEDIA_DIR / "everkinetic"


def exercise(number: int, name: str, **changes: Any) -> dict[str, Any]:
    item: dict[str, Any] = {
        "id": f"{number:04d}",
        "name": name,
        "title": name.replace("-", " ").title(),
        "primer": "Synthetic test exercise.",
        "type": "isolation",
        "primary": ["quadriceps"],
        "secondary": [],
        "equipment": ["body"],
        "steps": ["First step.", "Second step."],
        "tips": [],
        "references": [],
        "svg": [f"svg/{number:04d}-relaxation.svg"],
        "png": [f"png/{number:04d}-relaxation.png", f"png/{number:04d}-tension.png"],
    }
    item.update(changes)
    return item


ONE = json.dumps(exercise(1, "bridging"))
TWO = json.dumps(exercise(2, "side-plank"))


def folder(tmp_path: Path, items: list[dict[str, Any]], text: str | None = None) -> Path:
    (tmp_path / "png").mkdir(exist_ok=True)
    for item in items:
        for name in item.get("png", []):
            if isinstance(name, str) and name.startswith("png/") and ".." not in name:
                (tmp_path / name).write_bytes(b"\x89PNG\r\n\x1a\n")
    body = json.dumps(items, indent=4) if text is None else text
    (tmp_path / "exercises.json").write_text(body, encoding="utf-8")
    return tmp_path


class ReadEverkineticTests:
    def test_it_reads_exercises_with_their_pictures_and_lines(self, tmp_path: Path) -> None:
        path = folder(tmp_path, [exercise(1, "bridging"), exercise(2, "barbell-squat")])
        first, second = read_everkinetic(path)
        assert (first.id, first.name, first.title) == ("0001", "bridging", "Bridging")
        assert first.images == (path / "png/0001-relaxation.png", path / "png/0001-tension.png")
        assert first.steps == ("First step.", "Second step.")
        assert first.line == 2
        assert second.line > first.line

    def test_it_accepts_an_exercise_without_pictures(self, tmp_path: Path) -> None:
        (item,) = read_everkinetic(folder(tmp_path, [exercise(3, "balance-board", png=[])]))
        assert item.images == ()

    @pytest.mark.parametrize(
        ("changes", "message"),
        [
            ({"colour": "red"}, "colour: unknown field"),
            ({"title": ""}, "title: must be text"),
            ({"steps": "Do it."}, "steps: must be a list of text"),
            ({"png": ["png/9999-relaxation.png", 5]}, "png: must be a list of text"),
            ({"png": ["../secret.png"]}, "png: '../secret.png' is not a .png file inside"),
            ({"png": ["png/0001-relaxation.svg"]}, "is not a .png file inside the folder"),
        ],
    )
    def test_it_refuses_a_malformed_exercise_with_file_and_line(
        self, tmp_path: Path, changes: dict[str, Any], message: str
    ) -> None:
        items = [exercise(1, "bridging"), exercise(2, "side-plank", **changes)]
        path = folder(tmp_path, items)
        second_line = 1 + json.dumps(items, indent=4).split("\n").index("    {", 2)
        with pytest.raises(EverkineticError) as raised:
            read_everkinetic(path)
        assert raised.value.line == second_line
        assert str(raised.value).startswith(f"{path / 'exercises.json'}:{second_line}: ")
        assert message in str(raised.value)

    def test_it_refuses_a_missing_field(self, tmp_path: Path) -> None:
        item = exercise(1, "bridging")
        del item["primer"]
        with pytest.raises(EverkineticError, match=r"exercises.json:2: primer: missing"):
            read_everkinetic(folder(tmp_path, [item]))

    def test_it_refuses_a_picture_missing_from_the_folder(self, tmp_path: Path) -> None:
        path = folder(tmp_path, [exercise(1, "bridging")])
        (path / "png/0001-tension.png").unlink()
        with pytest.raises(EverkineticError, match="png: png/0001-tension.png is not in"):
            read_everkinetic(path)

    def test_it_refuses_an_id_used_twice_but_not_a_name(self, tmp_path: Path) -> None:
        path = folder(tmp_path, [exercise(1, "bridging"), exercise(2, "bridging")])
        assert [e.id for e in read_everkinetic(path)] == ["0001", "0002"]
        path = folder(tmp_path, [exercise(1, "bridging"), exercise(1, "side-plank")])
        with pytest.raises(EverkineticError, match="id: 0001 is already used on line 2"):
            read_everkinetic(path)

    @pytest.mark.parametrize(
        ("text", "line", "message"),
        [
            ('[\n  {"id": "0001",\n  "name": }\n]', 3, "Expecting value"),
            ('{"id": "0001"}', 1, "expected a JSON list of exercises"),
            ("[\n  1\n]", 2, "each exercise must be a JSON object"),
            ("[\n" + ONE + "\n" + TWO + "\n]", 3, "expected ',' or ']'"),
            ("[]\nextra", 2, "text after the end of the list"),
        ],
    )
    def test_it_refuses_malformed_json_with_the_line(
        self, tmp_path: Path, text: str, line: int, message: str
    ) -> None:
        items = [exercise(1, "bridging"), exercise(2, "side-plank")]
        with pytest.raises(EverkineticError) as raised:
            read_everkinetic(folder(tmp_path, items, text=text))
        assert raised.value.line == line
        assert message in raised.value.message

    def test_it_says_when_the_file_is_missing_or_not_text(self, tmp_path: Path) -> None:
        with pytest.raises(EverkineticError, match="exercises.json: not found"):
            read_everkinetic(tmp_path)
        (tmp_path / "exercises.json").write_bytes(b"[\xff]")
        with pytest.raises(EverkineticError, match="not UTF-8 text"):
            read_everkinetic(tmp_path)


class MatchEverkineticTests:
    def test_it_maps_only_to_built_in_exercise_entries(self) -> None:
        keys = {e.key for e in builtin_entries()}
        assert set(EVERKINETIC_MAP.values()) <= keys
        assert len(set(EVERKINETIC_MAP.values())) == len(EVERKINETIC_MAP)
        assert all(entry(key).kind == "exercise" for key in EVERKINETIC_MAP.values())

    def test_it_matches_mapped_exercises_and_returns_the_rest(self, tmp_path: Path) -> None:
        items = [exercise(1, "bridging"), exercise(2, "barbell-squat"), exercise(3, "supermans")]
        found = match_everkinetic(read_everkinetic(folder(tmp_path, items)))
        assert [(e.name, m.key) for e, m in found.matched] == [
            ("bridging", "lumbar-bridge"),
            ("supermans", "lumbar-prone-arm-leg-lift"),
        ]
        assert [e.name for e in found.unmatched] == ["barbell-squat"]

    @pytest.mark.skipif(
        not (REAL / "exercises.json").is_file(),
        reason="Everkinetic data not present next to the repository",
    )
    def test_it_reads_the_real_folder_and_finds_every_mapped_exercise(self) -> None:
        exercises = read_everkinetic(REAL)
        found = match_everkinetic(exercises)
        assert len(found.matched) == len(EVERKINETIC_MAP)
        assert len(found.matched) + len(found.unmatched) == len(exercises)

"""Match the Everkinetic open exercise data to the built-in library.

A clinic downloads the Everkinetic data (exercises.json and a `png/` folder of start and end
illustrations, CC BY-SA 4.0) and points the import command at the folder. This module reads
the folder strictly and matches its exercises to built-in entries through `EVERKINETIC_MAP`,
a curated map of Everkinetic slugs to entry keys (only where the illustration shows the same
exercise as the entry). Everything else comes back unmatched, for the clinic to add as its own
entries. Nothing from the Everkinetic data is shipped with Handrail; whoever shows one of its
pictures shows `CREDIT` beside it.

Errors name the file and the line: a malformed exercises.json, an entry with an unknown or
missing field or a picture missing from the folder stops the read (`EverkineticError`).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from handrail.library.builtin import Entry, builtin_entries

CREDIT: Final = "Illustration: Everkinetic, CC BY-SA 4.0"
LICENCE_URL: Final = "https://creativecommons.org/licenses/by-sa/4.0/"

# Everkinetic `name` -> built-in entry key; only exercises whose pictures show the entry.
EVERKINETIC_MAP: Final[Mapping[str, str]] = {
    "ankle-circles": "ankle-circles",
    "back-flys-exercise-band": "shoulder-band-reverse-fly",
    "balance-board": "balance-wobble-board",
    "ball-wall-circles": "shoulder-ball-wall-circles",
    "bridging": "lumbar-bridge",
    "calf-raises-with-band": "ankle-heel-raise",
    "side-plank": "trunk-side-plank",
    "static-neck-flexion-extension": "neck-isometric-flexion-extension",
    "static-neck-side-flexion": "neck-isometric-side-bend",
    "stationary-abdominal-draw-in": "lumbar-abdominal-draw-in-hands-knees",
    "supermans": "lumbar-prone-arm-leg-lift",
}

_FIELDS: Final = frozenset(
    {
        "id",
        "name",
        "title",
        "primer",
        "type",
        "primary",
        "secondary",
        "equipment",
        "steps",
        "tips",
        "references",
        "svg",
        "png",
    }
)
_TEXT_FIELDS: Final = ("id", "name", "title", "primer", "type")
_LIST_FIELDS: Final = ("primary", "secondary", "equipment", "steps", "tips", "references", "svg")


class EverkineticError(ValueError):
    """A malformed Everkinetic folder: the file, the line and what is wrong."""

    def __init__(self, file: Path, line: int | None, message: str) -> None:
        where = f"{file}:{line}" if line is not None else str(file)
        super().__init__(f"{where}: {message}")
        self.file = file
        self.line = line
        self.message = message


@dataclass(frozen=True, slots=True)
class EverkineticExercise:
    """One Everkinetic exercise; `images` are the start and end pictures found on disk."""

    id: str
    name: str
    title: str
    primer: str
    type: str
    equipment: tuple[str, ...]
    steps: tuple[str, ...]
    images: tuple[Path, ...]
    line: int  # where its object starts in exercises.json


@dataclass(frozen=True, slots=True)
class EverkineticMatch:
    matched: tuple[tuple[EverkineticExercise, Entry], ...]
    unmatched: tuple[EverkineticExercise, ...]


def _line(text: str, index: int) -> int:
    return text.count("\n", 0, index) + 1


def _exercise(raw: Any, folder: Path, file: Path, line: int) -> EverkineticExercise:
    def fail(message: str) -> EverkineticError:
        return EverkineticError(file, line, message)

    if not isinstance(raw, dict):
        raise fail("each exercise must be a JSON object")
    unknown = sorted(set(raw) - _FIELDS)
    if unknown:
        raise fail(f"{unknown[0]}: unknown field")
    missing = sorted(_FIELDS - set(raw))
    if missing:
        raise fail(f"{missing[0]}: missing")
    for name in _TEXT_FIELDS:
        if not isinstance(raw[name], str) or (name != "primer" and not raw[name].strip()):
            raise fail(f"{name}: must be text")
    for name in (*_LIST_FIELDS, "png"):
        value = raw[name]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise fail(f"{name}: must be a list of text")
    images: list[Path] = []
    for relative in raw["png"]:
        path = Path(relative)
        if path.is_absolute() or ".." in path.parts or path.suffix.lower() != ".png":
            raise fail(f"png: {relative!r} is not a .png file inside the folder")
        if not (folder / path).is_file():
            raise fail(f"png: {relative} is not in {folder}")
        images.append(folder / path)
    return EverkineticExercise(
        id=raw["id"],
        name=raw["name"],
        title=raw["title"],
        primer=raw["primer"],
        type=raw["type"],
        equipment=tuple(raw["equipment"]),
        steps=tuple(raw["steps"]),
        images=tuple(images),
        line=line,
    )


def read_everkinetic(folder: Path) -> tuple[EverkineticExercise, ...]:
    """The exercises of an Everkinetic folder (exercises.json beside png/), strictly read."""
    file = folder / "exercises.json"
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise EverkineticError(file, None, "not found: give the folder that holds it") from None
    except UnicodeDecodeError as error:
        raise EverkineticError(file, None, f"not UTF-8 text ({error.reason})") from None
    decoder = json.JSONDecoder()
    index = len(text) - len(text.lstrip())
    if not text.startswith("[", index):
        raise EverkineticError(file, _line(text, index), "expected a JSON list of exercises")
    index += 1
    exercises: list[EverkineticExercise] = []
    seen: dict[str, int] = {}
    while True:
        while index < len(text) and text[index] in " \t\r\n":
            index += 1
        if text.startswith("]", index):
            index += 1
            break
        if exercises:
            if not text.startswith(",", index):
                raise EverkineticError(file, _line(text, index), "expected ',' or ']'")
            index += 1
            while index < len(text) and text[index] in " \t\r\n":
                index += 1
        try:
            raw, end = decoder.raw_decode(text, index)
        except json.JSONDecodeError as error:
            raise EverkineticError(file, error.lineno, error.msg) from None
        line = _line(text, index)
        exercise = _exercise(raw, folder, file, line)
        # ids are unique; names are not (the published data repeats one with another id)
        if exercise.id in seen:
            raise EverkineticError(
                file, line, f"id: {exercise.id} is already used on line {seen[exercise.id]}"
            )
        seen[exercise.id] = line
        exercises.append(exercise)
        index = end
    rest = text[index:]
    if rest.strip():
        start = index + len(rest) - len(rest.lstrip())
        raise EverkineticError(file, _line(text, start), "text after the end of the list")
    return tuple(exercises)


def match_everkinetic(
    exercises: Iterable[EverkineticExercise],
    entries: Iterable[Entry] | None = None,
    key_map: Mapping[str, str] = EVERKINETIC_MAP,
) -> EverkineticMatch:
    """Pair each exercise with its built-in entry through `key_map`; the rest are unmatched."""
    by_key = {e.key: e for e in (builtin_entries() if entries is None else entries)}
    matched: list[tuple[EverkineticExercise, Entry]] = []
    unmatched: list[EverkineticExercise] = []
    for exercise in exercises:
        key = key_map.get(exercise.name)
        if key is not None and key in by_key:
            matched.append((exercise, by_key[key]))
        else:
            unmatched.append(exercise)
    return EverkineticMatch(tuple(matched), tuple(unmatched))

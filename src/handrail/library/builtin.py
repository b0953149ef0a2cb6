"""The built-in home-program library: exercises, self-care training and education entries.

The entries are package data (`data/*.toml`, one file per group), written in Handrail's own
words. Each file starts with a `[library]` table naming the release, the group and the
provenance of its text, then one `[[entry]]` table per entry. Loading is strict: an unknown
field, a missing field, an unknown region, equipment, discipline, ADL or kind, a billing code
the kind may not use, or a dose outside `DOSE_LIMITS` stops the load with the file and the
entry key (`LibraryDataError`). Nothing is half-loaded.

Billing codes per kind (what teaching the entry is billed under):
- self-care/home-management training: 97535, or 97537 for community and work reintegration;
- therapeutic exercise: 97110 (strength, range of motion, flexibility, endurance), 97112
  (balance, coordination, posture and movement re-education) or 97530 (dynamic functional
  activities outside an ADL routine); never 97535 (product reference, 97535 boundaries);
- education: 97535, the self-care line it supports; education on its own is not billed
  (see `handrail.rules.home_program.instruction_codes`).

The library does not import Django or the rest of Handrail's layers (import-linter contract).
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, fields
from enum import StrEnum
from functools import cache
from importlib import resources
from typing import Any, Final, NoReturn

LIBRARY_RELEASE: Final = "2026.12"


class Kind(StrEnum):
    SELF_CARE = "self_care"
    EXERCISE = "exercise"
    EDUCATION = "education"


# Body regions an entry is filed under (the builder filters by them).
REGIONS: Final[tuple[str, ...]] = (
    "low-back",
    "neck",
    "thoracic",
    "shoulder",
    "elbow",
    "wrist",
    "hand",
    "hip",
    "knee",
    "ankle",
    "balance",
    "pelvic-floor",
    "whole-body",
)

# Equipment an entry needs; an empty tuple means none.
EQUIPMENT: Final[tuple[str, ...]] = (
    "adapted utensils",
    "ankle weight",
    "bath bench",
    "bed rail",
    "cane",
    "chair",
    "cold pack",
    "compression garment",
    "dressing stick",
    "dumbbell",
    "elastic band",
    "elastic laces",
    "exercise ball",
    "exercise stick",
    "foam pad",
    "footstool",
    "grab bar",
    "hand-held shower",
    "hot pack",
    "jar opener",
    "kitchen trolley",
    "leg lifter",
    "long-handled shoe horn",
    "long-handled sponge",
    "night splint",
    "paraffin bath",
    "pill organizer",
    "pillow",
    "plate guard",
    "putty",
    "raised toilet seat",
    "reacher",
    "rocker knife",
    "rolled towel",
    "sliding board",
    "sock aid",
    "stairs",
    "step",
    "stopwatch",
    "TENS unit",
    "toilet aid",
    "toilet safety frame",
    "towel",
    "traction device",
    "transfer belt",
    "tub transfer bench",
    "walker",
    "wall",
    "wheelchair",
    "wobble board",
    "wound dressing",
)

DISCIPLINES: Final[tuple[str, ...]] = ("PT", "OT", "SLP")
ADLS: Final[tuple[str, ...]] = (
    "bathing",
    "continence",
    "eating",
    "dressing",
    "toileting",
    "transferring",
)

# Which codes teaching an entry of each kind may be billed under (see the module docstring).
KIND_CODES: Final[Mapping[Kind, tuple[str, ...]]] = {
    Kind.SELF_CARE: ("97535", "97537"),
    Kind.EXERCISE: ("97110", "97112", "97530"),
    Kind.EDUCATION: ("97535",),
}

# Inclusive bounds of each dose field; a clinic's own doses are validated against them too.
DOSE_LIMITS: Final[Mapping[str, tuple[int, int]]] = {
    "sets": (1, 10),
    "reps": (1, 100),
    "hold_seconds": (1, 300),
    "times_per_day": (1, 12),
    "days_per_week": (1, 7),
    "minutes": (1, 120),
}

_DOSE_WORDS: Final = {
    "sets": "Sets",
    "reps": "Repetitions",
    "hold_seconds": "Hold (seconds)",
    "times_per_day": "Times a day",
    "days_per_week": "Days a week",
    "minutes": "Minutes",
}


@dataclass(frozen=True, slots=True)
class Dose:
    """A default dose; `None` means the field does not apply."""

    sets: int | None = None
    reps: int | None = None
    hold_seconds: int | None = None
    times_per_day: int | None = None
    days_per_week: int | None = None
    minutes: int | None = None

    def as_tuple(self) -> tuple[int | None, ...]:
        """The dose in field order, as `handrail.rules.home_program.TaughtItem.dose` takes it."""
        return (
            self.sets,
            self.reps,
            self.hold_seconds,
            self.times_per_day,
            self.days_per_week,
            self.minutes,
        )


DOSE_FIELDS: Final[tuple[str, ...]] = tuple(f.name for f in fields(Dose))


def dose_errors(dose: Dose) -> dict[str, str]:
    """Field name -> message for each problem of `dose`; empty when the dose is valid.

    Each set field must be a whole number within `DOSE_LIMITS`; at least one of reps, hold
    seconds or minutes must be set, since a dose without any says nothing to do.
    """
    errors: dict[str, str] = {}
    for name in DOSE_FIELDS:
        value = getattr(dose, name)
        if value is None:
            continue
        low, high = DOSE_LIMITS[name]
        if isinstance(value, bool) or not isinstance(value, int):
            errors[name] = f"{_DOSE_WORDS[name]} must be a whole number from {low} to {high}."
        elif not low <= value <= high:
            errors[name] = (
                f"{_DOSE_WORDS[name]} must be from {low} to {high}; {value} is out of range."
            )
    if dose.reps is None and dose.hold_seconds is None and dose.minutes is None:
        errors.setdefault(
            "reps", "Give repetitions, a hold time or minutes: the dose says nothing to do."
        )
    return errors


@dataclass(frozen=True, slots=True)
class Entry:
    key: str  # stable slug; a changed entry keeps its key and gets a higher version
    version: int
    title: str
    kind: Kind
    summary: str
    regions: tuple[str, ...]
    disciplines: tuple[str, ...]
    position: str
    equipment: tuple[str, ...]
    steps: tuple[str, ...]
    cues: tuple[str, ...]
    precautions: tuple[str, ...]
    dose: Dose
    billing_code: str
    adl: str | None
    topics: tuple[str, ...]


class LibraryDataError(ValueError):
    """A malformed library file: names the file, the entry key (or index) and the field."""

    def __init__(self, file: str, where: str, message: str) -> None:
        super().__init__(f"{file}: {where}: {message}")
        self.file = file
        self.where = where
        self.message = message


_HEADER_FIELDS: Final = frozenset({"release", "group", "source"})
_TEXT_FIELDS: Final = ("key", "title", "kind", "summary", "position", "billing_code")
_LIST_FIELDS: Final = (
    "regions",
    "disciplines",
    "equipment",
    "steps",
    "cues",
    "precautions",
    "topics",
)
_ENTRY_FIELDS: Final = frozenset(f.name for f in fields(Entry))
_EMPTY_ALLOWED: Final = frozenset({"equipment"})


def _text(value: object, field: str, fail: Callable[[str, str], NoReturn]) -> str:
    if not isinstance(value, str) or not value.strip():
        fail(field, "must be non-empty text")
    if value != value.strip() or "  " in value:
        fail(field, "has leading, trailing or doubled spaces")
    return value


def _entry(raw: Mapping[str, Any], file: str, index: int) -> Entry:
    where = f"entry {index + 1}"
    if isinstance(raw.get("key"), str) and raw["key"]:
        where = f"entry {raw['key']!r}"

    def fail(field: str, message: str) -> NoReturn:
        raise LibraryDataError(file, where, f"{field}: {message}")

    unknown = sorted(set(raw) - _ENTRY_FIELDS)
    if unknown:
        fail(
            unknown[0], "unknown field (the fields are: " + ", ".join(sorted(_ENTRY_FIELDS)) + ")"
        )
    missing = sorted(_ENTRY_FIELDS - set(raw) - {"adl"})
    if missing:
        fail(missing[0], "missing")
    texts = {name: _text(raw[name], name, fail) for name in _TEXT_FIELDS}
    key = texts["key"]
    if not all(c.islower() or c.isdigit() or c == "-" for c in key) or key.strip("-") != key:
        fail("key", "must be a slug of lower-case letters, digits and hyphens")
    version = raw["version"]
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        fail("version", "must be a whole number from 1")
    try:
        kind = Kind(texts["kind"])
    except ValueError:
        fail("kind", f"{texts['kind']!r} is not one of " + ", ".join(k.value for k in Kind))
    lists: dict[str, tuple[str, ...]] = {}
    for name in _LIST_FIELDS:
        value = raw[name]
        if not isinstance(value, list):
            fail(name, "must be a list of text")
        if not value and name not in _EMPTY_ALLOWED:
            fail(name, "must not be empty")
        items = tuple(_text(item, name, fail) for item in value)
        if len(set(items)) != len(items):
            fail(name, "lists an item twice")
        lists[name] = items
    for name, vocabulary in (
        ("regions", REGIONS),
        ("disciplines", DISCIPLINES),
        ("equipment", EQUIPMENT),
    ):
        for item in lists[name]:
            if item not in vocabulary:
                fail(name, f"{item!r} is not one of " + ", ".join(vocabulary))
    code = texts["billing_code"]
    if code not in KIND_CODES[kind]:
        fail(
            "billing_code",
            f"{code} is not allowed for {kind.value} entries (allowed: "
            + ", ".join(KIND_CODES[kind])
            + ")",
        )
    adl = raw.get("adl")
    if adl is not None and adl not in ADLS:
        fail("adl", f"{adl!r} is not one of " + ", ".join(ADLS))
    if adl is not None and kind is not Kind.SELF_CARE:
        fail("adl", "only self-care entries name a basic ADL")
    raw_dose = raw["dose"]
    if not isinstance(raw_dose, dict):
        fail("dose", "must be a table of dose fields")
    unknown_dose = sorted(set(raw_dose) - set(DOSE_FIELDS))
    if unknown_dose:
        fail(
            f"dose.{unknown_dose[0]}",
            "unknown dose field (the fields are: " + ", ".join(DOSE_FIELDS) + ")",
        )
    for name, value in raw_dose.items():
        if isinstance(value, bool) or not isinstance(value, int):
            fail(f"dose.{name}", "must be a whole number")
    dose = Dose(**raw_dose)
    for name, message in dose_errors(dose).items():
        fail(f"dose.{name}", message)
    return Entry(
        key=key,
        version=version,
        title=texts["title"],
        kind=kind,
        summary=texts["summary"],
        regions=lists["regions"],
        disciplines=lists["disciplines"],
        position=texts["position"],
        equipment=lists["equipment"],
        steps=lists["steps"],
        cues=lists["cues"],
        precautions=lists["precautions"],
        dose=dose,
        billing_code=code,
        adl=adl,
        topics=lists["topics"],
    )


def parse_library_file(text: str, file: str) -> tuple[Entry, ...]:
    """The entries of one library file, strictly checked (`LibraryDataError` otherwise)."""
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise LibraryDataError(file, "TOML", str(error)) from None
    unknown = sorted(set(document) - {"library", "entry"})
    if unknown:
        raise LibraryDataError(file, "top level", f"{unknown[0]}: unknown table")
    header = document.get("library")
    if not isinstance(header, dict):
        raise LibraryDataError(file, "[library]", "missing header table")
    if set(header) != _HEADER_FIELDS:
        extra = sorted(set(header) ^ _HEADER_FIELDS)
        raise LibraryDataError(
            file, "[library]", f"{extra[0]}: the header has exactly release, group and source"
        )
    if header["release"] != LIBRARY_RELEASE:
        raise LibraryDataError(
            file,
            "[library]",
            f"release: {header['release']!r} is not the library release {LIBRARY_RELEASE!r}",
        )
    raw_entries = document.get("entry")
    if not isinstance(raw_entries, list) or not raw_entries:
        raise LibraryDataError(file, "[[entry]]", "the file holds no entries")
    return tuple(_entry(raw, file, index) for index, raw in enumerate(raw_entries))


def load_entries(files: Sequence[tuple[str, str]]) -> tuple[Entry, ...]:
    """Entries of (file name, text) pairs, sorted by key; keys and titles must be unique."""
    entries: list[Entry] = []
    seen_keys: dict[str, str] = {}
    seen_titles: dict[str, str] = {}
    for file, text in files:
        for item in parse_library_file(text, file):
            if item.key in seen_keys:
                raise LibraryDataError(
                    file, f"entry {item.key!r}", f"key: already used in {seen_keys[item.key]}"
                )
            title = item.title.casefold()
            if title in seen_titles:
                raise LibraryDataError(
                    file,
                    f"entry {item.key!r}",
                    f"title: {item.title!r} is already the title of {seen_titles[title]}",
                )
            seen_keys[item.key] = file
            seen_titles[title] = item.key
            entries.append(item)
    return tuple(sorted(entries, key=lambda e: e.key))


@cache
def builtin_entries() -> tuple[Entry, ...]:
    """Every built-in entry, sorted by key (loaded once per process)."""
    folder = resources.files("handrail.library") / "data"
    files = sorted(
        (item.name, item.read_text(encoding="utf-8"))
        for item in folder.iterdir()
        if item.name.endswith(".toml")
    )
    return load_entries(files)


@cache
def _by_key() -> Mapping[str, Entry]:
    return {item.key: item for item in builtin_entries()}


def entry(key: str) -> Entry:
    """The built-in entry with this key; `KeyError` naming the key otherwise."""
    try:
        return _by_key()[key]
    except KeyError:
        raise KeyError(f"no built-in library entry with key {key!r}") from None

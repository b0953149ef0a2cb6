"""Hypothesis strategies shared by the property tests: JSON values, visit records, junk.

Runs are bounded and derandomized so CI sees the same examples every time. For a deeper
search set HANDRAIL_PROPERTY_SCALE=N: N times the examples, and a random search (new examples
each run) instead of the fixed one.
"""

from __future__ import annotations

import os
from datetime import date
from functools import cache
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from handrail.officialdata.builtin import builtin_tables
from handrail.rules.catalog import CATALOG, DISCIPLINES
from handrail.rules.visit_record import (
    COUNTER_FIELDS,
    LINE_FIELDS,
    NOTE_FIELDS,
    PAYER_FIELDS,
    PAYER_TYPES,
    SAME_DAY_FIELDS,
    THRESHOLD_FIELDS,
    VISIT_FIELDS,
)

FIRST_DAY = date(2025, 1, 1)
LAST_DAY = date(2026, 12, 31)


SCALE = int(os.environ.get("HANDRAIL_PROPERTY_SCALE", "1") or "1")


def bounded(max_examples: int) -> settings:
    """Settings of every property test: a fixed number of examples, the same ones each run."""
    return settings(
        max_examples=max_examples * SCALE,
        deadline=None,
        derandomize=SCALE == 1,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )


# Values at the edges of what JSON (and Python's json module, which reads NaN/Infinity and
# integers of any size) can hold.
EDGE_NUMBERS: st.SearchStrategy[Any] = st.sampled_from(
    [
        0,
        -1,
        -0.0,
        0.5,
        -15,
        7,
        8,
        22,
        23,
        1440,
        1441,
        2**63,
        -(2**63) - 1,
        10**400,
        -(10**400),
        1e308,
        -1e308,
        5e-324,
        float("nan"),
        float("inf"),
        float("-inf"),
        15.0,
        15.5,
    ]
)
EDGE_TEXT: st.SearchStrategy[str] = st.sampled_from(
    [
        "",
        " ",
        "\n",
        "NaN",
        "sNaN",
        "Infinity",
        "-1",
        "1e999999999",
        "9" * 400,
        "2026-02-30",
        "2026-13-01",
        "0000-01-01",
        "97535",
        " 97535 ",
        "g0283",
        "01182-18",
        "01182-",
        "-",
        "12345-6789",
        "\ud800",
        "\x00",
        "🦵" * 50,
        "é" * 10_000,
        "x" * 100_000,
    ]
)
JSON_SCALARS: st.SearchStrategy[Any] = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=30),
    EDGE_NUMBERS,
    EDGE_TEXT,
)
JSON_VALUES: st.SearchStrategy[Any] = st.recursive(
    JSON_SCALARS,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(st.one_of(st.text(max_size=12), EDGE_TEXT), children, max_size=4),
    ),
    max_leaves=12,
)


# The properties draw localities and ZIPs from the built-in CMS tables (GPCI 2025/2026, ZIP5).
@cache
def gpci_localities() -> dict[int, tuple[str, ...]]:
    """MAC-LOC keys of the built-in GPCI tables, by year."""
    return {
        table.release.effective_from.year: tuple(f"{row[0]}-{row[2]}" for row in table.rows())
        for table in builtin_tables()
        if table.release.kind == "gpci"
    }


@cache
def zip_codes() -> st.SearchStrategy[str]:
    """Every 100th ZIP code of the built-in ZIP-to-locality table."""
    (table,) = [t for t in builtin_tables() if t.release.kind == "zip5"]
    return st.sampled_from([str(row[0]) for row in table.rows()[::100]])


@cache
def localities_in(year: int) -> st.SearchStrategy[str]:
    """MAC-LOC keys of the GPCI table of `year` (the latest table for later years)."""
    found = gpci_localities()
    return st.sampled_from(found.get(year) or found[max(found)])


@cache
def _codes_from(start: date | None) -> st.SearchStrategy[str]:
    return st.sampled_from(
        sorted(
            code
            for code, spec in CATALOG.items()
            if spec.valid_from is None or (start is not None and spec.valid_from <= start)
        )
    )


def codes_on(on: date) -> st.SearchStrategy[str]:
    """The catalog codes in force on `on` (one strategy per distinct set of codes)."""
    starts = [spec.valid_from for spec in CATALOG.values() if spec.valid_from is not None]
    return _codes_from(max((start for start in starts if start <= on), default=None))


NOTE_TEXT = st.one_of(
    st.text(max_size=40),
    st.sampled_from(
        [
            "ADL training performed",
            "Patient independent with dressing; baseline max assist with lower body dressing",
            "Taught one-handed shoelace technique with verbal cues; skilled instruction needed "
            "for safety; patient completed 3 of 4 trials",
            "Strengthening exercises, 3x10 theraband",
            "Caregiver trained in transfers; home program revised",
            "did great, motivated",
        ]
    ),
)


NOTE_FIELD_NAMES = st.lists(st.sampled_from(NOTE_FIELDS), unique=True, max_size=len(NOTE_FIELDS))
NOTE_FIELD_TEXT = st.one_of(st.none(), NOTE_TEXT)
NOTE_KINDS = st.sampled_from(["none", "absent", "text", "fields"])


@st.composite
def notes(draw: st.DrawFn) -> Any:
    kind = draw(NOTE_KINDS)
    if kind == "none":
        return None
    if kind == "absent":
        return "absent"  # the caller leaves the key out
    if kind == "text":
        return draw(NOTE_TEXT)
    chosen = draw(NOTE_FIELD_NAMES)
    return {name: draw(NOTE_FIELD_TEXT) for name in chosen}


@st.composite
def visit_lines(draw: st.DrawFn, on: date) -> dict[str, Any]:
    minutes = draw(st.integers(0, 200))
    line: dict[str, Any] = {"code": draw(codes_on(on)), "minutes": minutes}
    if draw(st.booleans()):
        line["assistant_minutes"] = draw(st.integers(0, minutes))
    note = draw(notes())
    if note != "absent":
        line["note"] = note
    if draw(st.integers(0, 4)) == 0:
        line["units"] = draw(st.integers(0, 16))
    previous = draw(notes())
    if previous != "absent" and draw(st.integers(0, 3)) == 0:
        line["previous_note"] = note if draw(st.booleans()) and note != "absent" else previous
    return line


@st.composite
def same_day_lines(draw: st.DrawFn, on: date) -> dict[str, Any]:
    line: dict[str, Any] = {"code": draw(codes_on(on)), "units": draw(st.integers(0, 8))}
    if draw(st.booleans()):
        line["assistant"] = draw(st.booleans())
    return line


DIAGNOSES = st.sampled_from(
    [
        "I69.351",
        "Z47.1",
        "M54.50",
        "M54.5",
        "R26.81",
        "S72.001A",
        "S72",
        "G81.91",
        "R13.12",
        "F80.0",
        "U07.1",
        "XYZ",
        "A00",
        "M17.11",
        "z96.651",
    ]
)


@st.composite
def valid_visits(draw: st.DrawFn) -> dict[str, Any]:
    """A visit record as `handrail visit` reads it, valid field by field."""
    on = draw(st.dates(FIRST_DAY, LAST_DAY))
    record: dict[str, Any] = {
        "date": on.isoformat(),
        "discipline": draw(st.sampled_from(DISCIPLINES)),
        "lines": draw(st.lists(visit_lines(on), min_size=1, max_size=5)),
    }
    if draw(st.booleans()):
        payer: dict[str, Any] = {"type": draw(st.sampled_from(PAYER_TYPES))}
        if draw(st.booleans()):
            payer["unit_rule"] = draw(st.sampled_from(["cms", "per-code"]))
        if draw(st.booleans()):
            payer["distinct_modifier"] = draw(st.sampled_from(["59", "XE", "XS", "XP", "XU"]))
        record["payer"] = payer
    where = draw(st.sampled_from(["national", "locality", "zip", "zip+4"]))
    if where == "locality":
        record["locality"] = draw(localities_in(on.year))
    elif where == "zip":
        record["zip"] = draw(zip_codes())
    elif where == "zip+4":
        record["zip"] = draw(zip_codes()) + "-" + str(draw(st.integers(0, 9999))).zfill(4)
    for flag in ("facility", "qp", "patient_present", "caregiver_present", "distinct_services"):
        if draw(st.booleans()):
            record[flag] = draw(st.booleans())
    record["telehealth"] = draw(st.sampled_from([None, "home", "other"]))
    if draw(st.booleans()):
        record["diagnoses"] = draw(st.lists(DIAGNOSES, max_size=3))
    if draw(st.booleans()):
        cents = draw(st.one_of(st.integers(0, 1_000_000), st.sampled_from([239_999, 241_000])))
        accrued: Any = draw(
            st.sampled_from([cents // 100, cents / 100, f"{cents // 100}.{cents % 100:02d}"])
        )
        record["threshold"] = {
            "accrued_before": accrued,
            "medical_necessity_attested": draw(st.booleans()),
        }
    if draw(st.booleans()):
        record["counters"] = {
            "treatment_day": draw(st.one_of(st.none(), st.integers(0, 40))),
            "days_since_certification": draw(st.one_of(st.none(), st.integers(0, 200))),
            "days_since_first_treatment": draw(st.one_of(st.none(), st.integers(0, 120))),
            "plan_certified": draw(st.one_of(st.none(), st.booleans())),
        }
    if draw(st.integers(0, 3)) == 0:
        record["same_day"] = draw(st.lists(same_day_lines(on), max_size=4))
    return record


@st.composite
def mutated_visits(draw: st.DrawFn) -> Any:
    """A valid visit with one to three fields anywhere in it dropped or replaced by junk."""
    record: Any = draw(valid_visits())
    for _ in range(draw(st.integers(1, 3))):
        record = _mutate(draw, record)
    return record


def _mutate(draw: st.DrawFn, value: Any) -> Any:
    """Replace `value`, or one field or item inside it (at any depth), with any JSON value."""
    if isinstance(value, dict) and value and draw(st.integers(0, 3)) > 0:
        key = draw(st.sampled_from(sorted(value)))
        copy = dict(value)
        action = draw(st.sampled_from(["drop", "replace", "descend"]))
        if action == "drop":
            del copy[key]
        elif action == "replace":
            copy[key] = draw(JSON_VALUES)
        else:
            copy[key] = _mutate(draw, copy[key])
        return copy
    if isinstance(value, list) and value and draw(st.integers(0, 3)) > 0:
        index = draw(st.integers(0, len(value) - 1))
        copy_list = list(value)
        action = draw(st.sampled_from(["drop", "replace", "descend", "duplicate"]))
        if action == "drop":
            del copy_list[index]
        elif action == "replace":
            copy_list[index] = draw(JSON_VALUES)
        elif action == "duplicate":
            copy_list.extend([copy_list[index]] * draw(st.integers(1, 40)))
        else:
            copy_list[index] = _mutate(draw, copy_list[index])
        return copy_list
    return draw(JSON_VALUES)


# Every field of the visit record contract (lines[0], diagnoses[0]: the first item), for
# mutations aimed at one field at a time.
FIELD_PATHS: tuple[tuple[str | int, ...], ...] = (
    ("date",),
    ("discipline",),
    ("lines",),
    ("lines", 0),
    ("lines", 0, "code"),
    ("lines", 0, "minutes"),
    ("lines", 0, "assistant_minutes"),
    ("lines", 0, "units"),
    ("lines", 0, "note"),
    ("lines", 0, "note", "text"),
    ("lines", 0, "note", "baseline"),
    ("lines", 0, "note", "performance"),
    ("payer",),
    ("payer", "type"),
    ("payer", "unit_rule"),
    ("payer", "distinct_modifier"),
    ("locality",),
    ("zip",),
    ("facility",),
    ("qp",),
    ("telehealth",),
    ("patient_present",),
    ("caregiver_present",),
    ("distinct_services",),
    ("diagnoses",),
    ("diagnoses", 0),
    ("threshold",),
    ("threshold", "accrued_before"),
    ("threshold", "medical_necessity_attested"),
    ("counters",),
    ("counters", "treatment_day"),
    ("counters", "days_since_certification"),
    ("counters", "days_since_first_treatment"),
    ("counters", "plan_certified"),
    ("lines", 0, "previous_note"),
    ("same_day",),
    ("same_day", 0),
    ("same_day", 0, "code"),
    ("same_day", 0, "units"),
    ("same_day", 0, "assistant"),
)
EXPONENTS = st.sampled_from([0, 1, 2, 15, 16, 300, 308, 309, 400, 999_999, 10**6, 10**9, -400])
NUMBER_TEXT: st.SearchStrategy[str] = st.one_of(
    st.decimals(allow_nan=True, allow_infinity=True).map(str),
    st.floats().map(repr),
    st.integers().map(str),
    st.builds("{}e{}".format, st.integers(-99, 99), EXPONENTS),
)
# Integers reach past Python's 4300-digit str() limit; the texts go to 1e1000000000.
INT_EXPONENTS = st.sampled_from([0, 1, 2, 15, 16, 300, 308, 309, 400, 4000, 5000])
HUGE_NUMBERS: st.SearchStrategy[Any] = st.one_of(
    st.builds(
        lambda mantissa, exponent: mantissa * 10**exponent, st.integers(-9, 9), INT_EXPONENTS
    ),
    st.builds("{}e{}".format, st.integers(-9, 9), EXPONENTS),
)
NUMBERS: st.SearchStrategy[Any] = st.one_of(
    HUGE_NUMBERS,
    st.integers(),
    st.floats(allow_nan=True, allow_infinity=True),
    EDGE_NUMBERS,
    NUMBER_TEXT,
)
FIELD_VALUES: st.SearchStrategy[Any] = st.one_of(JSON_SCALARS, NUMBERS, JSON_VALUES)
NUMERIC_PATHS: tuple[tuple[str | int, ...], ...] = (
    ("lines", 0, "minutes"),
    ("lines", 0, "assistant_minutes"),
    ("lines", 0, "units"),
    ("threshold", "accrued_before"),
    ("counters", "treatment_day"),
    ("counters", "days_since_certification"),
    ("counters", "days_since_first_treatment"),
    ("same_day", 0, "units"),
)
TEXT_KEYS = st.one_of(st.text(max_size=8), EDGE_TEXT)


@st.composite
def field_mutated_visits(draw: st.DrawFn) -> dict[str, Any]:
    """A valid visit with one field of the contract (at any depth) set to any JSON value."""
    return set_field(draw(valid_visits()), draw(st.sampled_from(FIELD_PATHS)), draw(FIELD_VALUES))


@st.composite
def number_mutated_visits(draw: st.DrawFn) -> dict[str, Any]:
    """A valid visit with one numeric field set to any number or numeric text."""
    return set_field(draw(valid_visits()), draw(st.sampled_from(NUMERIC_PATHS)), draw(NUMBERS))


@st.composite
def key_mutated_visits(draw: st.DrawFn) -> dict[str, Any]:
    """A valid visit with an unknown key (any text) added to one of its objects."""
    path = draw(st.sampled_from([(), ("lines", 0), ("lines", 0, "note"), ("payer",)]))
    path += (draw(TEXT_KEYS),)
    return set_field(draw(valid_visits()), path, draw(JSON_SCALARS))


# Every object of the visit record contract and its fields ("lines", 0: any line).
OBJECT_FIELDS: tuple[tuple[tuple[str | int, ...], tuple[str, ...]], ...] = (
    ((), VISIT_FIELDS),
    (("lines", 0), LINE_FIELDS),
    (("lines", 0, "note"), NOTE_FIELDS),
    (("lines", 0, "previous_note"), NOTE_FIELDS),
    (("payer",), PAYER_FIELDS),
    (("threshold",), THRESHOLD_FIELDS),
    (("counters",), COUNTER_FIELDS),
    (("same_day", 0), SAME_DAY_FIELDS),
)
UNKNOWN_KEYS = st.one_of(
    st.text(max_size=20),
    EDGE_TEXT,
    # near misses of real field names: one character changed, dropped or added
    st.builds(
        lambda name, at, char: name[:at] + char + name[at + 1 :],
        st.sampled_from(sorted({f for _, fields in OBJECT_FIELDS for f in fields})),
        st.integers(0, 30),
        st.sampled_from(["", "_", "s", "x", "-", " "]),
    ),
)


@st.composite
def unknown_key_visits(draw: st.DrawFn) -> tuple[dict[str, Any], tuple[str | int, ...], str]:
    """A valid visit with a key its object does not know added to one object (at any depth,
    any line); returns the visit, the object's path and the key."""
    record = draw(valid_visits())
    path, fields = draw(st.sampled_from(OBJECT_FIELDS))
    if path[:1] == ("lines",):
        path = ("lines", draw(st.integers(0, len(record["lines"]) - 1)), *path[2:])
    elif path[:1] == ("same_day",) and record.get("same_day"):
        path = ("same_day", draw(st.integers(0, len(record["same_day"]) - 1)))
    key = draw(UNKNOWN_KEYS.filter(lambda key: key not in fields))
    value = draw(JSON_VALUES)
    if path:
        set_field(record, (*path, key), value)
    else:
        record[key] = value
    return record, path, key


def set_field(record: dict[str, Any], path: tuple[str | int, ...], value: Any) -> dict[str, Any]:
    """`record` with the field at `path` set to `value`, making the objects on the way."""
    target: Any = record
    for step in path[:-1]:
        if isinstance(step, int):
            if not target:
                target.append({})
            if not isinstance(target[step], dict):
                target[step] = {}
        elif not isinstance(target.get(step), dict | list):
            target[step] = [] if step in ("lines", "diagnoses", "same_day") else {}
        # Copy each object on the way: a generated visit may share one object between two
        # fields (note and previous_note), and the change must reach only the path's own.
        child = target[step]
        target[step] = dict(child) if isinstance(child, dict) else list(child)
        target = target[step]
    last = path[-1]
    if isinstance(last, int):
        if target:
            target[last] = value
        else:
            target.append(value)
    else:
        target[last] = value
    return record

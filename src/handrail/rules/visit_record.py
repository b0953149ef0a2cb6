"""The structured visit record the engine evaluates, and its parser.

The parser checks every field and raises `RuleInputError` naming the field path
(`lines[1].assistant_minutes`) and how to fix it, so a bad record never half-evaluates.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any, Literal, cast

from handrail.rules.catalog import CATALOG, DISCIPLINES, CodeSpec, Discipline, code_spec
from handrail.rules.model import RuleInputError

UnitRule = Literal["cms", "per-code"]
Telehealth = Literal["home", "other"]
DistinctModifier = Literal["59", "XE", "XS", "XP", "XU"]

PAYER_TYPES = ("medicare", "medicare-advantage", "medicaid", "commercial", "workers-comp", "other")
MAX_LINE_MINUTES = 24 * 60  # nothing happens more than once a day
MAX_LINE_UNITS = MAX_LINE_MINUTES // 15  # a day of 15-minute units
MAX_ACCRUED = Decimal("10000000")  # far past any therapy year; bounds the arithmetic
NOTE_FIELDS = ("baseline", "task", "technique", "skilled", "performance", "text")
# Every object of the record has a closed set of fields: a misspelt one ("assistant_minute")
# would otherwise be dropped silently and change what the claim pays, so it is refused.
VISIT_FIELDS = (
    "date",
    "discipline",
    "lines",
    "payer",
    "locality",
    "zip",
    "facility",
    "qp",
    "telehealth",
    "patient_present",
    "caregiver_present",
    "distinct_services",
    "diagnoses",
    "threshold",
    "counters",
    "same_day",
)
LINE_FIELDS = ("code", "minutes", "assistant_minutes", "units", "note", "previous_note")
PAYER_FIELDS = ("type", "unit_rule", "distinct_modifier")
THRESHOLD_FIELDS = ("accrued_before", "medical_necessity_attested")
COUNTER_FIELDS = (
    "treatment_day",
    "days_since_certification",
    "days_since_first_treatment",
    "plan_certified",
)
SAME_DAY_FIELDS = ("code", "units", "assistant")


@dataclass(frozen=True, slots=True)
class LineNote:
    """Structured documentation of one service line (all free text)."""

    baseline: str = ""  # functional baseline / current level
    task: str = ""  # the task or activity trained
    technique: str = ""  # technique, strategy or device taught
    skilled: str = ""  # why it needed a skilled clinician
    performance: str = ""  # what the patient did: errors, cues, carryover, progress
    text: str = ""  # free narrative

    def combined(self) -> str:
        return " ".join(
            part
            for part in (
                self.baseline,
                self.task,
                self.technique,
                self.skilled,
                self.performance,
                self.text,
            )
            if part
        )


@dataclass(frozen=True, slots=True)
class VisitLine:
    code: str
    minutes: int  # total minutes of the service (therapist and assistant)
    assistant_minutes: int = 0  # of those, minutes an assistant furnished on their own
    note: LineNote | None = None
    requested_units: int | None = None  # units the clinician means to bill (checked)
    # The same code's note from the case's previous visit: a note repeated with no change in
    # the patient's performance reads as maintenance (documentation checks).
    previous_note: LineNote | None = None


@dataclass(frozen=True, slots=True)
class SameDayLine:
    """A claim line billed for the same patient on the same date in another visit (another
    discipline's note, or an earlier session): the day's MPPR, NCCI pairs and MUEs count it."""

    code: str
    units: int
    assistant: bool = False  # carries CQ/CO (paid at 85%)


@dataclass(frozen=True, slots=True)
class Payer:
    type: str = "medicare"
    unit_rule: UnitRule = "cms"
    distinct_modifier: DistinctModifier = "59"  # what this payer wants for distinct services

    @property
    def is_medicare(self) -> bool:
        return self.type == "medicare"


@dataclass(frozen=True, slots=True)
class ThresholdInput:
    accrued_before: Decimal  # this year's allowed therapy amount for the modifier group so far
    medical_necessity_attested: bool


@dataclass(frozen=True, slots=True)
class Counters:
    # treatment days since the last progress report, this visit included
    treatment_day: int | None = None
    days_since_certification: int | None = None  # calendar days since the plan was certified
    # Initial certification: calendar days since the first day of treatment of the plan (the
    # evaluation counts) and whether the plan is certified yet.
    days_since_first_treatment: int | None = None
    plan_certified: bool | None = None


@dataclass(frozen=True, slots=True)
class VisitRecord:
    date: date
    discipline: Discipline
    lines: tuple[VisitLine, ...]
    payer: Payer = field(default_factory=Payer)
    locality: str | None = None  # "MAC-LOC", e.g. "01182-18"
    zip: str | None = None
    facility: bool = False
    qp: bool = False  # qualifying APM participant (2026+ conversion factor)
    telehealth: Telehealth | None = None
    patient_present: bool = True
    caregiver_present: bool = False
    distinct_services: bool = False
    diagnoses: tuple[str, ...] = ()
    threshold: ThresholdInput | None = None
    counters: Counters | None = None
    same_day: tuple[SameDayLine, ...] = ()  # lines of the patient's other visits that day


def parse_date(value: Any, field_name: str) -> date:
    if not isinstance(value, str):
        raise RuleInputError(field_name, "must be a date written YYYY-MM-DD, e.g. 2026-03-14")
    try:
        # fromisoformat also takes 20260314 and 2026-W11-1: the contract is YYYY-MM-DD only.
        if len(value) != 10 or value[4] != "-" or value[7] != "-":
            raise ValueError(value)
        return date.fromisoformat(value)
    except ValueError:
        raise RuleInputError(
            field_name, f"{_quoted(value)} is not a valid date; write YYYY-MM-DD, e.g. 2026-03-14"
        ) from None


def parse_minutes(value: Any, field_name: str) -> int:
    if type(value) is int and 0 <= value <= MAX_LINE_MINUTES:  # the common case, checked once
        return value
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise RuleInputError(field_name, "must be a whole number of minutes, e.g. 23")
    if isinstance(value, float):
        if not value.is_integer():
            raise RuleInputError(field_name, f"{value} is not whole minutes; round to a minute")
        value = int(value)
    minutes = int(value)
    if minutes < 0:
        raise RuleInputError(field_name, f"{_shown(minutes)} is negative; minutes are 0 or more")
    if minutes > MAX_LINE_MINUTES:
        raise RuleInputError(
            field_name,
            f"{_shown(minutes)} minutes is more than a day ({MAX_LINE_MINUTES}); check the entry",
        )
    return minutes


def _quoted(value: Any) -> str:
    """A short, safe echo of a bad value: str() of a huge int raises, and lists can be huge."""
    if isinstance(value, str):
        return repr(value[:40] + ("..." if len(value) > 40 else ""))
    if isinstance(value, bool) or value is None:
        return json_name(value)
    if isinstance(value, int):
        return _shown(value)
    return f"a {type(value).__name__}"


def json_name(value: bool | None) -> str:
    return {True: "true", False: "false", None: "null"}[value]


def _shown(number: int) -> str:
    # str() of an int past 4300 digits raises ValueError; such a number is shown by its size.
    return str(number) if -(10**15) < number < 10**15 else f"a {len(hex(number))}-hex-digit number"


def _bool(data: Mapping[str, Any], key: str, default: bool, path: str) -> bool:
    value = data.get(key, default)
    if value is None:
        return default
    if not isinstance(value, bool):
        raise RuleInputError(f"{path}{key}", "must be true or false")
    return value


def _text(value: Any, field_name: str) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise RuleInputError(field_name, "must be text")
    return _valid_text(value, field_name).strip()


def _valid_text(value: str, field_name: str) -> str:
    """Refuse lone surrogates: JSON can carry them ("\\udcff") but UTF-8 output cannot."""
    if not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise RuleInputError(
                field_name, "contains a character that is not valid text (a lone surrogate)"
            ) from None
    return value


def _mapping(value: Any, field_name: str) -> Mapping[str, Any]:
    if type(value) is dict:  # the common case from json.loads; skips the slower ABC check
        return value
    if not isinstance(value, Mapping):
        raise RuleInputError(field_name, "must be an object")
    return cast(Mapping[str, Any], value)


def _known_fields(data: Mapping[str, Any], known: frozenset[str], path: str) -> Mapping[str, Any]:
    """`data` if every key is one of `known`; otherwise a RuleInputError naming the first
    unknown key by its path, with the nearest known field when one is close."""
    if data.keys() <= known:  # the common case: one set comparison
        return data
    key = next(key for key in data if key not in known)
    raise RuleInputError(f"{path}{_key_name(key)}", _unknown_field_advice(key, known))


def _key_name(key: Any) -> str:
    if isinstance(key, str) and key.strip():
        return key if len(key) <= 60 else key[:60] + "..."
    return _quoted(key)  # a blank key is shown quoted, so the field path names something


def _unknown_field_advice(key: Any, known: Iterable[str]) -> str:
    names = sorted(known)
    # A key far longer than any field name is not a typo of one (and would be slow to compare).
    typo = isinstance(key, str) and len(key) <= 2 * max(map(len, names))
    close = difflib.get_close_matches(key.lower(), names, n=1) if typo else []
    if typo and not close and len(key) >= 3:  # a cut-short name: "perf" for "performance"
        close = [name for name in names if name.startswith(key.lower())][:1]
    if close:
        return f"unknown field; did you mean {close[0]}?"
    return f"unknown field; remove it or use one of {', '.join(names)}"


def _parse_note(value: Any, path: str) -> LineNote | None:
    if value is None:
        return None
    if isinstance(value, str):
        return LineNote(text=_valid_text(value, path).strip())
    data = _known_fields(_mapping(value, path), _NOTE_FIELD_SET, f"{path}.")
    texts = []
    for key in NOTE_FIELDS:
        text = data.get(key)
        # ASCII text is the common case and always valid; _text checks the rest and gives the
        # error (and its field path).
        if type(text) is str and text.isascii():
            texts.append(text.strip())
        else:
            texts.append(_text(text, f"{path}.{key}"))
    return LineNote(*texts)


_NOTE_FIELD_SET = frozenset(NOTE_FIELDS)
_VISIT_FIELD_SET = frozenset(VISIT_FIELDS)
_LINE_FIELD_SET = frozenset(LINE_FIELDS)
_PAYER_FIELD_SET = frozenset(PAYER_FIELDS)
_THRESHOLD_FIELD_SET = frozenset(THRESHOLD_FIELDS)
_COUNTER_FIELD_SET = frozenset(COUNTER_FIELDS)
_SAME_DAY_FIELD_SET = frozenset(SAME_DAY_FIELDS)


def _parse_code(data: Mapping[str, Any], path: str, on: date) -> CodeSpec:
    """The catalog entry of `data["code"]`, in force on the date of service."""
    code = data.get("code")
    if not isinstance(code, str) or not code.strip():
        raise RuleInputError(f"{path}.code", 'is required, e.g. "97535"')
    # A code written as the catalog writes it skips code_spec's normalising and its error.
    spec = CATALOG.get(code) or code_spec(code, field=f"{path}.code")
    if spec.valid_from and on < spec.valid_from:
        raise RuleInputError(
            f"{path}.code",
            f"{spec.code} did not exist before {spec.valid_from.isoformat()}; "
            "pick the code in force on the date of service",
        )
    return spec


def _parse_line(value: Any, index: int, on: date) -> VisitLine:
    path = f"lines[{index}]"
    data = _known_fields(_mapping(value, path), _LINE_FIELD_SET, f"{path}.")
    spec = _parse_code(data, path, on)
    if "minutes" not in data:
        raise RuleInputError(f"{path}.minutes", "is required (0 for an untimed code)")
    minutes = parse_minutes(data["minutes"], f"{path}.minutes")
    assistant = parse_minutes(data.get("assistant_minutes", 0) or 0, f"{path}.assistant_minutes")
    if assistant > minutes:
        raise RuleInputError(
            f"{path}.assistant_minutes",
            f"{assistant} is more than the line's {minutes} minutes; "
            "assistant minutes are part of the line's total",
        )
    requested = data.get("units")
    if requested is not None and (
        isinstance(requested, bool)
        or not isinstance(requested, int)
        or not 0 <= requested <= MAX_LINE_UNITS
    ):
        raise RuleInputError(
            f"{path}.units", f"must be a whole number of units from 0 to {MAX_LINE_UNITS}"
        )
    previous = data.get("previous_note")  # usually absent: skip building its field path
    return VisitLine(
        code=spec.code,
        minutes=minutes,
        assistant_minutes=assistant,
        note=_parse_note(data.get("note"), f"{path}.note"),
        requested_units=requested,
        previous_note=None if previous is None else _parse_note(previous, f"{path}.previous_note"),
    )


def _parse_payer(value: Any) -> Payer:
    if value is None:
        return Payer()
    data = _known_fields(_mapping(value, "payer"), _PAYER_FIELD_SET, "payer.")
    payer_type = data.get("type", "medicare")
    if payer_type not in PAYER_TYPES:
        allowed = ", ".join(PAYER_TYPES)
        raise RuleInputError("payer.type", f"{_quoted(payer_type)} is not one of {allowed}")
    default_rule = "cms" if payer_type == "medicare" else "per-code"
    rule = data.get("unit_rule", default_rule) or default_rule
    if rule not in ("cms", "per-code"):
        raise RuleInputError("payer.unit_rule", f'{_quoted(rule)} is not "cms" or "per-code"')
    distinct = data.get("distinct_modifier", "59") or "59"
    if distinct not in ("59", "XE", "XS", "XP", "XU"):
        raise RuleInputError("payer.distinct_modifier", "must be one of 59, XE, XS, XP, XU")
    return Payer(
        type=payer_type,
        unit_rule=cast(UnitRule, rule),
        distinct_modifier=cast(DistinctModifier, distinct),
    )


def _parse_threshold(value: Any) -> ThresholdInput | None:
    if value is None:
        return None
    data = _known_fields(_mapping(value, "threshold"), _THRESHOLD_FIELD_SET, "threshold.")
    raw = data.get("accrued_before", 0)
    if isinstance(raw, bool) or not isinstance(raw, int | float | str):
        raise RuleInputError("threshold.accrued_before", "must be a dollar amount, e.g. 1840.50")
    try:
        accrued = Decimal(str(raw))
    except (InvalidOperation, ValueError):  # ValueError: an int past str()'s 4300 digits
        raise RuleInputError(
            "threshold.accrued_before", "is not a dollar amount; write one like 1840.50"
        ) from None
    if not accrued.is_finite() or accrued < 0 or accrued > MAX_ACCRUED:
        raise RuleInputError(
            "threshold.accrued_before", f"must be a dollar amount from 0 to {MAX_ACCRUED:,}"
        )
    return ThresholdInput(
        accrued_before=accrued,
        medical_necessity_attested=_bool(data, "medical_necessity_attested", False, "threshold."),
    )


def _optional_count(data: Mapping[str, Any], key: str) -> int | None:
    value = data.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise RuleInputError(f"counters.{key}", "must be a whole number of 0 or more")
    return value


def _parse_counters(value: Any) -> Counters | None:
    if value is None:
        return None
    data = _known_fields(_mapping(value, "counters"), _COUNTER_FIELD_SET, "counters.")
    certified = data.get("plan_certified")
    if certified is not None and not isinstance(certified, bool):
        raise RuleInputError("counters.plan_certified", "must be true, false or null")
    return Counters(
        treatment_day=_optional_count(data, "treatment_day"),
        days_since_certification=_optional_count(data, "days_since_certification"),
        days_since_first_treatment=_optional_count(data, "days_since_first_treatment"),
        plan_certified=certified,
    )


def _parse_diagnoses(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if type(value) is not list and (not isinstance(value, Sequence) or isinstance(value, str)):
        raise RuleInputError("diagnoses", 'must be a list of ICD-10-CM codes, e.g. ["I69.351"]')
    codes: list[str] = []
    for index, item in enumerate(value):
        if not isinstance(item, str) or not item.strip():
            raise RuleInputError(f"diagnoses[{index}]", 'must be an ICD-10-CM code, e.g. "Z47.1"')
        codes.append(_valid_text(item, f"diagnoses[{index}]").strip().upper())
    return tuple(codes)


def _parse_locality(value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or len(value.split("-")) != 2:
        raise RuleInputError(
            "locality", "write the MAC and locality number as MAC-LOC, e.g. 01182-18"
        )
    return value.strip()


def _parse_zip(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 99999:
        text = f"{value:05d}"  # a ZIP written as a JSON number loses its leading zeros
    elif isinstance(value, str):
        text = _valid_text(value, "zip").strip()
    else:
        text = ""
    if not (len(text) in (5, 9, 10) and text[:5].isdigit()):
        raise RuleInputError(
            "zip", f"{_quoted(value)} is not a ZIP code; write 5 digits, e.g. 62701"
        )
    return text[:5]


def _parse_same_day(value: Any, on: date) -> tuple[SameDayLine, ...]:
    if value is None:
        return ()
    if isinstance(value, str) or not isinstance(value, list | tuple):
        raise RuleInputError(
            "same_day", 'must be a list of lines, e.g. [{"code": "97110", "units": 2}]'
        )
    return tuple(_parse_same_day_line(item, index, on) for index, item in enumerate(value))


def _parse_same_day_line(value: Any, index: int, on: date) -> SameDayLine:
    path = f"same_day[{index}]"
    data = _known_fields(_mapping(value, path), _SAME_DAY_FIELD_SET, f"{path}.")
    spec = _parse_code(data, path, on)
    units = data.get("units")
    if isinstance(units, bool) or not isinstance(units, int) or not 0 <= units <= MAX_LINE_UNITS:
        raise RuleInputError(
            f"{path}.units", f"must be a whole number of units from 0 to {MAX_LINE_UNITS}"
        )
    return SameDayLine(spec.code, units, _bool(data, "assistant", False, f"{path}."))


def visit_record_from_dict(data: Any) -> VisitRecord:
    """Parse one visit record (the JSON contract of `handrail visit`)."""
    record = _known_fields(_mapping(data, "visit"), _VISIT_FIELD_SET, "")
    if "date" not in record:
        raise RuleInputError("date", 'is required, e.g. "2026-03-14"')
    on = parse_date(record["date"], "date")
    discipline = record.get("discipline")
    if discipline not in DISCIPLINES:
        raise RuleInputError("discipline", f"must be one of {', '.join(DISCIPLINES)}")
    raw_lines = record.get("lines")
    if not raw_lines or isinstance(raw_lines, str) or not isinstance(raw_lines, list | tuple):
        raise RuleInputError("lines", "must be a non-empty list of service lines")
    telehealth = record.get("telehealth")
    if telehealth not in (None, "home", "other"):
        raise RuleInputError("telehealth", 'must be null, "home" or "other"')
    if record.get("locality") is not None and record.get("zip") is not None:
        raise RuleInputError("locality", "give a locality or a ZIP code, not both")
    return VisitRecord(
        date=on,
        discipline=cast(Discipline, discipline),
        lines=tuple(_parse_line(item, index, on) for index, item in enumerate(raw_lines)),
        payer=_parse_payer(record.get("payer")),
        locality=_parse_locality(record.get("locality")),
        zip=_parse_zip(record.get("zip")),
        facility=_bool(record, "facility", False, ""),
        qp=_bool(record, "qp", False, ""),
        telehealth=cast("Telehealth | None", telehealth),
        patient_present=_bool(record, "patient_present", True, ""),
        caregiver_present=_bool(record, "caregiver_present", False, ""),
        distinct_services=_bool(record, "distinct_services", False, ""),
        diagnoses=_parse_diagnoses(record.get("diagnoses")),
        threshold=_parse_threshold(record.get("threshold")),
        counters=_parse_counters(record.get("counters")),
        same_day=_parse_same_day(record.get("same_day"), on),
    )

"""The visit record parser: every object of the record refuses a field it does not know."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from handrail.rules.model import RuleInputError
from handrail.rules.visit_record import (
    COUNTER_FIELDS,
    LINE_FIELDS,
    NOTE_FIELDS,
    PAYER_FIELDS,
    SAME_DAY_FIELDS,
    THRESHOLD_FIELDS,
    VISIT_FIELDS,
    VisitRecord,
    visit_record_from_dict,
)

NOTE = {"baseline": "b", "task": "t", "technique": "q", "skilled": "s", "performance": "p"}
# A record with every object the contract has, each with every one of its fields.
FULL: dict[str, Any] = {
    "date": "2026-03-12",
    "discipline": "PT",
    "lines": [
        {
            "code": "97110",
            "minutes": 38,
            "assistant_minutes": 20,
            "units": 3,
            "note": {**NOTE, "text": "x"},
            "previous_note": {**NOTE, "text": "y"},
        }
    ],
    "payer": {"type": "medicare", "unit_rule": "cms", "distinct_modifier": "XU"},
    "locality": None,
    "zip": "62701",
    "facility": False,
    "qp": False,
    "telehealth": None,
    "patient_present": True,
    "caregiver_present": False,
    "distinct_services": False,
    "diagnoses": ["M17.11"],
    "threshold": {"accrued_before": "100.00", "medical_necessity_attested": False},
    "counters": {
        "treatment_day": 3,
        "days_since_certification": 20,
        "days_since_first_treatment": 21,
        "plan_certified": True,
    },
    "same_day": [{"code": "97530", "units": 1, "assistant": False}],
}
# (path of the object in FULL, how the parser names it, its fields)
OBJECTS: list[tuple[tuple[Any, ...], str, tuple[str, ...]]] = [
    ((), "", VISIT_FIELDS),
    (("lines", 0), "lines[0].", LINE_FIELDS),
    (("lines", 0, "note"), "lines[0].note.", NOTE_FIELDS),
    (("lines", 0, "previous_note"), "lines[0].previous_note.", NOTE_FIELDS),
    (("payer",), "payer.", PAYER_FIELDS),
    (("threshold",), "threshold.", THRESHOLD_FIELDS),
    (("counters",), "counters.", COUNTER_FIELDS),
    (("same_day", 0), "same_day[0].", SAME_DAY_FIELDS),
]


def with_key(path: tuple[Any, ...], key: str, value: Any = 1) -> dict[str, Any]:
    record = copy.deepcopy(FULL)
    target: Any = record
    for step in path:
        target = target[step]
    target[key] = value
    return record


def refusal(data: Any) -> RuleInputError:
    with pytest.raises(RuleInputError) as raised:
        visit_record_from_dict(data)
    return raised.value


class VisitRecordStrictFieldTests:
    def test_it_parses_the_record_with_every_field_of_every_object(self) -> None:
        assert isinstance(visit_record_from_dict(FULL), VisitRecord)
        for path, _, fields in OBJECTS:
            target: Any = FULL
            for step in path:
                target = target[step]
            assert sorted(target) == sorted(fields), path

    def test_it_refuses_the_misspelt_assistant_minutes_that_billed_at_100_percent(self) -> None:
        record = copy.deepcopy(FULL)
        line = record["lines"][0]
        line["assistant_minute"] = line.pop("assistant_minutes")
        error = refusal(record)
        assert error.field == "lines[0].assistant_minute"
        assert error.message == "unknown field; did you mean assistant_minutes?"

    def test_it_names_the_nearest_field_of_a_misspelt_visit_field(self) -> None:
        record = copy.deepcopy(FULL)
        record["patient_presnt"] = record.pop("patient_present")
        assert str(refusal(record)) == (
            "patient_presnt: unknown field; did you mean patient_present?"
        )

    @pytest.mark.parametrize(("path", "prefix", "fields"), OBJECTS, ids=lambda x: str(x))
    def test_it_refuses_a_misspelt_field_in_every_object(
        self, path: tuple[Any, ...], prefix: str, fields: tuple[str, ...]
    ) -> None:
        for name in fields:
            typo = name[:-1] + name[-1].upper() if name[-1].isalpha() else name + "x"
            error = refusal(with_key(path, typo))
            assert error.field == prefix + typo
            assert error.message == f"unknown field; did you mean {name}?"

    @pytest.mark.parametrize(("path", "prefix", "fields"), OBJECTS, ids=lambda x: str(x))
    def test_it_lists_the_fields_when_nothing_is_close(
        self, path: tuple[Any, ...], prefix: str, fields: tuple[str, ...]
    ) -> None:
        error = refusal(with_key(path, "zzzzzzzz"))
        assert error.field == prefix + "zzzzzzzz"
        assert error.message == (
            f"unknown field; remove it or use one of {', '.join(sorted(fields))}"
        )

    def test_it_suggests_the_field_a_cut_short_name_begins(self) -> None:
        error = refusal(with_key(("lines", 0, "note"), "perf"))
        assert str(error) == "lines[0].note.perf: unknown field; did you mean performance?"

    def test_it_refuses_an_unknown_field_even_when_its_value_is_null(self) -> None:
        assert refusal(with_key(("payer",), "unit_rules", None)).field == "payer.unit_rules"

    def test_it_names_the_first_unknown_field_in_the_order_written(self) -> None:
        record = with_key((), "b_unknown")
        record["a_unknown"] = 1
        assert refusal(record).field == "b_unknown"

    def test_it_shortens_a_very_long_unknown_field_name(self) -> None:
        error = refusal(with_key(("counters",), "k" * 5000))
        assert error.field == "counters." + "k" * 60 + "..."
        assert error.message.startswith("unknown field; remove it or use one of ")

    def test_it_names_a_non_text_key_of_a_python_caller(self) -> None:
        record: dict[Any, Any] = copy.deepcopy(FULL)
        record["payer"][7] = "x"
        error = refusal(record)
        assert error.field == "payer.7"
        assert error.message == "unknown field; remove it or use one of " + ", ".join(
            sorted(PAYER_FIELDS)
        )

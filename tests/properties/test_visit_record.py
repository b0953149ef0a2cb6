"""Property: the visit record parser returns a VisitRecord or raises RuleInputError, never more.

Issue #2 ("Bad input"): every bad value gets a clear error naming the field; nothing else may
escape the parser, whatever JSON arrives.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from handrail.rules.model import RuleInputError, printable
from handrail.rules.ruleset import RuleSet
from handrail.rules.visit import evaluate_visit
from handrail.rules.visit_record import VisitRecord, visit_record_from_dict
from tests.properties.strategies import (
    JSON_VALUES,
    bounded,
    field_mutated_visits,
    key_mutated_visits,
    mutated_visits,
    number_mutated_visits,
    unknown_key_visits,
    valid_visits,
)

BASE = {"date": "2026-03-14", "discipline": "PT", "lines": [{"code": "97110", "minutes": 30}]}


def parse_or_error(data: Any) -> VisitRecord | RuleInputError:
    """The parser's answer: a record, or the RuleInputError (any other exception escapes).

    The error must fit the CLI's one line on stderr and a batch error record in UTF-8.
    """
    try:
        return visit_record_from_dict(data)
    except RuleInputError as error:
        assert isinstance(error.field, str) and error.field.strip(), repr(error.field)
        assert isinstance(error.message, str) and error.message.strip(), repr(error.message)
        assert str(error) == f"{error.field}: {error.message}"
        assert "\n" not in str(error) and "\r" not in str(error), repr(str(error))
        str(error).encode("utf-8")
        return error


class VisitRecordParserTests:
    @bounded(300)
    @given(JSON_VALUES)
    @example([])
    @example({})
    @example({"date": "2026-03-14", "discipline": "OT", "lines": {}})
    @example({"date": "2026-03-14", "discipline": "OT", "lines": [[]]})
    def test_it_answers_any_json_value_with_a_record_or_a_field_error(self, data: Any) -> None:
        answer = parse_or_error(data)
        assert isinstance(answer, VisitRecord | RuleInputError)

    @bounded(200)
    @given(mutated_visits())
    def test_it_answers_a_damaged_visit_with_a_record_or_a_field_error(self, data: Any) -> None:
        answer = parse_or_error(data)
        assert isinstance(answer, VisitRecord | RuleInputError)

    @bounded(300)
    @given(st.one_of(field_mutated_visits(), number_mutated_visits(), key_mutated_visits()))
    def test_it_answers_any_value_in_any_field_with_a_record_or_a_field_error(
        self, data: Any
    ) -> None:
        answer = parse_or_error(data)
        assert isinstance(answer, VisitRecord | RuleInputError)

    @bounded(200)
    @given(valid_visits())
    def test_it_parses_every_valid_visit(self, data: dict[str, Any]) -> None:
        record = visit_record_from_dict(data)
        assert record.date.isoformat() == data["date"]
        assert record.discipline == data["discipline"]
        assert len(record.lines) == len(data["lines"])
        assert [line.minutes for line in record.lines] == [
            line["minutes"] for line in data["lines"]
        ]

    @bounded(200)
    @given(st.one_of(mutated_visits(), field_mutated_visits()))
    def test_it_lets_a_damaged_visit_that_parses_evaluate_or_fail_on_a_field(
        self, rules: RuleSet, data: Any
    ) -> None:
        self.check_evaluation(rules, data)

    @bounded(150)
    @given(number_mutated_visits())
    def test_it_lets_any_number_in_a_numeric_field_evaluate_or_fail_on_the_field(
        self, rules: RuleSet, data: Any
    ) -> None:
        self.check_evaluation(rules, data)

    def check_evaluation(self, rules: RuleSet, data: Any) -> None:
        """Parse `data`; if it parses, evaluate it: a result with valid JSON, or a field error."""
        answer = parse_or_error(data)
        if isinstance(answer, RuleInputError):
            return
        try:
            result = evaluate_visit(answer, rules)
        except RuleInputError as error:
            assert error.field.strip() and error.message.strip()
            return
        document = result.to_dict()
        assert json.loads(json.dumps(document, allow_nan=False)) == document

    @bounded(400)
    @given(unknown_key_visits())
    @example(({**BASE, "patient_presnt": True}, (), "patient_presnt"))
    @example(
        (
            {**BASE, "lines": [{"code": "97110", "minutes": 30, "assistant_minute": 20}]},
            ("lines", 0),
            "assistant_minute",
        )
    )
    def test_it_refuses_an_unknown_key_at_any_level(
        self, case: tuple[dict[str, Any], tuple[str | int, ...], str]
    ) -> None:
        """Issue 7: a misspelt or unknown field anywhere is refused, naming it by its path."""
        data, path, key = case
        answer = parse_or_error(data)
        assert isinstance(answer, RuleInputError), (path, key)
        prefix = "".join(f"[{step}]" if isinstance(step, int) else f".{step}" for step in path)
        prefix = prefix.removeprefix(".") + ("." if path else "")
        if key.strip():
            name = key if len(key) <= 60 else key[:60] + "..."
            assert answer.field == printable(prefix + name)
        else:
            assert answer.field == printable(prefix + repr(key))
        assert answer.message.startswith("unknown field; ")

    @pytest.mark.parametrize("key", ["a\nb", "\udcff"])
    def test_it_names_an_unknown_note_key_printably(self, key: str) -> None:
        data = {**BASE, "lines": [{"code": "97110", "minutes": 30, "note": {key: "x"}}]}
        with pytest.raises(RuleInputError) as raised:
            visit_record_from_dict(data)
        assert "\n" not in str(raised.value)
        str(raised.value).encode("utf-8")

    # Found by these properties: str() of an integer past 4300 digits raised ValueError
    # (fixed in 3ad24b1).
    @pytest.mark.parametrize(
        ("line", "threshold", "field"),
        [
            ({"code": "97110", "minutes": 10**5000}, None, "lines[0].minutes"),
            ({"code": "97110", "minutes": -(10**5000)}, None, "lines[0].minutes"),
            (
                {"code": "97110", "minutes": 30},
                {"accrued_before": 10**5000},
                "threshold.accrued_before",
            ),
        ],
    )
    def test_it_refuses_an_integer_past_the_digit_limit(
        self, line: dict[str, Any], threshold: dict[str, Any] | None, field: str
    ) -> None:
        with pytest.raises(RuleInputError) as raised:
            visit_record_from_dict({**BASE, "lines": [line], "threshold": threshold})
        assert raised.value.field == field

    @pytest.mark.parametrize(
        ("extra", "field"),
        [
            ({"payer": {"type": 10**5000}}, "payer.type"),
            ({"payer": {"unit_rule": 10**5000}}, "payer.unit_rule"),
            ({"zip": 10**5000}, "zip"),
            ({"payer": {"type": [10**5000]}}, "payer.type"),
        ],
    )
    def test_it_refuses_a_payer_or_zip_past_the_digit_limit(
        self, extra: dict[str, Any], field: str
    ) -> None:
        with pytest.raises(RuleInputError) as raised:
            visit_record_from_dict({**BASE, **extra})
        assert raised.value.field == field

    def test_it_refuses_requested_units_past_the_digit_limit(self, rules: RuleSet) -> None:
        data = {**BASE, "lines": [{"code": "97110", "minutes": 30, "units": 10**5000}]}
        with pytest.raises(RuleInputError) as raised:
            evaluate_visit(visit_record_from_dict(data), rules)
        assert raised.value.field == "lines[0].units"

    # Found by these properties: '1e999999999' overflowed the decimal context in the
    # threshold sum, 10**400 printed Infinity in the JSON (fixed in d29a2b6).
    @pytest.mark.parametrize("amount", ["1e999999999", "1e400", 10**400, 1e300])
    def test_it_refuses_an_accrual_past_any_real_year(self, amount: Any) -> None:
        data = {**BASE, "threshold": {"accrued_before": amount}}
        with pytest.raises(RuleInputError) as raised:
            visit_record_from_dict(data)
        assert raised.value.field == "threshold.accrued_before"

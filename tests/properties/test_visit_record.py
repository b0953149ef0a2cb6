"""Property: the visit record parser returns a VisitRecord or raises RuleInputError, never more.

Issue #2 ("Bad input"): every bad value gets a clear error naming the field; nothing else may
escape the parser, whatever JSON arrives.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from handrail.rules.model import RuleInputError
from handrail.rules.ruleset import RuleSet
from handrail.rules.visit import evaluate_visit
from handrail.rules.visit_record import VisitRecord, visit_record_from_dict
from tests.properties.strategies import (
    JSON_VALUES,
    bounded,
    field_mutated_visits,
    mutated_visits,
    valid_visits,
)

BASE = {"date": "2026-03-14", "discipline": "PT", "lines": [{"code": "97110", "minutes": 30}]}
# Known bug (see the xfail tests below): the parser takes any finite accrued_before, however
# large; past about 1e308 the result's JSON holds Infinity, past the decimal context's Emax
# the threshold sum raises decimal.Overflow. The properties skip those records until it is
# fixed; remove this bound then.
HUGE_ACCRUAL = Decimal("1e300")


def has_huge_accrual(record: VisitRecord) -> bool:
    return record.threshold is not None and record.threshold.accrued_before > HUGE_ACCRUAL


def parse_or_error(data: Any) -> VisitRecord | RuleInputError:
    """The parser's answer: a record, or the RuleInputError (any other exception escapes)."""
    try:
        return visit_record_from_dict(data)
    except RuleInputError as error:
        assert isinstance(error.field, str) and error.field.strip(), repr(error.field)
        assert isinstance(error.message, str) and error.message.strip(), repr(error.message)
        assert str(error) == f"{error.field}: {error.message}"
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
    @given(field_mutated_visits())
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

    @bounded(250)
    @given(st.one_of(mutated_visits(), field_mutated_visits()))
    def test_it_lets_a_damaged_visit_that_parses_evaluate_or_fail_on_a_field(
        self, rules: RuleSet, data: Any
    ) -> None:
        answer = parse_or_error(data)
        if isinstance(answer, RuleInputError) or has_huge_accrual(answer):
            return
        try:
            result = evaluate_visit(answer, rules)
        except RuleInputError as error:
            assert error.field.strip() and error.message.strip()
            return
        document = result.to_dict()
        assert json.loads(json.dumps(document, allow_nan=False)) == document

    @pytest.mark.xfail(
        strict=True,
        raises=ArithmeticError,
        reason="bug: threshold.accrued_before '1e999999999' parses, then apply_threshold "
        "raises decimal.Overflow (threshold.py:77) instead of a RuleInputError",
    )
    def test_it_refuses_an_accrual_past_the_decimal_range(self, rules: RuleSet) -> None:
        data = {**BASE, "threshold": {"accrued_before": "1e999999999"}}
        with pytest.raises(RuleInputError) as raised:
            evaluate_visit(visit_record_from_dict(data), rules)
        assert raised.value.field == "threshold.accrued_before"

    @pytest.mark.xfail(
        strict=True,
        raises=ValueError,
        reason="bug: threshold.accrued_before 10**400 (or '1e400') parses and the result's "
        "threshold.accrued_after is float('inf'): `handrail visit --json` prints Infinity",
    )
    def test_it_refuses_an_accrual_too_large_for_json(self, rules: RuleSet) -> None:
        data = {**BASE, "threshold": {"accrued_before": 10**400}}
        try:
            result = evaluate_visit(visit_record_from_dict(data), rules)
        except RuleInputError as error:
            assert error.field == "threshold.accrued_before"
            return
        json.dumps(result.to_dict(), allow_nan=False)

"""The one place the web app calls the rules engine.

`evaluate_record(data)` parses a visit-record dict with the engine's own parser
(`handrail.rules.visit_record.visit_record_from_dict`) and evaluates it against the
RuleSet loaded once per process (`handrail.officialdata.load_ruleset`).
Engine input errors come back as `django.core.exceptions.ValidationError` keyed by the
engine's field path (e.g. "lines[1].assistant_minutes"); an unreadable official-data store
raises `EngineUnavailableError` (the API answers 503).
"""

from __future__ import annotations

from functools import cache
from typing import Any

from django.core.exceptions import ValidationError

from handrail.officialdata import OfficialDataError, load_ruleset
from handrail.rules.model import RuleInputError
from handrail.rules.ruleset import RuleSet
from handrail.rules.visit import evaluate_visit
from handrail.rules.visit_record import visit_record_from_dict


class EngineUnavailableError(RuntimeError):
    """The official data the engine reads could not be loaded."""


@cache
def ruleset() -> RuleSet:
    """The official tables (fee schedule, edits, ICD-10-CM), loaded once per process."""
    try:
        return load_ruleset()
    except OfficialDataError as exc:
        raise EngineUnavailableError(str(exc)) from exc


def evaluate_record(data: dict[str, Any]) -> dict[str, Any]:
    """Evaluate one visit-record dict; returns `VisitResult.to_dict()`."""
    try:
        record = visit_record_from_dict(data)
        result = evaluate_visit(record, ruleset())
    except RuleInputError as exc:
        raise ValidationError({exc.field: exc.message}) from None
    except OfficialDataError as exc:
        raise EngineUnavailableError(str(exc)) from exc
    return result.to_dict()

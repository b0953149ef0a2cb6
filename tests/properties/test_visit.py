"""Property: every valid visit evaluates (or fails on a named field) and the result holds up.

Invariants checked on every result:
- units: claim lines carry exactly the units `apply_units` gives each code; under the CMS
  rule the day's timed units follow the Pub 100-04 ch.5 §20.2 table (8-22 = 1, 23-37 = 2,
  ...; under 8 = 0); under the per-code rule each timed code follows it on its own;
- modifiers: every line bills at least one unit and starts with GP/GO/GN for the plan's
  discipline (§20.1); KX only when the threshold says KX is required (and then on every line
  when attested); CQ only on PT plans, CO only on OT plans;
- money: amounts are 0 or more in whole cents and the payment's allowed amount is the sum of
  the lines;
- the JSON of the result survives json.dumps/json.loads unchanged (no NaN, no Decimal);
- explanations add up (issue 7): each claim line's step gives formulas that recompute, to the
  cent, to its unit amounts; an evaluation never carries CQ/CO; a finding about a code of
  the visit names its line.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from hypothesis import example, given

from handrail.rules.catalog import CATALOG, TimeRule
from handrail.rules.model import RuleInputError
from handrail.rules.ruleset import RuleSet
from handrail.rules.units import apply_units, merge_minutes
from handrail.rules.visit import VisitResult, evaluate_visit
from handrail.rules.visit_record import VisitRecord, visit_record_from_dict
from tests.properties.strategies import bounded, valid_visits
from tests.rules.test_snapshots import line_step, recomputed_units

CENT = Decimal("0.01")
DISCIPLINE_MODIFIER = {"PT": "GP", "OT": "GO", "SLP": "GN"}


def cms_table_units(minutes: int) -> int:
    """CMS Pub 100-04 ch.5 §20.2: 8-22 minutes = 1 unit, 23-37 = 2, 38-52 = 3, ..."""
    units = 0
    upper = 7  # the last minute that still bills `units` units
    while minutes > upper:
        units += 1
        upper += 15
    return units


def timed(code: str) -> bool:
    return CATALOG[code].time_rule is TimeRule.TIMED_15


def in_cents(amount: Decimal) -> bool:
    return amount.is_finite() and amount >= 0 and amount == amount.quantize(CENT)


def check_units(record: VisitRecord, result: VisitResult) -> None:
    merged = merge_minutes([(line.code, line.minutes) for line in record.lines])
    expected = apply_units(merged, record.payer.unit_rule)
    billed: dict[str, int] = {}
    for line in result.claim_lines:
        billed[line.code] = billed.get(line.code, 0) + line.units
    assert billed == {item.code: item.units for item in expected.codes if item.units > 0}
    assert sum(billed.values()) == expected.total_units
    timed_minutes = {item.code: item.minutes for item in merged if timed(item.code)}
    timed_billed = sum(units for code, units in billed.items() if timed(code))
    assert result.units.total_timed_minutes == sum(timed_minutes.values())
    if record.payer.unit_rule == "cms":
        table = cms_table_units(sum(timed_minutes.values()))
        assert result.units.total_timed_units == table
        assert timed_billed == table
    else:
        for code, minutes in timed_minutes.items():
            assert billed.get(code, 0) == cms_table_units(minutes), code


def check_modifiers(record: VisitRecord, result: VisitResult) -> None:
    kx_required = result.threshold is not None and result.threshold.kx_required
    attested = record.threshold is not None and record.threshold.medical_necessity_attested
    for line in result.claim_lines:
        assert line.units > 0, line
        assert line.modifiers[0] == DISCIPLINE_MODIFIER[record.discipline], line
        if "KX" in line.modifiers:
            assert kx_required, line
        elif kx_required:
            assert not attested, line
        if "CQ" in line.modifiers:
            assert record.discipline == "PT", line
        if "CO" in line.modifiers:
            assert record.discipline == "OT", line
        assert ("95" in line.modifiers) == (record.telehealth is not None), line


def check_money(result: VisitResult) -> None:
    for line in result.claim_lines:
        assert in_cents(line.amount), line
        assert all(in_cents(amount) for amount in line.unit_amounts), line
    allowed = result.payment.allowed
    assert in_cents(allowed), allowed
    assert allowed == sum((line.amount for line in result.claim_lines), Decimal("0"))
    if result.payment.coinsurance is not None:
        assert in_cents(result.payment.coinsurance)
        assert result.payment.coinsurance <= allowed


def check_findings(record: VisitRecord, result: VisitResult) -> None:
    """Every finding is complete and points at a line of the visit, if at any."""
    for finding in result.findings:
        assert finding.rule.strip() and finding.message.strip() and finding.fix.strip(), finding
        assert finding.source.label().strip(), finding
        assert finding.line is None or 0 <= finding.line < len(record.lines), finding
    assert result.units.rule == record.payer.unit_rule
    assert result.explanation.steps, "an answer without an explanation"


def check_explanation_adds_up(record: VisitRecord, result: VisitResult) -> None:
    document = result.to_dict()
    for line in result.claim_lines:
        if line.amount == 0 and any(
            step.startswith(f"{line.code}: status ") for step in result.explanation.steps
        ):
            continue
        units, total = recomputed_units(line_step(document, line.to_dict()))
        assert tuple(units) == line.unit_amounts and total == line.amount, line
        if CATALOG[line.code].kind == "evaluation":
            assert not {"CQ", "CO"} & set(line.modifiers), line
    codes = [visit_line.code for visit_line in record.lines]
    for finding in result.findings:
        if finding.code is not None and finding.code in codes:
            assert finding.line == codes.index(finding.code), finding


def check_json(result: VisitResult) -> None:
    document = result.to_dict()
    text = json.dumps(document, allow_nan=False)
    assert json.loads(text) == document
    assert document["total_units"] == sum(line.units for line in result.claim_lines)
    assert document["payment"]["allowed"] == float(result.payment.allowed)


class EvaluateVisitTests:
    def test_it_counts_the_cms_table_as_written(self) -> None:
        assert [cms_table_units(m) for m in (0, 7, 8, 22, 23, 37, 38, 52, 53)] == [
            0,
            0,
            1,
            1,
            2,
            2,
            3,
            3,
            4,
        ]

    @bounded(250)
    @given(valid_visits())
    @example(
        {
            "date": "2026-03-14",
            "discipline": "PT",
            "lines": [
                {"code": "97110", "minutes": 38, "assistant_minutes": 20},
                {"code": "97530", "minutes": 7},
                {"code": "97161", "minutes": 45},
            ],
            "threshold": {"accrued_before": 2400, "medical_necessity_attested": True},
        }
    )
    @example(
        {
            "date": "2025-12-01",
            "discipline": "OT",
            "payer": {"type": "commercial"},
            "lines": [{"code": "97550", "minutes": 200}, {"code": "97551", "minutes": 0}],
            "telehealth": "home",
        }
    )
    def test_it_evaluates_every_valid_visit_consistently(
        self, rules: RuleSet, data: dict[str, Any]
    ) -> None:
        record = visit_record_from_dict(data)
        try:
            result = evaluate_visit(record, rules)
        except RuleInputError as error:
            # Only what the loaded tables cannot answer: a locality/ZIP or a year's fees.
            assert error.field in ("locality", "zip", "date"), error
            assert error.message.strip()
            return
        check_units(record, result)
        check_modifiers(record, result)
        check_money(result)
        check_findings(record, result)
        check_explanation_adds_up(record, result)
        check_json(result)

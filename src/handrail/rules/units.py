"""Minutes to units: the CMS total-time rule, the per-code rule, untimed and caregiver codes.

Sources:
- CMS Pub 100-04 ch.5 §20.2 (the "8-minute rule"): the total minutes of all 15-minute timed
  codes of the day decide the total units (8-22 = 1, 23-37 = 2, ...; under 8 nothing); each
  code first gets its full 15-minute units, then the remaining units go to the codes with the
  largest leftover minutes. Ties are the clinician's choice: we break them deterministically
  (more total minutes, then the order entered) and say so.
- Per-code rule (AMA CPT time rule, used by many commercial payers): each code on its own,
  a unit once the midpoint (8 minutes) of a 15-minute unit is passed.
- Untimed codes: one unit per day whatever the minutes (§20.2).
- 97550/97551 (caregiver training without the patient): 97550 covers the first 30 minutes and
  is reportable from 16 minutes; 97551 adds a unit for each further 15 minutes once 8 of them
  are passed [secondary sources; unverified].
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache

from handrail.rules.catalog import CATALOG, SOURCE_CAREGIVER_CODES, TimeRule, code_spec
from handrail.rules.model import Explanation, Source
from handrail.rules.visit_record import UnitRule

SOURCE_CMS_TOTAL_TIME = Source("CMS Pub 100-04 ch.5 §20.2")
SOURCE_PER_CODE = Source(
    "AMA CPT time rule (unit attained past the midpoint), as applied per code by commercial payers"
)
_CMS_LABEL = SOURCE_CMS_TOTAL_TIME.label()
UNIT_MINUTES = 15
MIDPOINT_MINUTES = 8
CAREGIVER_FIRST_CODE = "97550"
CAREGIVER_ADDON_CODE = "97551"
CAREGIVER_FIRST_MINUTES = 30
CAREGIVER_FIRST_MINIMUM = 16


@dataclass(frozen=True, slots=True)
class CodeMinutes:
    """Minutes of one code for the day (lines of the same code already added together)."""

    code: str
    minutes: int


@dataclass(frozen=True, slots=True)
class CodeUnits:
    code: str
    minutes: int
    units: int


@dataclass(slots=True)
class UnitsResult:
    rule: UnitRule
    total_timed_minutes: int
    total_timed_units: int
    codes: list[CodeUnits]
    explanation: Explanation = field(default_factory=Explanation)
    tie_broken: bool = False

    @property
    def total_units(self) -> int:
        return sum(code.units for code in self.codes)

    def units_of(self, code: str) -> int:
        return sum(item.units for item in self.codes if item.code == code)

    def to_dict(self) -> dict[str, object]:
        return {
            "rule": self.rule,
            "total_timed_minutes": self.total_timed_minutes,
            "total_units": self.total_units,
            "codes": [
                {"code": item.code, "minutes": item.minutes, "units": item.units}
                for item in self.codes
            ],
            "explanation": list(self.explanation.steps),
        }


def units_for_minutes(minutes: int) -> int:
    """Units that `minutes` of 15-minute timed service support (the §20.2 table)."""
    if minutes < MIDPOINT_MINUTES:
        return 0
    return (minutes + MIDPOINT_MINUTES - 1) // UNIT_MINUTES


def _minutes_band(units: int) -> str:
    if units == 0:
        return "under 8 minutes"
    low = units * UNIT_MINUTES - (UNIT_MINUTES - MIDPOINT_MINUTES)
    return f"{low}-{low + UNIT_MINUTES - 1} minutes"


def merge_minutes(items: Sequence[tuple[str, int]]) -> list[CodeMinutes]:
    """Add up the minutes of repeated codes, keeping the order each code first appears."""
    totals: dict[str, int] = {}
    for code, minutes in items:
        totals[code] = totals.get(code, 0) + minutes
    return [CodeMinutes(code, minutes) for code, minutes in totals.items()]


def apply_units(items: Sequence[CodeMinutes], rule: UnitRule) -> UnitsResult:
    """Units of every code of one patient's day under `rule` ("cms" or "per-code")."""
    # No cache of whole days: on the benchmark's 200,000 visits, 134,348 minute mixes are
    # distinct, and computing a day (sentences cached per code and minutes) costs less than
    # a cache lookup plus the copy a shared result would need.
    timed = [item for item in items if _time_rule(item.code) is TimeRule.TIMED_15]
    total_timed = sum(item.minutes for item in timed)
    if rule == "cms":
        result = _cms_total_time(timed, total_timed)
    else:
        result = _per_code(timed, total_timed)
    if len(timed) < len(items):
        _add_untimed(items, result)
        _add_caregiver(items, result)
        order = {item.code: index for index, item in enumerate(items)}
        result.codes.sort(key=lambda unit: order.get(unit.code, len(order)))
    return result


def _time_rule(code: str) -> TimeRule:
    # The catalog's own spelling is the common case; code_spec normalises or explains.
    spec = CATALOG.get(code) or code_spec(code)
    return spec.time_rule


# CMS total-time rule (Pub 100-04 ch.5 §20.2)
def _cms_total_time(timed: Sequence[CodeMinutes], total: int) -> UnitsResult:
    explanation = Explanation()
    total_units = units_for_minutes(total)
    if not timed:
        return UnitsResult("cms", 0, 0, [], explanation)
    parts = " + ".join(f"{item.code} {item.minutes}" for item in timed)
    explanation.steps.append(
        f"CMS total-time rule: timed minutes {parts} = {total} minutes; "
        f"{_minutes_band(total_units)} = {total_units} unit(s) in all ({_CMS_LABEL})"
    )
    full = {item.code: item.minutes // UNIT_MINUTES for item in timed}
    explanation.steps.extend(_full_units_story(item.code, item.minutes) for item in timed)
    remaining = total_units - sum(full.values())
    units = dict(full)
    tie_broken = False
    if remaining > 0:
        ranked = sorted(
            enumerate(timed),
            key=lambda pair: (-(pair[1].minutes % UNIT_MINUTES), -pair[1].minutes, pair[0]),
        )
        winners = [item for _, item in ranked[:remaining]]
        tie_broken = _explain_remainders(ranked, remaining, explanation)
        for item in winners:
            units[item.code] += 1
    elif total_units == 0:
        explanation.add("Under 8 timed minutes in the day: no timed unit is billable")
    codes = [CodeUnits(item.code, item.minutes, units[item.code]) for item in timed]
    return UnitsResult("cms", total, total_units, codes, explanation, tie_broken)


@lru_cache(maxsize=4096)
def _full_units_story(code: str, minutes: int) -> str:
    full, left = divmod(minutes, UNIT_MINUTES)
    return f"{code}: {minutes} min = {full} full 15-minute unit(s), {left} min left over"


def _explain_remainders(
    ranked: Sequence[tuple[int, CodeMinutes]], remaining: int, explanation: Explanation
) -> bool:
    """Say which leftovers won the remaining units, and whether a tie had to be broken."""
    winners = [item for _, item in ranked[:remaining]]
    names = ", ".join(f"{item.code} ({item.minutes % UNIT_MINUTES} min)" for item in winners)
    explanation.add(f"{remaining} more unit(s) go to the largest leftover(s): {names}")
    if remaining >= len(ranked):
        return False
    last_in = ranked[remaining - 1][1].minutes % UNIT_MINUTES
    first_out = ranked[remaining][1]
    if first_out.minutes % UNIT_MINUTES != last_in:
        return False
    tied = [item.code for _, item in ranked if item.minutes % UNIT_MINUTES == last_in]
    explanation.add(
        f"Tie: {', '.join(tied)} each have {last_in} min left over; CMS leaves the choice to "
        "the clinician, Handrail gives it to the code with more total minutes, then the one "
        "entered first; change the minutes or the order to choose otherwise"
    )
    return True


# Per-code rule (each code on its own)
def _per_code(timed: Sequence[CodeMinutes], total: int) -> UnitsResult:
    explanation = Explanation()
    codes = []
    for item in timed:
        units = units_for_minutes(item.minutes)
        codes.append(CodeUnits(item.code, item.minutes, units))
        explanation.steps.append(_per_code_story(item.code, item.minutes, units))
    timed_units = sum(code.units for code in codes)
    return UnitsResult("per-code", total, timed_units, codes, explanation)


@lru_cache(maxsize=4096)
def _per_code_story(code: str, minutes: int, units: int) -> str:
    return (
        f"Per-code rule: {code} {minutes} min is {_minutes_band(units)} = {units} unit(s) "
        f"({SOURCE_PER_CODE.label()})"
    )


# Untimed codes: one unit per day
def _add_untimed(items: Sequence[CodeMinutes], result: UnitsResult) -> None:
    for item in items:
        if _time_rule(item.code) is TimeRule.UNTIMED:
            result.codes.append(CodeUnits(item.code, item.minutes, 1))
            result.explanation.add(
                f"{item.code} is untimed: 1 unit for the day whatever the minutes",
                SOURCE_CMS_TOTAL_TIME,
            )


# Caregiver training 97550 (first 30 minutes) + 97551 (each further 15)
def _add_caregiver(items: Sequence[CodeMinutes], result: UnitsResult) -> None:
    caregiver = [
        item
        for item in items
        if _time_rule(item.code) in (TimeRule.CAREGIVER_FIRST_30, TimeRule.CAREGIVER_EACH_15)
    ]
    if not caregiver:
        return
    total = sum(item.minutes for item in caregiver)
    first = 1 if total >= CAREGIVER_FIRST_MINIMUM else 0
    beyond = total - CAREGIVER_FIRST_MINUTES
    addon = units_for_minutes(beyond) if first and beyond > 0 else 0
    result.codes.append(
        CodeUnits(CAREGIVER_FIRST_CODE, min(total, CAREGIVER_FIRST_MINUTES), first)
    )
    if addon or any(item.code == CAREGIVER_ADDON_CODE for item in caregiver):
        result.codes.append(CodeUnits(CAREGIVER_ADDON_CODE, max(beyond, 0), addon))
    result.explanation.add(
        f"Caregiver training: {total} min in all; 97550 needs at least "
        f"{CAREGIVER_FIRST_MINIMUM} min and covers the first {CAREGIVER_FIRST_MINUTES} "
        f"= {first} unit; 97551 adds a unit per further 15 min from 8 = {addon} unit(s)",
        SOURCE_CAREGIVER_CODES,
    )

"""Services furnished in whole or in part by a therapy assistant: the CQ/CO split.

Sources (CMS Therapy Services page and "Billing Examples Using CQ/CO Modifiers"; SSA §1834(v)):
- CQ marks PT services and CO marks OT services furnished in whole or in part by a PTA/OTA;
  required on claims from 2020-01-01, paid at 85% from 2022-01-01.
- De minimis (CY2020 final rule): the assistant's own minutes count only when they exceed 10%
  of the service, tested per 15-minute unit; minutes furnished together with the therapist
  count as the therapist's.
- CY2022 exceptions: (1) one final unit left: the therapist's 8 or more minutes bill it without
  CQ/CO; (2) two units left where therapist and assistant each furnished 9-14 minutes and
  together 23-28: one unit with CQ/CO and one without.
- Medicare has no SLP-assistant benefit, so there is no assistant modifier for SLP plans.

How units are shared (our statement of the CMS examples as an algorithm):
1. Each full 15 minutes the therapist furnished alone is a unit without CQ/CO; each full 15
   minutes the assistant furnished alone is a unit with it.
2. What is left (0, 1 or 2 units) is decided on the leftover minutes: one unit is billed
   without CQ/CO when the therapist has 8+ leftover minutes or the assistant's leftover is 10%
   of the unit's minutes or less; two units split one each when the therapist has 8+ leftover
   minutes (exception 2 is the case where both have 9-14) and the assistant more than 10% of a
   unit, otherwise both carry CQ/CO.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import lru_cache

from handrail.rules.catalog import Discipline, TimeRule, code_spec
from handrail.rules.model import Explanation, Source

SOURCE_CQ_CO = Source("CMS Therapy Services: billing examples using CQ/CO modifiers (CY2022 PFS)")
SOURCE_DE_MINIMIS = Source("CY2020 PFS final rule, 84 FR 62702-62707 (10% de minimis)")
CQ_CO_REQUIRED_FROM = date(2020, 1, 1)
UNIT_MINUTES = 15
MIDPOINT = 8


@dataclass(frozen=True, slots=True)
class AssistantSplit:
    code: str
    units_without: int  # billed without CQ/CO
    units_with: int  # billed with CQ/CO


def assistant_modifier(discipline: Discipline) -> str | None:
    """CQ for PT plans, CO for OT plans, nothing for SLP."""
    return {"PT": "CQ", "OT": "CO"}.get(discipline)


def _exceeds_de_minimis(assistant: int, unit_minutes: int) -> bool:
    # More than 10% of the unit: compared in whole numbers to avoid float rounding.
    return assistant * 10 > unit_minutes


def split_units(
    code: str,
    units: int,
    therapist_minutes: int,
    assistant_minutes: int,
    explanation: Explanation,
) -> AssistantSplit:
    """Share `units` of one code between lines without and with CQ/CO."""
    split, steps = _split_cached(code, units, therapist_minutes, assistant_minutes)
    explanation.steps.extend(steps)
    return split


@lru_cache(maxsize=65536)
def _split_cached(
    code: str, units: int, therapist_minutes: int, assistant_minutes: int
) -> tuple[AssistantSplit, tuple[str, ...]]:
    explanation = Explanation()
    split = _split(code, units, therapist_minutes, assistant_minutes, explanation)
    return split, tuple(explanation.steps)


def _split(
    code: str,
    units: int,
    therapist_minutes: int,
    assistant_minutes: int,
    explanation: Explanation,
) -> AssistantSplit:
    if assistant_minutes == 0 or units == 0:
        return AssistantSplit(code, units, 0)
    if code_spec(code).time_rule is not TimeRule.TIMED_15:
        return _split_whole_service(code, units, therapist_minutes, assistant_minutes, explanation)
    therapist_full = min(therapist_minutes // UNIT_MINUTES, units)
    assistant_full = min(assistant_minutes // UNIT_MINUTES, units - therapist_full)
    therapist_left = therapist_minutes - therapist_full * UNIT_MINUTES
    assistant_left = assistant_minutes - assistant_full * UNIT_MINUTES
    remaining = units - therapist_full - assistant_full
    without, with_modifier = therapist_full, assistant_full
    explanation.add(
        f"{code}: therapist {therapist_minutes} min alone, assistant {assistant_minutes} min "
        f"alone; full 15-minute units: {therapist_full} therapist, {assistant_full} assistant",
        SOURCE_CQ_CO,
    )
    if remaining == 1:
        plain = therapist_left >= MIDPOINT or not _exceeds_de_minimis(
            assistant_left, therapist_left + assistant_left
        )
        without += plain
        with_modifier += not plain
        explanation.add(_final_unit_reason(code, therapist_left, assistant_left, plain))
    elif remaining >= 2:
        therapist_unit = therapist_left >= MIDPOINT
        without += therapist_unit
        with_modifier += remaining - therapist_unit
        explanation.add(
            f"{code}: two units left from therapist {therapist_left} min and assistant "
            f"{assistant_left} min: "
            + (
                "one without and one with the assistant modifier (CY2022 exception 2)"
                if therapist_unit
                else "both with the assistant modifier (therapist under 8 min)"
            ),
            SOURCE_CQ_CO,
        )
    return AssistantSplit(code, without, with_modifier)


def _final_unit_reason(code: str, therapist: int, assistant: int, plain: bool) -> str:
    if plain and therapist >= MIDPOINT:
        return (
            f"{code}: last unit: the therapist furnished {therapist} min (8 or more), so it is "
            f"billed without the assistant modifier (CY2022 exception 1; {SOURCE_CQ_CO.label()})"
        )
    if plain:
        return (
            f"{code}: last unit: assistant {assistant} of {therapist + assistant} min is 10% or "
            f"less, de minimis, no assistant modifier ({SOURCE_DE_MINIMIS.label()})"
        )
    return (
        f"{code}: last unit: assistant {assistant} of {therapist + assistant} min is over 10% "
        f"and the therapist had under 8 min, so it carries the assistant modifier "
        f"({SOURCE_DE_MINIMIS.label()})"
    )


def _split_whole_service(
    code: str, units: int, therapist: int, assistant: int, explanation: Explanation
) -> AssistantSplit:
    """Untimed and caregiver codes: the 10% test runs on the whole service."""
    total = therapist + assistant
    with_modifier = _exceeds_de_minimis(assistant, total)
    explanation.add(
        f"{code}: assistant furnished {assistant} of {total} min alone: "
        + ("over 10%, assistant modifier applies" if with_modifier else "10% or less, de minimis"),
        SOURCE_DE_MINIMIS,
    )
    return AssistantSplit(code, 0 if with_modifier else units, units if with_modifier else 0)

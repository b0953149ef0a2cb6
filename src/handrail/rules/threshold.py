"""The yearly Medicare therapy threshold (KX modifier) and the targeted medical review amount.

Sources: BBA 2018 §50202; CMS Therapy Services page (2026: $2,480, CR 14252; MR threshold
$3,000 until 2028); Noridian KX threshold page for 2022-2024; 2018-2021 and 2025 from agreeing
secondary sources (labelled unverified). PT and SLP accrue together, OT separately, per
beneficiary per calendar year, on the allowed amount.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from handrail.rules.catalog import Discipline
from handrail.rules.model import Explanation, RuleInputError, Source

_NORIDIAN = "Noridian Medicare KX modifier thresholds page"
THRESHOLDS: dict[int, tuple[Decimal, Source]] = {
    2018: (
        Decimal("2010"),
        Source("BBA 2018 repeal summaries (mmplusinc.com, ppsapta.org)", False),
    ),
    2019: (Decimal("2040"), Source("CMS CR 11055, as quoted by paproviders.org", False)),
    2020: (Decimal("2080"), Source("CY2020 PFS final rule, as quoted by qrmhealth.com", False)),
    2021: (Decimal("2110"), Source("CMS CR 12014, as quoted by AAPC", False)),
    2022: (Decimal("2150"), Source(_NORIDIAN)),
    2023: (Decimal("2230"), Source(f"{_NORIDIAN} (CR 12923)")),
    2024: (Decimal("2330"), Source(f"{_NORIDIAN} (CR 13371)")),
    2025: (Decimal("2410"), Source("several agreeing secondary sources; CMS CR not found", False)),
    2026: (Decimal("2480"), Source("CMS Therapy Services page (CR 14252)")),
}
# Cited when a year has no amount here yet (a new year priced from imported files).
THRESHOLD_SOURCE = Source("BBA 2018 §50202; CMS Therapy Services page (yearly KX threshold)")
REVIEW_THRESHOLD = Decimal("3000")
REVIEW_SOURCE = Source("BBA 2018 §50202; CMS Therapy Services page (MR threshold $3,000)")
NEARING_SHARE = Decimal("0.9")  # warn once 90% of the threshold is used


@dataclass(frozen=True, slots=True)
class ThresholdStatus:
    year: int
    group: str  # "PT+SLP" or "OT"
    amount: Decimal
    accrued_before: Decimal
    accrued_after: Decimal
    kx_required: bool
    nearing: bool
    review_flag: bool
    source: Source


def threshold_group(discipline: Discipline) -> str:
    return "OT" if discipline == "OT" else "PT+SLP"


def threshold_amount(year: int) -> tuple[Decimal, Source]:
    try:
        return THRESHOLDS[year]
    except KeyError:
        raise RuleInputError(
            "date",
            f"no therapy threshold is known for {year} (Handrail has "
            f"{min(THRESHOLDS)}-{max(THRESHOLDS)})",
        ) from None


def apply_threshold(
    *,
    on: date,
    discipline: Discipline,
    accrued_before: Decimal,
    visit_allowed: Decimal,
    explanation: Explanation,
) -> ThresholdStatus:
    """Year-to-date accrual after this visit and whether KX is needed."""
    amount, source = threshold_amount(on.year)
    group = threshold_group(discipline)
    after = accrued_before + visit_allowed
    kx = after > amount
    status = ThresholdStatus(
        year=on.year,
        group=group,
        amount=amount,
        accrued_before=accrued_before,
        accrued_after=after,
        kx_required=kx,
        nearing=not kx and after >= amount * NEARING_SHARE,
        review_flag=after > REVIEW_THRESHOLD,
        source=source,
    )
    explanation.add(
        f"Therapy threshold {on.year} ({group}): ${amount:,}; accrued ${accrued_before:,.2f} "
        f"+ this visit ${visit_allowed:,.2f} = ${after:,.2f}: "
        + ("over the threshold, KX needed" if kx else "not over the threshold"),
        source,
    )
    return status

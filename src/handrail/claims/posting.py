"""What a posted remittance means for a claim: each line's outcome and the claim's state.

A line is *denied* when, net of every posting (reversals included), the payer paid nothing
and moved nothing to the patient: no payment, no patient responsibility. It is *short* when
the payer paid something but also took an adjustment that is not routine: anything other
than the contractual write-off (CO-45), sequestration (CO-253), the multiple procedure
reduction (59) and a prior payer's share (23). Patient responsibility (PR) is never short:
the money is owed by the patient. A claim is paid when no line is denied or short, denied
when every line is denied, and partly paid otherwise (a line for the denials worklist).

# Sources
- ASC X12 005010X221A1 (835) section 1.10.2.8 "Reversals and corrections": a reversal
  (CLP02 = 22) repeats the original claim with every amount negated, so summing the postings
  of a claim gives its net adjudication.
- Group codes: 005010X221A1 CAS01 (CO, PR, OI, PI, CR).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import Final

ZERO: Final = Decimal("0")
ROUTINE_REASONS: Final = frozenset({"45", "253", "59", "23"})
PATIENT_GROUP: Final = "PR"


class LineOutcome(StrEnum):
    PAID = "paid"
    SHORT = "short"
    DENIED = "denied"


class ClaimOutcome(StrEnum):
    PAID = "paid"
    PARTLY_PAID = "partly_paid"
    DENIED = "denied"


@dataclass(frozen=True)
class PostedAdjustment:
    group: str
    reason: str
    amount: Decimal


@dataclass(frozen=True)
class PostedLine:
    """A claim line's net postings: payments and adjustments of every remittance summed."""

    paid: Decimal
    adjustments: tuple[PostedAdjustment, ...]


def net_adjustments(adjustments: Iterable[PostedAdjustment]) -> dict[tuple[str, str], Decimal]:
    """Adjustments summed per (group, reason); a reversal's negative amounts cancel the
    original's, and what nets to zero is dropped."""
    totals: dict[tuple[str, str], Decimal] = {}
    for adjustment in adjustments:
        key = (adjustment.group, adjustment.reason)
        totals[key] = totals.get(key, ZERO) + adjustment.amount
    return {key: amount for key, amount in totals.items() if amount != ZERO}


def line_outcome(line: PostedLine) -> LineOutcome:
    net = net_adjustments(line.adjustments)
    patient = sum((a for (g, _), a in net.items() if g == PATIENT_GROUP), ZERO)
    if line.paid == ZERO and patient == ZERO:
        return LineOutcome.DENIED
    if any(g != PATIENT_GROUP and r not in ROUTINE_REASONS for g, r in net):
        return LineOutcome.SHORT
    return LineOutcome.PAID


def claim_outcome(lines: Iterable[PostedLine]) -> ClaimOutcome:
    """The claim's state after posting, from its lines' net postings."""
    outcomes = [line_outcome(line) for line in lines]
    if outcomes and all(o is LineOutcome.DENIED for o in outcomes):
        return ClaimOutcome.DENIED
    if any(o is not LineOutcome.PAID for o in outcomes):
        return ClaimOutcome.PARTLY_PAID
    return ClaimOutcome.PAID


# Payer check. An 835 names its payer in loop 1000A: N1*PR (N102 the name), REF*2U (the
# payer identification number) or N1*PR N104 (XV, the CMS plan id), and TRN03 (the
# originating company: "1" + the payer's EIN, which some payers fill with their payer id).
# Source: ASC X12 005010X221A1, loop 1000A and TRN03. A claim's payer is known by the name
# the clinic gave it and the electronic payer id its 837P was sent to (2010BB NM109).
def payer_matches(
    *,
    file_name: str,
    file_payer_id: str,
    file_trace_id: str,
    claim_payer_name: str,
    claim_payer_id: str,
) -> bool:
    """Whether the remittance's payer is the claim's payer.

    When both sides carry a payer id (REF*2U or N1*PR N104 against the electronic payer id)
    the ids decide: a different id is a different payer whatever the names say. A TRN03
    equal to the electronic id (with or without its leading "1") is a match. Otherwise
    the names decide, compared without case, punctuation or extra spaces."""
    if claim_payer_id:
        if file_payer_id:
            return _normal(file_payer_id) == _normal(claim_payer_id)
        if _normal(claim_payer_id) in {_normal(file_trace_id), _normal(file_trace_id[1:])}:
            return True
    return bool(_normal(file_name)) and _normal(file_name) == _normal(claim_payer_name)


def _normal(value: str) -> str:
    return " ".join("".join(c if c.isalnum() else " " for c in value.upper()).split())

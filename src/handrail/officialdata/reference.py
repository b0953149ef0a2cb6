"""The full code reference the CLI (`handrail code`) and the web code page show.

`code_answer` is the one function both call: the engine's reference of the code (its rules
part, `handrail.rules.reference.code_reference`) plus this year's Medicare fee schedule
amount of one unit, nationally and in a locality, each with the releases it came from.

Pricing (CMS PFS: amount = (work RVU x work GPCI + PE RVU x PE GPCI + MP RVU x MP GPCI) x
conversion factor, non-facility rate) uses the same functions as `handrail price`. Codes
whose PFS status is not payable (B bundled, I not valid for Medicare, N, X ...) are
priced $0.00 with the reason.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any, Final

from handrail.rules import payment
from handrail.rules.conversion import conversion_factor
from handrail.rules.model import RuleInputError
from handrail.rules.reference import CodeReference, code_reference
from handrail.rules.ruleset import RuleSet

_ZIP5: Final = re.compile(r"\d{5}")
_LOCALITY: Final = re.compile(r"\d{5}-\d{2}")
# CMS PFS status indicators Medicare pays under the fee schedule.
PAYABLE_STATUSES: Final = frozenset({"A", "R", "T"})
_STATUS_REASON: Final = {
    "B": "bundled (status B): Medicare pays it only inside another service",
    "I": "not valid for Medicare (status I)",
    "N": "not covered by Medicare (status N)",
    "X": "not in the Medicare benefit (status X)",
}


@dataclass(frozen=True, slots=True)
class PriceQuote:
    """One unit of the code at one place, or why it could not be priced."""

    where: str  # "national" or the locality's name
    locality: str  # "national" or MAC-LOC
    amount: Decimal | None
    source: str
    note: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "where": self.where,
            "locality": self.locality,
            "amount": None if self.amount is None else str(self.amount),
            "source": self.source,
            "note": self.note,
        }


@dataclass(frozen=True, slots=True)
class CodeAnswer:
    reference: CodeReference
    national: PriceQuote
    local: PriceQuote | None  # None when no locality or ZIP was given

    def to_dict(self) -> dict[str, Any]:
        document = self.reference.to_dict()
        document["price"] = {
            "national": self.national.to_dict(),
            "local": None if self.local is None else self.local.to_dict(),
        }
        return document


def code_answer(
    code: str,
    on: date,
    rules: RuleSet,
    *,
    locality: str | None = None,
    zip5: str | None = None,
) -> CodeAnswer:
    """Everything Handrail says about `code` on `on`; RuleInputError for an unknown code or
    a malformed or unknown locality/ZIP."""
    reference = code_reference(code, on, rules.edits)
    if zip5 is not None and not _ZIP5.fullmatch(zip5.strip()):
        raise RuleInputError("zip", f"{zip5!r} is not a 5-digit ZIP code; write it like 10001")
    if locality is not None and not _LOCALITY.fullmatch(locality.strip()):
        raise RuleInputError(
            "locality", f"{locality!r} is not MAC-LOC; write it as in the GPCI file, e.g. 13202-01"
        )
    national = _quote(reference.code, on, rules, locality=None, zip5=None)
    local = None
    if locality or zip5:
        local = _quote(reference.code, on, rules, locality=locality, zip5=zip5)
    return CodeAnswer(reference=reference, national=national, local=local)


def _quote(
    code: str, on: date, rules: RuleSet, *, locality: str | None, zip5: str | None
) -> PriceQuote:
    place = payment.resolve_locality(rules.fees, on, locality=locality, zip5=zip5)
    where = place.name
    if place.missing_data:  # asked for a place whose tables are not loaded: say which
        where = f"{locality or f'ZIP {zip5}'} (national rates)"
    try:
        row = payment.rvu_for(rules.fees, code, on)
        factor = conversion_factor(on, fees=rules.fees)
    except RuleInputError as error:
        return PriceQuote(where, place.key, None, "", f"not priced: {error.message}")
    source = (
        f"{row.release.label}; {factor.label} CF {factor.amount} ({factor.source.label()}); "
        f"GPCI {place.source}"
    )
    note = ""
    if place.missing_data:
        note = f"priced at national rates: {place.missing_data}. {place.missing_fix}"
    elif place.zip_spans_localities:
        note = place.zip_spans_note
    if row.status not in PAYABLE_STATUSES:
        reason = _STATUS_REASON.get(row.status, f"not payable (status {row.status})")
        return PriceQuote(where, place.key, Decimal("0.00"), source, reason)
    amount = payment.unit_amount(row, place, factor, facility=False)
    return PriceQuote(where, place.key, amount, source, note)

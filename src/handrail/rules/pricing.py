"""The Medicare fee schedule amount of one code on a date of service at a locality.

`price_code` answers for any code of the fee schedule release in force on the date (the
built-in therapy codes, or every code of an imported PPRRVU file), with the releases it used.
The formula, locality and MPPR rules are those of `payment` (sources there); whether a status
is paid follows `fee_status` (CMS RVU file documentation, Attachment A).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from handrail.rules import payment
from handrail.rules.catalog import CATALOG
from handrail.rules.conversion import ConversionFactor, conversion_factor
from handrail.rules.fee_status import SOURCE_STATUS_CODES, FeeStatus, fee_status
from handrail.rules.model import RuleInputError
from handrail.rules.tables import FeeScheduleTables, Release, RvuRow

# A HCPCS code: CPT (5 digits; 4 digits and F, T or U for categories II, III and PLA) or
# HCPCS Level II (a letter and 4 digits).
CODE_SHAPE = re.compile(r"[A-Z0-9]\d{3}[A-Z0-9]")
MAX_UNITS = 100
ZERO = Decimal("0.00")


@dataclass(frozen=True, slots=True)
class CodePrice:
    """What one code pays on a date at a locality, and every figure and release behind it."""

    code: str
    on: date
    units: int
    row: RvuRow  # the fee schedule row (its release: row.release)
    status: FeeStatus
    factor: ConversionFactor
    place: payment.PricingLocality
    facility_rate: bool  # the facility PE was used (asked for, and the code has one)
    pe: Decimal  # the PE RVU used
    unit_amount: Decimal  # one unit, full PE; 0.00 when the status is not paid
    amount: Decimal  # units x unit_amount
    amount_with_mppr: Decimal  # later units at 50% PE for an "always therapy" code
    notes: tuple[str, ...]  # each a sentence: why $0.00, a payment condition, a locality caveat

    @property
    def release(self) -> Release:
        return self.row.release

    @property
    def summary(self) -> str:
        """Handrail's own summary of the code ("" for a code outside its therapy catalog)."""
        spec = CATALOG.get(self.code)
        return "" if spec is None else spec.name

    @property
    def source(self) -> str:
        return (
            f"{self.row.release.label}; {self.factor.label} CF {self.factor.amount} "
            f"({self.factor.source.label()}); GPCI {self.place.source}"
        )


def check_code(code: str, field: str = "code") -> str:
    """The code in capitals, or a RuleInputError naming `field` and the expected shape."""
    text = code.strip().upper()
    if not CODE_SHAPE.fullmatch(text):
        raise RuleInputError(
            field,
            f"{code!r} is not a HCPCS/CPT code; give 5 characters, e.g. 97535 or G0283",
        )
    return text


def price_code(
    fees: FeeScheduleTables,
    code: str,
    on: date,
    *,
    units: int = 1,
    locality: str | None = None,
    zip5: str | None = None,
    facility: bool = False,
    qp: bool = False,
) -> CodePrice:
    """Price `units` of `code` on `on`; `locality` (MAC-LOC) or `zip5`, else national.

    Raises RuleInputError (field code, units, date, locality or zip) for input that cannot be
    priced, with what to do about it.
    """
    wanted = check_code(code)
    if not 1 <= units <= MAX_UNITS:
        raise RuleInputError("units", f"{units} is out of range; give 1 to {MAX_UNITS} units")
    row = _row(fees, wanted, on)
    factor = conversion_factor(on, qp=qp, fees=fees)
    place = payment.resolve_locality(fees, on, locality=locality, zip5=zip5)
    pe, used_facility = payment.pe_rvu(row, facility)
    status = fee_status(row.status)
    notes: list[str] = []
    if status.paid:
        each = payment.unit_amount(row, place, factor, facility=facility)
        reduced = payment.unit_amount(row, place, factor, facility=facility, pe_share=payment.HALF)
        amount = each * units
        with_mppr = each + reduced * (units - 1) if row.always_therapy else amount
        if status.caveat:
            notes.append(
                f"Status {status.code} in {row.release.label} ({status.meaning}): {status.caveat}."
            )
    else:
        each = amount = with_mppr = ZERO
        notes.append(
            f"Status {status.code} in {row.release.label} ({status.meaning}): not paid under "
            f"the Medicare fee schedule, so $0.00 ({SOURCE_STATUS_CODES.label()})."
        )
    notes.extend(_locality_notes(place))
    return CodePrice(
        code=wanted,
        on=on,
        units=units,
        row=row,
        status=status,
        factor=factor,
        place=place,
        facility_rate=used_facility,
        pe=pe,
        unit_amount=each,
        amount=amount,
        amount_with_mppr=with_mppr,
        notes=tuple(notes),
    )


def _row(fees: FeeScheduleTables, code: str, on: date) -> RvuRow:
    row = fees.rvu(code, on)
    if row is not None:
        return row
    in_year = [r for r in fees.releases() if r.kind == "pfs" and r.effective_from.year == on.year]
    if not in_year:
        return payment.rvu_for(fees, code, on)  # no fee schedule for the year: says so
    # The release that answers for the date (see the table providers): named in the message.
    before = [r for r in in_year if r.effective_from <= on] or in_year
    latest = max(r.effective_from for r in before)
    release = min((r for r in before if r.effective_from == latest), key=lambda r: r.builtin)
    scope = ", therapy codes only" if release.builtin else ""
    raise RuleInputError(
        "code",
        f"{code} is not in the fee schedule loaded for {on.year} ({release.label}{scope}); "
        "check the code, or import the year's full CMS PPRRVU file with "
        "`handrail data import pfs FILE` to price any code of the fee schedule",
    )


def _locality_notes(place: payment.PricingLocality) -> list[str]:
    if place.missing_data:
        return [f"Priced at national rates: {place.missing_data}. {place.missing_fix}."]
    if place.zip_spans_localities:
        return [
            f"{place.zip_spans_note}, the locality of its ZIP5 row. Give the locality of the "
            "patient's ZIP+4 (CMS ZIP9 file) as MAC-LOC instead of the ZIP."
        ]
    return []

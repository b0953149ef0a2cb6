"""Writing an 835 remittance (ASC X12 005010X221A1) from the values `x835.read_835` returns.

Handrail never sends an 835: payers do. This writer exists so that the posting code can be
tested and measured against files of any size and shape (the demo clinic's remittance, the
benchmark's 10,000-claim file, the property test's random files), and so that what it writes
is checked by pyx12 and read back by `read_835` (a round trip). It writes what it is given:
it does not balance the amounts for the caller.

Segment order per claim follows the guide's loop 2100 (CLP, CAS, NM1*QC) and loop 2110
(SVC, DTM*472, CAS, REF*6R, AMT*B6, LQ*HE); PLB follows the last claim.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Final

from handrail.claims.x835 import Adjustment, ClaimPayment, LinePayment, Remittance

VERSION: Final = "005010X221A1"
_CAS_PER_SEGMENT: Final = 6
_PLB_PER_SEGMENT: Final = 6


@dataclass(frozen=True)
class Envelope:
    """Who sends (the payer) and receives (the clinic's submitter id), the interchange control
    number and when; `payer_tax_id` goes in TRN03 as "1" + the payer's EIN."""

    sender: str
    receiver: str
    control: int
    created: datetime
    payer_tax_id: str = "512345678"
    production: bool = False


def write_835(remittances: list[Remittance], envelope: Envelope) -> str:
    """One interchange with one functional group and one transaction set per remittance."""
    segments = [_isa(envelope), _segment("GS", "HP", envelope.sender, envelope.receiver,
                envelope.created.strftime("%Y%m%d"), envelope.created.strftime("%H%M"),
                str(envelope.control), "X", VERSION)]  # fmt: skip
    for number, remittance in enumerate(remittances, start=1):
        segments.extend(_transaction(number, remittance, envelope))
    segments.append(_segment("GE", str(len(remittances)), str(envelope.control)))
    segments.append(_segment("IEA", "1", f"{envelope.control:09d}"))
    return "\n".join(segments) + "\n"


def _transaction(number: int, remittance: Remittance, envelope: Envelope) -> list[str]:
    st = f"{number:04d}"
    paid_on = (remittance.payment_date or envelope.created.date()).strftime("%Y%m%d")
    body = [_segment("ST", "835", st), _bpr(remittance, paid_on)]
    body.append(_segment("TRN", "1", remittance.trace_number, "1" + envelope.payer_tax_id))
    body.append(_segment("DTM", "405", paid_on))
    body.append(_segment("N1", "PR", _upper(remittance.payer_name)))
    body.append(_segment("N3", "PO BOX 1000"))
    body.append(_segment("N4", "INDIANAPOLIS", "IN", "46206"))
    if remittance.payer_id:
        body.append(_segment("REF", "2U", remittance.payer_id))
    body.append(_segment("PER", "BL", "PROVIDER SERVICES", "TE", "8005551234"))
    body.append(_segment("N1", "PE", _upper(remittance.payee_name), "XX", remittance.payee_npi))
    if remittance.claims:
        body.append(_segment("LX", "1"))
        for claim in remittance.claims:
            body.extend(_claim(claim))
    body.extend(_plb(remittance, paid_on[:4] + "1231"))
    body.append(_segment("SE", str(len(body) + 1), st))
    return body


def _bpr(remittance: Remittance, paid_on: str) -> str:
    if remittance.total_paid == 0:
        # A notification only: no money moves (BPR01 H, BPR04 NON).
        return _segment("BPR", "H", "0", "C", "NON", *[""] * 11, paid_on)
    return _segment(
        "BPR", "I", _money(remittance.total_paid), "C", remittance.payment_method or "ACH",
        "CCP", "01", "011000015", "DA", "123456789", "1512345678", "", "01", "021000021",
        "DA", "987654321", paid_on,
    )  # fmt: skip


def _claim(claim: ClaimPayment) -> Iterator[str]:
    yield _segment(
        "CLP", claim.control_number, claim.status, _money(claim.charge), _money(claim.paid),
        _money(claim.patient_responsibility) if claim.patient_responsibility else "",
        claim.filing_indicator or "MB", claim.payer_claim_number, "11", "1",
    )  # fmt: skip
    yield from _cas(claim.adjustments)
    last, _, first = (claim.patient_name or "PATIENT,UNKNOWN").partition(",")
    yield _segment("NM1", "QC", "1", _upper(last), _upper(first), "", "", "", "MI",
                   claim.member_id or "UNKNOWN")  # fmt: skip
    for line in claim.lines:
        yield from _line(line)


def _line(line: LinePayment) -> Iterator[str]:
    composite = ":".join(("HC", line.code, *line.modifiers))
    units = "" if line.units == 1 else _quantity(line.units)
    yield _segment("SVC", composite, _money(line.charge), _money(line.paid), "", units)
    if line.service_date is not None:
        yield _segment("DTM", "472", line.service_date.strftime("%Y%m%d"))
    yield from _cas(line.adjustments)
    if line.control_number:
        yield _segment("REF", "6R", line.control_number)
    if line.allowed is not None:
        yield _segment("AMT", "B6", _money(line.allowed))
    for remark in line.remarks:
        yield _segment("LQ", "HE", remark)


def _cas(adjustments: list[Adjustment]) -> Iterator[str]:
    """One CAS per group, up to six reason/amount(/quantity) triplets each, in given order."""
    groups: dict[str, list[Adjustment]] = {}
    for adjustment in adjustments:
        groups.setdefault(adjustment.group, []).append(adjustment)
    for group, items in groups.items():
        for start in range(0, len(items), _CAS_PER_SEGMENT):
            elements: list[str] = []
            for item in items[start : start + _CAS_PER_SEGMENT]:
                quantity = _quantity(item.quantity) if item.quantity is not None else ""
                elements.extend((item.reason, _money(item.amount), quantity))
            yield _segment("CAS", group, *elements)


def _plb(remittance: Remittance, fiscal_period_end: str) -> Iterator[str]:
    items = remittance.provider_adjustments
    for start in range(0, len(items), _PLB_PER_SEGMENT):
        elements: list[str] = []
        for item in items[start : start + _PLB_PER_SEGMENT]:
            reason = f"{item.reason}:{item.reference}" if item.reference else item.reason
            elements.extend((reason, _money(item.amount)))
        yield _segment("PLB", remittance.payee_npi, fiscal_period_end, *elements)


def _isa(envelope: Envelope) -> str:
    return _segment(
        "ISA", "00", " " * 10, "00", " " * 10, "ZZ", envelope.sender.ljust(15), "ZZ",
        envelope.receiver.ljust(15), envelope.created.strftime("%y%m%d"),
        envelope.created.strftime("%H%M"), "^", "00501", f"{envelope.control:09d}", "0",
        "P" if envelope.production else "T", ":",
    )  # fmt: skip


def _segment(tag: str, *elements: str) -> str:
    values = list(elements)
    while values and values[-1] == "":
        values.pop()
    return "*".join([tag, *values]) + "~"


def _money(amount: Decimal) -> str:
    return f"{amount.quantize(Decimal('0.01'))}"


def _quantity(value: Decimal) -> str:
    return format(value.normalize(), "f")


def _upper(value: str) -> str:
    return value.strip().upper()

"""The 835 remittance advice (ASC X12 005010X221A1): read it into plain values and check that
it balances before anything is posted.

pyx12 checks the grammar (`x12_validation.x12_errors`); it does not check the money. The
balancing rules are the 835 implementation guide's (005010X221A1, section 1.10.2 "Balancing"):
- a service line: SVC02 charge - the line's CAS adjustments = SVC03 paid;
- a claim: CLP03 charge - the claim's and its lines' CAS adjustments = CLP04 paid;
- the transaction: BPR02 total paid = the sum of CLP04 - the sum of PLB provider adjustments
  (a PLB amount is positive when it reduces the payment).
A remittance that does not balance is refused whole, so a posting never starts from money
that does not add up.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Final

from handrail.claims.x12_validation import x12_errors

ZERO: Final = Decimal("0")
# CAS carries up to six reason/amount/quantity triplets after its group code.
_CAS_TRIPLETS: Final = 6
# PLB carries up to six reason/amount pairs after the provider id and fiscal period date.
_PLB_PAIRS: Final = 6


class RemittanceError(ValueError):
    """An 835 that cannot be read or does not balance: every problem, each with where it is."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class Adjustment:
    """One CAS triplet: the group (CO contractual, PR patient responsibility, OI other
    insurance, PI payer initiated), the claim adjustment reason code and the amount."""

    group: str
    reason: str
    amount: Decimal
    quantity: Decimal | None = None


@dataclass
class LinePayment:
    """One SVC loop (2110): the code and modifiers as billed, charge, payment, units, the
    date of service, the line item control number Handrail sent (REF*6R), allowed amount
    (AMT*B6), adjustments and remark codes (LQ*HE)."""

    code: str
    modifiers: tuple[str, ...]
    charge: Decimal
    paid: Decimal
    units: Decimal
    segment_number: int
    service_date: date | None = None
    control_number: str = ""
    allowed: Decimal | None = None
    adjustments: list[Adjustment] = field(default_factory=list)
    remarks: list[str] = field(default_factory=list)


@dataclass
class ClaimPayment:
    """One CLP loop (2100): the patient control number Handrail sent (CLM01), the status code,
    charge, payment, patient responsibility, the payer's claim number (for a corrected claim
    later), claim-level adjustments and the lines."""

    control_number: str
    status: str
    charge: Decimal
    paid: Decimal
    patient_responsibility: Decimal
    payer_claim_number: str
    segment_number: int
    adjustments: list[Adjustment] = field(default_factory=list)
    lines: list[LinePayment] = field(default_factory=list)
    filing_indicator: str = ""  # CLP06: MB Medicare Part B, CI commercial, ...
    patient_name: str = ""  # NM1*QC "LAST,FIRST"
    member_id: str = ""  # NM1*QC NM109

    @property
    def all_adjustments(self) -> list[Adjustment]:
        return [*self.adjustments, *(a for line in self.lines for a in line.adjustments)]


@dataclass(frozen=True)
class ProviderAdjustment:
    """One PLB reason/amount pair: e.g. WO overpayment recovery, L6 interest (negative)."""

    reason: str
    reference: str
    amount: Decimal


@dataclass
class Remittance:
    """One 835 transaction set: the payment (BPR), its trace number (TRN02, the check or EFT
    number), who paid and who was paid, the claims and provider-level adjustments.

    The payer is named by N1*PR (N102) and identified, as the file gives it, by TRN03 (the
    originating company identifier: "1" + the payer's EIN) and by loop 1000A's REF*2U (payer
    identification number) or N1*PR N104 (XV, the CMS plan id): `payer_id` holds the
    latter, the electronic payer id the claim was sent to."""

    total_paid: Decimal
    payment_method: str
    trace_number: str
    payment_date: date | None
    payer_name: str = ""
    payer_id: str = ""
    payer_trace_id: str = ""
    payee_name: str = ""
    payee_npi: str = ""
    claims: list[ClaimPayment] = field(default_factory=list)
    provider_adjustments: list[ProviderAdjustment] = field(default_factory=list)


def read_835(text: str) -> list[Remittance]:
    """Every transaction set of the file, or RemittanceError naming every grammar error,
    unreadable amount and imbalance. Nothing is returned in part."""
    grammar = x12_errors(text)
    if grammar:
        raise RemittanceError([f"X12 {error}" for error in grammar])
    return read_valid_835(text)


def read_valid_835(text: str) -> list[Remittance]:
    """`read_835` without pyx12's grammar check, for a file that passed it already (or
    to time Handrail's own part of reading): the values and the balance."""
    problems: list[str] = []
    remittances = list(_remittances(text, problems))
    if not problems:
        for remittance in remittances:
            problems.extend(balance_problems(remittance))
    if problems:
        raise RemittanceError(problems)
    return remittances


def balance_problems(remittance: Remittance) -> list[str]:
    """What does not add up, each naming the claim (and line) and the figures."""
    problems: list[str] = []
    for claim in remittance.claims:
        where = f"claim {claim.control_number} (segment {claim.segment_number})"
        for line in claim.lines:
            adjusted = sum((a.amount for a in line.adjustments), ZERO)
            if line.charge - adjusted != line.paid:
                problems.append(
                    f"{where} line {line.code} (segment {line.segment_number}): charge "
                    f"{line.charge} - adjustments {adjusted} = {line.charge - adjusted}, "
                    f"but the payer says it paid {line.paid}"
                )
        adjusted = sum((a.amount for a in claim.all_adjustments), ZERO)
        if claim.charge - adjusted != claim.paid:
            problems.append(
                f"{where}: charge {claim.charge} - adjustments {adjusted} = "
                f"{claim.charge - adjusted}, but the payer says it paid {claim.paid}"
            )
    paid = sum((claim.paid for claim in remittance.claims), ZERO)
    withheld = sum((a.amount for a in remittance.provider_adjustments), ZERO)
    if paid - withheld != remittance.total_paid:
        problems.append(
            f"payment {remittance.trace_number or '(no trace number)'}: claims paid {paid} - "
            f"provider adjustments {withheld} = {paid - withheld}, but BPR02 says "
            f"{remittance.total_paid}"
        )
    return problems


# --- reading --------------------------------------------------------------------------------


class _Reader:
    """Walks the segments in order, keeping the remittance, claim and line being read."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        self.done: list[Remittance] = []
        self.remittance: Remittance | None = None
        self.claim: ClaimPayment | None = None
        self.line: LinePayment | None = None
        self.number = 0

    def money(self, node: _Segment, ref: str) -> Decimal:
        raw = node.get_value(ref) or ""
        try:
            return Decimal(raw) if raw else ZERO
        except InvalidOperation:
            self.problems.append(f"segment {self.number} {ref}: {raw!r} is not an amount")
            return ZERO

    def read(self, node: _Segment) -> None:
        self.number += 1
        handler = getattr(self, f"on_{node.id.lower()}", None)
        if handler is not None:
            handler(node)

    def on_bpr(self, node: _Segment) -> None:
        self.remittance = Remittance(
            total_paid=self.money(node, "BPR02"),
            payment_method=node.get_value("BPR04") or "",
            trace_number="",
            payment_date=_date(node.get_value("BPR16")),
        )
        self.done.append(self.remittance)
        self.claim = self.line = None

    def on_trn(self, node: _Segment) -> None:
        if self.remittance is not None:
            self.remittance.trace_number = node.get_value("TRN02") or ""
            self.remittance.payer_trace_id = node.get_value("TRN03") or ""

    def on_n1(self, node: _Segment) -> None:
        if self.remittance is None:
            return
        if node.get_value("N101") == "PR":
            self.remittance.payer_name = node.get_value("N102") or ""
            if node.get_value("N104") and not self.remittance.payer_id:
                self.remittance.payer_id = node.get_value("N104") or ""
        elif node.get_value("N101") == "PE":
            self.remittance.payee_name = node.get_value("N102") or ""
            if node.get_value("N103") == "XX":
                self.remittance.payee_npi = node.get_value("N104") or ""

    def on_clp(self, node: _Segment) -> None:
        if self.remittance is None:
            return
        self.claim = ClaimPayment(
            control_number=node.get_value("CLP01") or "",
            status=node.get_value("CLP02") or "",
            charge=self.money(node, "CLP03"),
            paid=self.money(node, "CLP04"),
            patient_responsibility=self.money(node, "CLP05"),
            payer_claim_number=node.get_value("CLP07") or "",
            segment_number=self.number,
            filing_indicator=node.get_value("CLP06") or "",
        )
        self.remittance.claims.append(self.claim)
        self.line = None

    def on_nm1(self, node: _Segment) -> None:
        if self.claim is not None and self.line is None and node.get_value("NM101") == "QC":
            last = node.get_value("NM103") or ""
            first = node.get_value("NM104") or ""
            self.claim.patient_name = f"{last},{first}" if first else last
            self.claim.member_id = node.get_value("NM109") or ""

    def on_svc(self, node: _Segment) -> None:
        if self.claim is None:
            return
        composite = (node.get_value("SVC01") or "").split(":")
        units = node.get_value("SVC05")
        self.line = LinePayment(
            code=composite[1] if len(composite) > 1 else "",
            modifiers=tuple(m for m in composite[2:6] if m),
            charge=self.money(node, "SVC02"),
            paid=self.money(node, "SVC03"),
            units=Decimal(units) if units else Decimal("1"),
            segment_number=self.number,
        )
        self.claim.lines.append(self.line)

    def on_dtm(self, node: _Segment) -> None:
        if self.line is not None and node.get_value("DTM01") == "472":
            self.line.service_date = _date(node.get_value("DTM02"))

    def on_cas(self, node: _Segment) -> None:
        target = self.line if self.line is not None else self.claim
        if target is None:
            return
        group = node.get_value("CAS01") or ""
        for index in range(_CAS_TRIPLETS):
            base = 2 + index * 3
            reason = node.get_value(f"CAS{base:02d}")
            if not reason:
                continue
            quantity = node.get_value(f"CAS{base + 2:02d}")
            target.adjustments.append(
                Adjustment(
                    group,
                    reason,
                    self.money(node, f"CAS{base + 1:02d}"),
                    Decimal(quantity) if quantity else None,
                )
            )

    def on_ref(self, node: _Segment) -> None:
        if self.remittance is not None and self.claim is None and node.get_value("REF01") == "2U":
            # Loop 1000A's additional payer identification: the payer id outranks N1*PR N104.
            self.remittance.payer_id = node.get_value("REF02") or ""
        elif self.line is not None and node.get_value("REF01") == "6R":
            self.line.control_number = node.get_value("REF02") or ""

    def on_amt(self, node: _Segment) -> None:
        if self.line is not None and node.get_value("AMT01") == "B6":
            self.line.allowed = self.money(node, "AMT02")

    def on_lq(self, node: _Segment) -> None:
        if self.line is not None and node.get_value("LQ01") == "HE":
            self.line.remarks.append(node.get_value("LQ02") or "")

    def on_plb(self, node: _Segment) -> None:
        if self.remittance is None:
            return
        self.claim = self.line = None
        for index in range(_PLB_PAIRS):
            position = 3 + index * 2
            composite = node.get_value(f"PLB{position:02d}")
            if not composite:
                continue
            reason, _, reference = composite.partition(":")
            amount = self.money(node, f"PLB{position + 1:02d}")
            self.remittance.provider_adjustments.append(
                ProviderAdjustment(reason, reference, amount)
            )

    def on_se(self, node: _Segment) -> None:
        self.remittance = self.claim = None
        self.line = None


@dataclass(frozen=True)
class _Segment:
    """One segment as its elements: `elements[0]` is the segment id, composites are joined
    with ":" whatever the file's component separator."""

    elements: tuple[str, ...]

    @property
    def id(self) -> str:
        return self.elements[0]

    def get_value(self, ref: str) -> str | None:
        """The element named like the guide does ("CLP04"), or None when absent or empty."""
        index = int(ref[len(self.id) :])
        value = self.elements[index] if index < len(self.elements) else ""
        return value or None


def _segments(text: str) -> Iterator[_Segment]:
    """The file's segments, split on the delimiters its ISA declares (ISA is fixed width: the
    element separator is its 4th character, the component separator its 105th and the
    segment terminator its 106th). Only called once pyx12 found the grammar valid, so the
    ISA is there and whole."""
    text = text.lstrip()
    element, component, terminator = text[3], text[104], text[105]
    for raw in text.split(terminator):
        raw = raw.strip()
        if not raw:
            continue
        parts = raw.split(element)
        if component != ":":
            parts = [part.replace(component, ":") for part in parts]
        yield _Segment(tuple(parts))


def _remittances(text: str, problems: list[str]) -> Iterator[Remittance]:
    # pyx12 checked the grammar already (read_835); reading the values again through its
    # X12ContextReader costs several times that validation on a large file, so the
    # segments are split here on the delimiters the ISA declares.
    reader = _Reader(problems)
    for segment in _segments(text):
        reader.read(segment)
    yield from reader.done


def _date(raw: str | None) -> date | None:
    if not raw:
        return None
    return datetime.strptime(raw, "%Y%m%d").date()

"""Remittance test data on top of the shared `world` personas: the clinic's billing identity
(group NPI 1234567893, as in the hand-checked sample 835) and sent claims with the lines a
test names, plus a writer of the 835 that pays them (handrail.claims.x835_write)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from handrail.claims import x835
from handrail.claims.x835_write import Envelope, write_835
from handrail.web.billing.models import Claim, ClaimLine, ClaimState, ClinicBilling
from handrail.web.clinic.models import Patient, Payer
from handrail.web.visits.models import Visit
from handrail.web.visits.services import service_line_add, visit_create, visit_sign
from tests.web.conftest import World

GROUP_NPI = "1234567893"
NOTE = {
    "baseline": "Needs moderate assistance and 6 verbal cues to don a pullover shirt.",
    "task": "Upper-body dressing: pullover shirt seated at the edge of the bed.",
    "technique": "One-handed dressing method, weak arm into the sleeve first.",
    "skilled": "Left neglect after stroke needs graded cues and task breakdown for safety.",
    "performance": "Donned the shirt with minimal assistance and 2 verbal cues.",
}
D = Decimal


def set_up_billing(world: World) -> ClinicBilling:
    return ClinicBilling.objects.create(
        clinic=world.clinic,
        legal_name="Riverside Rehab LLC",
        group_npi=GROUP_NPI,
        tax_id="37-1234567",
        taxonomy="225100000X",
        address_line1="123 Main St",
        city="Springfield",
        state="IL",
        zip_code="627011234",
        submitter_id="RIVREHAB01",
        submitter_name="Riverside Rehab",
        contact_name="Bill Test",
        contact_phone="217-555-1234",
        receiver_id="CLRHOUSE01",
        receiver_name="Example Clearinghouse",
    )


def signed_visit(world: World, days_ago: int = 10, minutes: int = 38) -> Visit:
    visit = visit_create(
        user=world.ot, case=world.ot_case, date=world.today - timedelta(days=days_ago)
    )
    service_line_add(user=world.ot, visit=visit, code="97535", therapist_minutes=minutes, **NOTE)
    return visit_sign(user=world.ot, visit=visit, reason="test visit")


@dataclass(frozen=True)
class LineSpec:
    code: str
    modifiers: tuple[str, ...]
    units: int
    charge: str


def sent_claim(
    world: World,
    control: str,
    lines: tuple[LineSpec, ...],
    *,
    visit: Visit | None = None,
    payer: Payer | None = None,
    state: str = ClaimState.SENT,
    patient: Patient | None = None,
) -> Claim:
    # One visit a day per case: each new claim's visit is a day earlier than the last's.
    earlier = Claim.objects.filter(clinic=world.clinic).count()
    visit = visit or visit_create(
        user=world.ot, case=world.ot_case, date=world.today - timedelta(days=10 + earlier)
    )
    claim = Claim.objects.create(
        clinic=world.clinic,
        visit=visit,
        patient=patient or world.patient,
        payer=payer or world.medicare,
        state=state,
        control_number=control,
        total_charge=sum((D(spec.charge) for spec in lines), D("0")),
        place_of_service="11",
        diagnoses=["I69351", "R2681"],
        rendering=world.ot,
        referring_name="Dr. Synthetic",
        referring_npi="1987654328",
    )
    for number, spec in enumerate(lines, start=1):
        ClaimLine.objects.create(
            claim=claim,
            clinic=world.clinic,
            number=number,
            code=spec.code,
            modifiers=list(spec.modifiers),
            units=spec.units,
            charge=D(spec.charge),
            service_date=visit.date,
            diagnosis_pointers=[1, 2],
            line_control_number=f"{control}-{number}",
        )
    return claim


def adjustment(group: str, reason: str, amount: str) -> x835.Adjustment:
    return x835.Adjustment(group, reason, D(amount))


def paid_line(
    line: ClaimLine,
    paid: str,
    *adjustments: x835.Adjustment,
    allowed: str | None = None,
    remarks: tuple[str, ...] = (),
    send_control_number: bool = True,
    sign: int = 1,
) -> x835.LinePayment:
    return x835.LinePayment(
        code=line.code,
        modifiers=tuple(line.modifiers),
        charge=line.charge * sign,
        paid=D(paid),
        units=D(line.units),
        segment_number=0,
        service_date=line.service_date,
        control_number=line.line_control_number if send_control_number else "",
        allowed=D(allowed) if allowed is not None else None,
        adjustments=list(adjustments),
        remarks=list(remarks),
    )


def claim_payment(
    claim: Claim,
    lines: list[x835.LinePayment],
    *,
    status: str = "1",
    payer_claim_number: str = "26123456789000",
    adjustments: tuple[x835.Adjustment, ...] = (),
) -> x835.ClaimPayment:
    charge = sum((line.charge for line in lines), D("0"))
    paid = sum((line.paid for line in lines), D("0"))
    patient = sum(
        (a.amount for line in lines for a in line.adjustments if a.group == "PR"), D("0")
    )
    return x835.ClaimPayment(
        control_number=claim.control_number,
        status=status,
        charge=charge,
        paid=paid,
        patient_responsibility=patient,
        payer_claim_number=payer_claim_number,
        segment_number=0,
        adjustments=list(adjustments),
        lines=lines,
        patient_name="SYNTHETIC,ADA",
        member_id="1EG4TE5MK73",
    )


def remittance_text(
    claims: list[x835.ClaimPayment],
    *,
    trace: str = "12345678901",
    plb: tuple[x835.ProviderAdjustment, ...] = (),
    npi: str = GROUP_NPI,
    control: int = 2,
    paid_on: date = date(2026, 12, 1),
    payer_name: str = "Medicare Part B",
    payer_id: str = "",
) -> str:
    paid = sum((c.paid for c in claims), D("0")) - sum((p.amount for p in plb), D("0"))
    advice = x835.Remittance(
        total_paid=paid,
        payment_method="ACH",
        trace_number=trace,
        payment_date=paid_on,
        payer_name=payer_name,
        payer_id=payer_id,
        payee_name="Riverside Rehab LLC",
        payee_npi=npi,
        claims=claims,
        provider_adjustments=list(plb),
    )
    envelope = Envelope("MEDICAREB01", "RIVREHAB01", control, datetime(2026, 12, 1, 9, 0))
    return write_835([advice], envelope)

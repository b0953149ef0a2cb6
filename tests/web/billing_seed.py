"""Billing test data on top of the shared `world` personas (tests/web/conftest.py): the
clinic's billing identity, the payers' ids, NPIs, a charge master, and signed notes ready to
become claims. Synthetic NPIs with valid check digits."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from handrail.web.billing.models import ChargeEntry, Claim, ClinicBilling, PayerBilling
from handrail.web.clinic.models import Patient, User
from handrail.web.visits.models import Visit
from handrail.web.visits.services import service_line_add, visit_create, visit_sign
from tests.web.conftest import World

GROUP_NPI = "1234567893"
OT_NPI = "1245319599"
PT_NPI = "1678901236"
CERTIFIER_NPI = "1987654328"
CHARGES = {"97535": "95.00", "97530": "110.00", "97110": "90.00", "97112": "100.00"}
NOTE = {
    "baseline": "Needs moderate assistance and 6 verbal cues to don a pullover shirt.",
    "task": "Upper-body dressing: pullover shirt seated at the edge of the bed.",
    "technique": "One-handed dressing method, weak arm into the sleeve first.",
    "skilled": "Left neglect after stroke needs graded cues and task breakdown for safety.",
    "performance": "Donned the shirt with minimal assistance and 2 verbal cues.",
}


@dataclass
class Billing:
    identity: ClinicBilling
    medicare: PayerBilling
    commercial: PayerBilling


def set_up_billing(world: World, *, charges: bool = True) -> Billing:
    identity = ClinicBilling.objects.create(
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
    medicare = PayerBilling.objects.create(
        payer=world.medicare, electronic_id="00952", filing_indicator="MB"
    )
    commercial = PayerBilling.objects.create(
        payer=world.commercial, electronic_id="60054", filing_indicator="CI"
    )
    User.objects.filter(pk=world.ot.pk).update(npi=OT_NPI)
    User.objects.filter(pk=world.pt.pk).update(npi=PT_NPI)
    world.ot.refresh_from_db()
    world.pt.refresh_from_db()
    Patient.objects.filter(pk=world.patient.pk).update(
        address="456 Oak Ave", city="Springfield", state="IL", zip="62704"
    )
    world.ot_plan.certifier_npi = CERTIFIER_NPI
    world.ot_plan.certifier_name = "Dr. Sam Synthetic"
    world.ot_plan.save()
    if charges:
        for code, charge in CHARGES.items():
            ChargeEntry.objects.create(
                clinic=world.clinic,
                code=code,
                charge=Decimal(charge),
                effective_from=date(2026, 1, 1),
            )
    return Billing(identity, medicare, commercial)


def signed_ot_visit(world: World, days_ago: int, minutes: int = 38, code: str = "97535") -> Visit:
    visit = visit_create(
        user=world.ot, case=world.ot_case, date=world.today - timedelta(days=days_ago)
    )
    service_line_add(user=world.ot, visit=visit, code=code, therapist_minutes=minutes, **NOTE)
    return visit_sign(user=world.ot, visit=visit, reason="test visit")


def commercial_patient_visit(world: World, days_ago: int = 3) -> Visit:
    """A second patient, covered by the commercial payer, with a certified OT plan and one
    signed note."""
    from handrail.web.care.services import GoalInput, case_create, plan_of_care_create
    from handrail.web.clinic.services import coverage_set, patient_create

    patient = patient_create(
        user=world.front_desk,
        first_name="Cy",
        last_name="Synthetic",
        birth_date=date(1960, 3, 4),
        zip="62701",
    )
    Patient.objects.filter(pk=patient.pk).update(
        address="9 Elm St", city="Springfield", state="IL", sex="M"
    )
    coverage_set(user=world.front_desk, patient=patient, payer=world.commercial, member_id="ACM99")
    start = world.today - timedelta(days=20)
    case = case_create(
        user=world.ot, patient=patient, discipline="OT", title="Hand", opened_on=start
    )
    plan_of_care_create(
        user=world.ot,
        case=case,
        diagnoses=["S62.101A"],
        goals=[GoalInput("Grips a cup", start + timedelta(weeks=6))],
        frequency_per_week=2,
        duration_weeks=8,
        start_date=start,
        certified_on=start + timedelta(days=2),
        certifier_name="Dr. Ann Synthetic",
        certifier_npi=CERTIFIER_NPI,
    )
    visit = visit_create(user=world.ot, case=case, date=world.today - timedelta(days=days_ago))
    service_line_add(user=world.ot, visit=visit, code="97530", therapist_minutes=25, **NOTE)
    return visit_sign(user=world.ot, visit=visit, reason="test visit")


def bare_claim(world: World, visit: Visit) -> Claim:
    """A claim row for `visit` written directly (no scrub): for tests that only need one to
    exist, such as the read audit's walk over every URL."""
    return Claim.objects.create(
        clinic=world.clinic,
        visit=visit,
        patient=visit.case.patient,
        payer=world.medicare,
        control_number=f"HRTEST{visit.pk}",
        total_charge=Decimal("95.00"),
        place_of_service="11",
        diagnoses=["I69351"],
        rendering=visit.clinician,
    )

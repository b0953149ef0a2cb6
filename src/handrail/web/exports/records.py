"""A patient's record read from the database as the plain values `handrail.claims.fhir`
builds a FHIR Bundle from. Always within the signed-in user's clinic."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from django.utils import timezone

from handrail.claims.fhir import (
    AdjustmentIn,
    ClaimIn,
    ClaimLineIn,
    CoverageIn,
    DiagnosisIn,
    EobIn,
    EobLineIn,
    FhirExportError,
    PatientIn,
    PatientRecord,
    ProcedureIn,
    Provider,
    SubscriberIn,
    VisitIn,
    patient_bundle,
)
from handrail.web.billing.models import Claim, ClinicBilling
from handrail.web.care.icd10 import icd10_normalise
from handrail.web.care.models import PlanOfCare
from handrail.web.clinic.models import Coverage, Patient, Relationship, User
from handrail.web.remittances.models import ClaimPayment
from handrail.web.visits.engine import EngineUnavailableError, ruleset
from handrail.web.visits.models import ServiceLine, Visit, VisitStatus


def _person(user: User | None) -> Provider:
    if user is None:
        return Provider("Unknown")
    return Provider(user.get_full_name() or user.username, user.npi)


def _diagnosis_title(code: str, on: date) -> str:
    """The code's description from the loaded CDC release (public domain text), or none when
    the release does not have the code or the official data cannot be loaded."""
    try:
        found = ruleset().diagnoses.lookup(icd10_normalise(code), on)
    except EngineUnavailableError:
        return ""
    return found.description if found.exists else ""


def _coverage(coverage: Coverage) -> CoverageIn:
    subscriber = None
    if coverage.relationship != Relationship.SELF and coverage.subscriber_birth_date is not None:
        subscriber = SubscriberIn(
            first_name=coverage.subscriber_first_name,
            last_name=coverage.subscriber_last_name,
            birth_date=coverage.subscriber_birth_date,
            sex=coverage.subscriber_sex,
        )
    return CoverageIn(
        id=coverage.pk,
        payer_name=coverage.payer.name,
        member_id=coverage.member_id,
        order=coverage.order,
        relationship=coverage.relationship,
        subscriber=subscriber,
        start_date=coverage.start_date,
        end_date=coverage.end_date,
    )


def _claims_coverages(claims: list[Claim], patient: Patient) -> dict[int, Coverage | None]:
    """Each claim's coverage: the one it names, else (a claim stored without one) the
    patient's coverage of the claim's payer, primary first. One query for all the claims."""
    by_payer: dict[int, Coverage] = {}
    for coverage in patient.coverages.select_related("payer").order_by("order", "pk"):
        by_payer.setdefault(coverage.payer_id, coverage)
    return {c.pk: c.coverage or by_payer.get(c.payer_id) for c in claims}


def patient_record(*, patient: Patient) -> PatientRecord:
    """Everything the export holds for `patient` (the caller checked who may read it)."""
    clinic = patient.clinic
    identity = ClinicBilling.objects.filter(clinic=clinic).first()
    billing = (
        Provider(identity.legal_name, identity.group_npi)
        if identity is not None
        else Provider(clinic.name, clinic.npi)
    )
    plans = (
        PlanOfCare.objects.filter(case__patient=patient)
        .select_related("case")
        .order_by("start_date", "pk")
    )
    diagnoses = tuple(
        DiagnosisIn(
            case_id=plan.case_id,
            code=code,
            recorded=plan.start_date,
            active=plan.case.closed_on is None,
            display=_diagnosis_title(code, plan.start_date),
        )
        for plan in plans
        for code in plan.diagnoses
    )
    visits = list(
        Visit.objects.filter(case__patient=patient)
        .select_related("case", "clinician")
        .order_by("date", "pk")
    )
    visit_values = tuple(
        VisitIn(
            id=v.pk,
            case_id=v.case_id,
            date=v.date,
            discipline=v.case.discipline,
            signed=v.status == VisitStatus.SIGNED,
            clinician=_person(v.clinician),
            place_of_service=v.place_of_service,
            telehealth=bool(v.telehealth),
        )
        for v in visits
    )
    procedures = tuple(
        ProcedureIn(
            id=line.pk,
            visit_id=line.visit_id,
            code=line.code,
            minutes=line.therapist_minutes + line.assistant_minutes,
        )
        for line in ServiceLine.objects.filter(visit__case__patient=patient).order_by(
            "visit__date", "visit_id", "position", "pk"
        )
    )
    claims = list(
        Claim.objects.filter(patient=patient, clinic=clinic)
        .select_related("payer", "coverage__payer", "rendering")
        .prefetch_related("lines")
        .order_by("created_at", "pk")
    )
    claim_coverage = _claims_coverages(claims, patient)
    used = {c.pk: c for c in claim_coverage.values() if c is not None}
    coverages = tuple(_coverage(c) for c in sorted(used.values(), key=lambda c: (c.order, c.pk)))
    member_ids = {pk: c.member_id for pk, c in claim_coverage.items() if c is not None}
    coverage_ids = {pk: c.pk for pk, c in claim_coverage.items() if c is not None}
    claim_values = tuple(
        ClaimIn(
            id=c.pk,
            visit_id=c.visit_id,
            control_number=c.control_number,
            created=c.created_at,
            state=c.state,
            frequency=c.frequency,
            payer_name=c.payer.name,
            member_id=member_ids.get(c.pk, ""),
            total_charge=c.total_charge,
            diagnoses=tuple(c.diagnoses),
            rendering=_person(c.rendering),
            billing=billing,
            place_of_service=c.place_of_service,
            lines=tuple(
                ClaimLineIn(
                    number=line.number,
                    code=line.code,
                    modifiers=tuple(line.modifiers),
                    units=line.units,
                    charge=line.charge,
                    service_date=line.service_date,
                    diagnosis_pointers=tuple(line.diagnosis_pointers),
                )
                for line in c.lines.all()
            ),
            referring=Provider(c.referring_name, c.referring_npi) if c.referring_name else None,
            payer_claim_number=c.payer_claim_number,
            replaces_id=c.replaces_id,
            coverage_id=coverage_ids.get(c.pk),
        )
        for c in claims
    )
    payments = (
        ClaimPayment.objects.filter(claim__in=claims)
        .select_related("advice", "advice__remittance")
        .prefetch_related("lines__line", "lines__adjustments", "adjustments")
        .order_by("advice__remittance__posted_at", "pk")
    )
    remittances = tuple(_eob(payment) for payment in payments)
    return PatientRecord(
        clinic_id=clinic.pk,
        clinic=billing,
        patient=PatientIn(
            id=patient.pk,
            first_name=patient.first_name,
            last_name=patient.last_name,
            birth_date=patient.birth_date,
            sex=patient.sex,
            phone=patient.phone,
            address=patient.address,
            city=patient.city,
            state=patient.state,
            zip=patient.zip,
        ),
        coverages=coverages,
        diagnoses=diagnoses,
        visits=visit_values,
        procedures=procedures,
        claims=claim_values,
        remittances=remittances,
    )


def _eob(payment: ClaimPayment) -> EobIn:
    lines = []
    for paid in payment.lines.all():
        lines.append(
            EobLineIn(
                line_number=paid.line.number,
                code=paid.line.code,
                modifiers=tuple(paid.line.modifiers),
                units=paid.units,
                charge=paid.charge,
                paid=paid.paid,
                allowed=paid.allowed,
                adjustments=tuple(
                    AdjustmentIn(a.group, a.reason, a.amount) for a in paid.adjustments.all()
                ),
                remarks=tuple(str(code) for code in paid.remarks),
            )
        )
    claim_level = tuple(
        AdjustmentIn(a.group, a.reason, a.amount)
        for a in payment.adjustments.all()
        if a.line_payment_id is None
    )
    advice = payment.advice
    return EobIn(
        id=payment.pk,
        claim_id=payment.claim_id,
        payer_name=advice.payer_name or "Payer",
        status=payment.status,
        charge=payment.charge,
        paid=payment.paid,
        patient_responsibility=payment.patient_responsibility,
        payer_claim_number=payment.payer_claim_number,
        trace_number=advice.trace_number,
        payment_date=advice.payment_date,
        posted=advice.remittance.posted_at,
        lines=tuple(lines),
        adjustments=claim_level,
    )


def patient_fhir(*, patient: Patient, now: datetime | None = None) -> dict[str, Any]:
    """The patient's record as a validated FHIR R4 collection Bundle (FhirExportError names
    a stored value that cannot be exported)."""
    return patient_bundle(patient_record(patient=patient), generated=now or timezone.now())


__all__ = ["FhirExportError", "patient_fhir", "patient_record"]

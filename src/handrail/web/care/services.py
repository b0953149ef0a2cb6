"""Writes for cases, plans of care, goals and authorizations (see clinic/services.py for
the conventions). An assistant can neither establish nor certify a plan of care
(Pub 100-02 ch.15 §220.1.2: the plan is established by the therapist and certified by a
physician/NPP; assistants may not write or change it)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from handrail.web.audit.models import AuditAction
from handrail.web.audit.services import audit_record
from handrail.web.care.icd10 import icd10_normalise, icd10_problem
from handrail.web.care.models import Authorization, Case, Goal, PlanOfCare
from handrail.web.clinic.models import Patient, Payer, User
from handrail.web.clinic.permissions import can_manage_plan, can_view_clinical, require


@dataclass(frozen=True, slots=True)
class GoalInput:
    description: str
    target_date: date
    long_term: bool = False


@transaction.atomic
def case_create(
    *,
    user: User,
    patient: Patient,
    discipline: str,
    title: str,
    opened_on: date,
    referring_provider: str = "",
) -> Case:
    require(can_view_clinical(user) and user.role != "biller", "Your role cannot open cases.")
    if patient.clinic_id != user.clinic_id:
        raise ValidationError({"patient": "No such patient in your clinic."})
    case = Case(
        clinic_id=patient.clinic_id,
        patient=patient,
        discipline=discipline,
        title=title.strip(),
        opened_on=opened_on,
        referring_provider=referring_provider.strip(),
    )
    case.full_clean()
    case.save()
    audit_record(user=user, action=AuditAction.CREATE, obj=case, patient=patient)
    return case


@transaction.atomic
def case_close(*, user: User, case: Case, closed_on: date) -> Case:
    """Discharge: close the episode on a date (not before it opened, nor in the future)."""
    require(can_view_clinical(user) and user.role != "biller", "Your role cannot close cases.")
    if case.clinic_id != user.clinic_id:
        raise ValidationError({"case": "No such case in your clinic."})
    if closed_on < case.opened_on:
        raise ValidationError({"closed_on": f"The case opened on {case.opened_on.isoformat()}."})
    if closed_on > timezone.localdate():
        raise ValidationError({"closed_on": "The closing date is in the future."})
    case.closed_on = closed_on
    case.full_clean()
    case.save()
    audit_record(
        user=user,
        action=AuditAction.UPDATE,
        obj=case,
        patient=case.patient,
        detail=f"closed on {closed_on.isoformat()}",
    )
    return case


def _clean_diagnoses(diagnoses: Sequence[str], on: date) -> list[str]:
    if not diagnoses:
        raise ValidationError(
            {"diagnoses": "Give at least one ICD-10-CM diagnosis, e.g. I69.351."}
        )
    codes: list[str] = []
    for index, code in enumerate(diagnoses):
        problem = icd10_problem(code, on)
        if problem:
            raise ValidationError({"diagnoses": f"diagnoses[{index}]: {problem}"})
        normal = icd10_normalise(code)
        if normal in codes:
            raise ValidationError({"diagnoses": f"diagnoses[{index}]: {normal} is listed twice"})
        codes.append(normal)
    return codes


def _clean_goals(goals: Sequence[GoalInput], start_date: date) -> None:
    if not goals:
        raise ValidationError({"goals": "Give at least one measurable functional goal."})
    for index, goal in enumerate(goals):
        if not goal.description.strip():
            raise ValidationError({"goals": f"goals[{index}]: describe the goal"})
        if goal.target_date < start_date:
            raise ValidationError(
                {"goals": f"goals[{index}]: the target date is before the plan starts"}
            )


@transaction.atomic
def plan_of_care_create(
    *,
    user: User,
    case: Case,
    diagnoses: Sequence[str],
    goals: Sequence[GoalInput],
    frequency_per_week: int,
    duration_weeks: int,
    start_date: date,
    medical_necessity: str = "",
    certified_on: date | None = None,
    certifier_name: str = "",
    certifier_npi: str = "",
) -> PlanOfCare:
    """Establish a plan of care for the case (therapist of the case's discipline only).

    `diagnoses` are ICD-10-CM codes in order (primary first), each billable. The physician's
    certification may be recorded now or later with `plan_of_care_certify`.
    """
    require(can_manage_plan(user), "Only a therapist can establish a plan of care.")
    if case.clinic_id != user.clinic_id:
        raise ValidationError({"case": "No such case in your clinic."})
    if user.discipline != case.discipline:
        raise ValidationError(
            {
                "case": f"This is a {case.discipline} case; "
                f"a {user.discipline} therapist cannot plan it."
            }
        )
    plan = PlanOfCare(
        case=case,
        discipline=case.discipline,
        diagnoses=_clean_diagnoses(diagnoses, start_date),
        frequency_per_week=frequency_per_week,
        duration_weeks=duration_weeks,
        start_date=start_date,
        established_by=user,
        medical_necessity=medical_necessity.strip(),
    )
    plan.full_clean()
    _clean_goals(goals, start_date)
    plan.save()
    Goal.objects.bulk_create(
        Goal(
            plan=plan,
            position=index,
            description=goal.description.strip(),
            target_date=goal.target_date,
            long_term=goal.long_term,
        )
        for index, goal in enumerate(goals)
    )
    audit_record(user=user, action=AuditAction.CREATE, obj=plan, patient=case.patient)
    if certified_on is not None:
        plan = plan_of_care_certify(
            user=user,
            plan=plan,
            certified_on=certified_on,
            certifier_name=certifier_name,
            certifier_npi=certifier_npi,
        )
    return plan


@transaction.atomic
def plan_of_care_certify(
    *,
    user: User,
    plan: PlanOfCare,
    certified_on: date,
    certifier_name: str,
    certifier_npi: str = "",
) -> PlanOfCare:
    """Record the physician/NPP's signature on the plan. Assistants cannot."""
    require(can_manage_plan(user), "Only a therapist can record a plan's certification.")
    if plan.case.clinic_id != user.clinic_id:
        raise ValidationError({"plan": "No such plan in your clinic."})
    if not certifier_name.strip():
        raise ValidationError({"certifier_name": "Name the physician or NPP who certified."})
    if certifier_npi and not (certifier_npi.isdigit() and len(certifier_npi) == 10):
        raise ValidationError({"certifier_npi": "An NPI is 10 digits."})
    plan.certified_on = certified_on
    plan.certifier_name = certifier_name.strip()
    plan.certifier_npi = certifier_npi
    plan.full_clean()
    plan.save()
    audit_record(
        user=user,
        action=AuditAction.UPDATE,
        obj=plan,
        patient=plan.case.patient,
        detail=f"certified on {certified_on.isoformat()} by {plan.certifier_name}",
    )
    return plan


@transaction.atomic
def authorization_create(
    *,
    user: User,
    case: Case,
    payer: Payer,
    visits_authorized: int,
    start_date: date,
    end_date: date,
    units_authorized: int | None = None,
    number: str = "",
) -> Authorization:
    require(
        user.role in ("admin", "biller", "therapist", "front_desk"),
        "Your role cannot add authorizations.",
    )
    if case.clinic_id != user.clinic_id or payer.clinic_id != user.clinic_id:
        raise ValidationError({"case": "No such case in your clinic."})
    if end_date < start_date:
        raise ValidationError({"end_date": "The authorization ends before it starts."})
    authorization = Authorization(
        case=case,
        payer=payer,
        number=number.strip(),
        visits_authorized=visits_authorized,
        units_authorized=units_authorized,
        start_date=start_date,
        end_date=end_date,
    )
    authorization.full_clean()
    authorization.save()
    audit_record(user=user, action=AuditAction.CREATE, obj=authorization, patient=case.patient)
    return authorization

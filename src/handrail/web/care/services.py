"""Writes for cases, plans of care, goals and authorizations (see clinic/services.py for
the conventions). An assistant can neither establish nor certify a plan of care
(Pub 100-02 ch.15 §220.1.2: the plan is established by the therapist and certified by a
physician/NPP; assistants may not write or change it)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from handrail.web.audit.models import AuditAction
from handrail.web.audit.services import audit_record
from handrail.web.care.icd10 import icd10_normalise, icd10_problem
from handrail.web.care.models import Authorization, Case, Goal, PlanOfCare
from handrail.web.clinic.models import Patient, Payer, User
from handrail.web.clinic.permissions import can_manage_plan, can_view_clinical, require
from handrail.web.dates import EARLIEST, MAX_DAYS_AHEAD, MAX_SPAN_DAYS, check_window, days_after

AHEAD = " (a year ahead at most)"
AUTHORIZATION_ROLES = ("admin", "biller", "therapist", "front_desk")


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
    check_window(
        "opened_on",
        opened_on,
        earliest=max(EARLIEST, patient.birth_date),
        latest=days_after(timezone.localdate(), MAX_DAYS_AHEAD),
        before=" (the patient's birth date)" if patient.birth_date > EARLIEST else "",
        after=AHEAD,
    )
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
def case_close(*, user: User, case: Case, closed_on: date, discharge_reason: str) -> Case:
    """Discharge: close the episode on a date, not before it opened nor its last visit, and
    not in the future. Later visits are then refused (visits.services.visit_create)."""
    require(can_view_clinical(user) and user.role != "biller", "Your role cannot close cases.")
    if case.clinic_id != user.clinic_id:
        raise ValidationError({"case": "No such case in your clinic."})
    if not discharge_reason.strip():
        raise ValidationError(
            {"discharge_reason": "Say why the episode ends, e.g. goals met or moved away."}
        )
    case = Case.objects.select_for_update().select_related("patient").get(pk=case.pk)
    if case.closed_on is not None:
        raise ValidationError(
            {"closed_on": f"The case was already discharged on {case.closed_on.isoformat()}."}
        )
    if closed_on < case.opened_on:
        raise ValidationError({"closed_on": f"The case opened on {case.opened_on.isoformat()}."})
    if closed_on > timezone.localdate():
        raise ValidationError({"closed_on": "The closing date is in the future."})
    last_visit = case.visits.order_by("-date").values_list("date", flat=True).first()
    if last_visit is not None and closed_on < last_visit:
        raise ValidationError(
            {
                "closed_on": f"The case has a visit on {last_visit.isoformat()}; "
                "discharge it on that day or later."
            }
        )
    case.closed_on = closed_on
    case.discharge_reason = discharge_reason.strip()
    case.full_clean()
    case.save(update_fields=["closed_on", "discharge_reason"])
    audit_record(
        user=user,
        action=AuditAction.UPDATE,
        obj=case,
        patient=case.patient,
        detail=f"discharged on {closed_on.isoformat()}"
        + (f": {case.discharge_reason}" if case.discharge_reason else ""),
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
        if goal.target_date > days_after(start_date, MAX_SPAN_DAYS):
            raise ValidationError(
                {
                    "goals": f"goals[{index}]: {goal.target_date.isoformat()} is more than "
                    "two years after the plan starts; check the year"
                }
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
    born = case.patient.birth_date
    check_window(
        "start_date",
        start_date,
        earliest=max(EARLIEST, born),
        latest=days_after(timezone.localdate(), MAX_DAYS_AHEAD),
        before=" (the patient's birth date)" if born > EARLIEST else "",
        after=AHEAD,
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
    """Record the physician/NPP's signature on the plan: a therapist of the plan's
    discipline, once (a recertification comes with the updated plan, so a recorded
    certification is never overwritten). Assistants cannot."""
    require(can_manage_plan(user), "Only a therapist can record a plan's certification.")
    if plan.case.clinic_id != user.clinic_id:
        raise ValidationError({"plan": "No such plan in your clinic."})
    require(
        user.discipline == plan.discipline,
        f"This is a {plan.discipline} plan; only a {plan.discipline} therapist can record "
        "its certification.",
    )
    plan = PlanOfCare.objects.select_for_update().select_related("case__patient").get(pk=plan.pk)
    if plan.certified_on is not None:
        raise ValidationError(
            {
                "certified_on": f"This plan was certified on {plan.certified_on.isoformat()} "
                f"by {plan.certifier_name}; to recertify, establish the updated plan and "
                "record its certification."
            }
        )
    if certified_on < plan.start_date:
        raise ValidationError(
            {
                "certified_on": "The plan cannot be certified before it starts "
                f"({plan.start_date.isoformat()})."
            }
        )
    if certified_on > timezone.localdate():
        raise ValidationError(
            {
                "certified_on": f"{certified_on.isoformat()} is in the future; record signatures "
                "that were given."
            }
        )
    if not certifier_name.strip():
        raise ValidationError({"certifier_name": "Name the physician or NPP who certified."})
    if certifier_npi and not (certifier_npi.isdigit() and len(certifier_npi) == 10):
        raise ValidationError({"certifier_npi": "An NPI is 10 digits."})
    plan.certified_on = certified_on
    plan.certifier_name = certifier_name.strip()
    plan.certifier_npi = certifier_npi
    plan.full_clean()
    plan.save(update_fields=["certified_on", "certifier_name", "certifier_npi"])
    audit_record(
        user=user,
        action=AuditAction.UPDATE,
        obj=plan,
        patient=plan.case.patient,
        detail=f"certified on {certified_on.isoformat()} by {plan.certifier_name}",
    )
    return plan


def _clean_authorization(authorization: Authorization) -> None:
    """Dates in a sane window (issue 10): the start from 1900 to a year ahead, the end on or
    after the start and at most two years after it; visits at least one."""
    check_window(
        "start_date",
        authorization.start_date,
        earliest=EARLIEST,
        latest=days_after(timezone.localdate(), MAX_DAYS_AHEAD),
        after=AHEAD,
    )
    if authorization.end_date < authorization.start_date:
        raise ValidationError({"end_date": "The authorization ends before it starts."})
    check_window(
        "end_date",
        authorization.end_date,
        earliest=authorization.start_date,
        latest=days_after(authorization.start_date, MAX_SPAN_DAYS),
        after=" (two years after the start at most)",
    )
    if authorization.visits_authorized < 1:
        raise ValidationError({"visits_authorized": "Authorize at least one visit."})
    if authorization.units_authorized is not None and authorization.units_authorized < 1:
        raise ValidationError(
            {"units_authorized": "Leave units empty when the payer does not limit them."}
        )
    authorization.full_clean()


def _require_authorization_role(user: User) -> None:
    require(user.role in AUTHORIZATION_ROLES, "Your role cannot change authorizations.")


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
    """Record a payer's prior authorization for the case (visits, optional units, dates)."""
    _require_authorization_role(user)
    if case.clinic_id != user.clinic_id:
        raise ValidationError({"case": "No such case in your clinic."})
    if payer.clinic_id != user.clinic_id:
        raise ValidationError({"payer": "Pick one of your clinic's payers."})
    authorization = Authorization(
        case=case,
        payer=payer,
        number=number.strip(),
        visits_authorized=visits_authorized,
        units_authorized=units_authorized,
        start_date=start_date,
        end_date=end_date,
    )
    _clean_authorization(authorization)
    authorization.save()
    audit_record(user=user, action=AuditAction.CREATE, obj=authorization, patient=case.patient)
    return authorization


AUTHORIZATION_FIELDS = (
    "payer",
    "number",
    "visits_authorized",
    "units_authorized",
    "start_date",
    "end_date",
)


@transaction.atomic
def authorization_update(
    *, user: User, authorization: Authorization, **fields: Any
) -> Authorization:
    """Change the given fields (AUTHORIZATION_FIELDS) of an authorization; the audit names
    the fields that changed, with their old and new values."""
    _require_authorization_role(user)
    unknown = set(fields) - set(AUTHORIZATION_FIELDS)
    if unknown:
        raise ValidationError(dict.fromkeys(sorted(unknown), "Unknown authorization field."))
    authorization = (
        Authorization.objects.select_for_update()
        .select_related("case__patient", "payer")
        .get(pk=authorization.pk)
    )
    if authorization.case.clinic_id != user.clinic_id:
        raise ValidationError({"authorization": "No such authorization in your clinic."})
    payer = fields.get("payer", authorization.payer)
    if payer.clinic_id != user.clinic_id:
        raise ValidationError({"payer": "Pick one of your clinic's payers."})
    if isinstance(fields.get("number"), str):
        fields["number"] = fields["number"].strip()
    changes = []
    for name, value in fields.items():
        old = getattr(authorization, name)
        if old != value:
            changes.append(f"{name} {_shown(old)} -> {_shown(value)}")
            setattr(authorization, name, value)
    if not changes:
        return authorization
    _clean_authorization(authorization)
    authorization.save(update_fields=sorted(fields))
    audit_record(
        user=user,
        action=AuditAction.UPDATE,
        obj=authorization,
        patient=authorization.case.patient,
        detail="changed " + "; ".join(changes),
    )
    return authorization


def _shown(value: object) -> str:
    if value is None or value == "":
        return "(none)"
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


@transaction.atomic
def authorization_end(
    *, user: User, authorization: Authorization, ended_on: date
) -> Authorization:
    """End an authorization early (the payer withdrew it, the episode ended): its last day
    becomes `ended_on`, on or after its start and before its current end. Visits after it
    are then warned about as uncovered."""
    _require_authorization_role(user)
    authorization = (
        Authorization.objects.select_for_update()
        .select_related("case__patient", "payer")
        .get(pk=authorization.pk)
    )
    if authorization.case.clinic_id != user.clinic_id:
        raise ValidationError({"authorization": "No such authorization in your clinic."})
    if ended_on < authorization.start_date:
        raise ValidationError(
            {
                "ended_on": "The authorization starts on "
                f"{authorization.start_date.isoformat()}; end it on that day or later."
            }
        )
    if ended_on >= authorization.end_date:
        raise ValidationError(
            {
                "ended_on": f"The authorization already ends on "
                f"{authorization.end_date.isoformat()}; give an earlier day."
            }
        )
    previous = authorization.end_date
    authorization.end_date = ended_on
    authorization.full_clean()
    authorization.save(update_fields=["end_date"])
    audit_record(
        user=user,
        action=AuditAction.UPDATE,
        obj=authorization,
        patient=authorization.case.patient,
        detail=f"ended on {ended_on.isoformat()} (was to {previous.isoformat()})",
    )
    return authorization

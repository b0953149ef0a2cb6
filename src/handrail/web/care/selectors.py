"""Reads for cases and plans of care, scoped to the user's clinic (another clinic's case is
a 404). Visit-based counters live in handrail.web.visits.selectors."""

from __future__ import annotations

from datetime import date

from django.db.models import QuerySet
from django.http import Http404

from handrail.web.care.models import Authorization, Case, PlanOfCare
from handrail.web.clinic.models import Patient, User
from handrail.web.clinic.permissions import clinic_id_of


def case_list(*, user: User, patient: Patient | None = None) -> QuerySet[Case]:
    cases = Case.objects.filter(clinic_id=clinic_id_of(user)).select_related("patient")
    if patient is not None:
        cases = cases.filter(patient=patient)
    return cases


def case_get(*, user: User, case_id: int) -> Case:
    case = (
        Case.objects.filter(clinic_id=clinic_id_of(user), pk=case_id)
        .select_related("patient")
        .first()
    )
    if case is None:
        raise Http404("No such case.")
    return case


def plan_get(*, user: User, plan_id: int) -> PlanOfCare:
    plan = (
        PlanOfCare.objects.filter(case__clinic_id=clinic_id_of(user), pk=plan_id)
        .select_related("case", "case__patient", "established_by")
        .first()
    )
    if plan is None:
        raise Http404("No such plan of care.")
    return plan


def plan_in_effect(*, case: Case, on: date) -> PlanOfCare | None:
    """The latest plan of the case that started on or before `on`."""
    return case.plans.filter(start_date__lte=on).order_by("-start_date", "-id").first()


def plan_latest(*, case: Case) -> PlanOfCare | None:
    return case.plans.order_by("-start_date", "-id").first()


def authorization_in_effect(*, case: Case, on: date) -> Authorization | None:
    return (
        case.authorizations.filter(start_date__lte=on, end_date__gte=on)
        .order_by("-start_date")
        .first()
    )

"""Reads for cases and plans of care, scoped to the user's clinic (another clinic's case is
a 404). Visit-based counters live in handrail.web.visits.selectors."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Protocol

from django.db.models import QuerySet
from django.http import Http404

from handrail.web.care.models import Authorization, Case, PlanOfCare
from handrail.web.clinic.models import Patient, User
from handrail.web.clinic.permissions import clinic_id_of
from handrail.web.clinic.selectors import coverage_primary


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


def authorization_get(*, user: User, authorization_id: int) -> Authorization:
    authorization = (
        Authorization.objects.filter(case__clinic_id=clinic_id_of(user), pk=authorization_id)
        .select_related("case", "case__patient", "payer")
        .first()
    )
    if authorization is None:
        raise Http404("No such authorization.")
    return authorization


def authorization_list(*, case: Case) -> QuerySet[Authorization]:
    return case.authorizations.select_related("payer").order_by("-start_date", "-id")


class AuthorizationStatus(StrEnum):
    FUTURE = "future"  # starts after the day asked about
    ACTIVE = "active"
    EXHAUSTED = "exhausted"  # in its dates, but every authorized visit (or unit) is used
    EXPIRED = "expired"  # ended before the day asked about


@dataclass(frozen=True, slots=True)
class AuthorizationUsage:
    authorization: Authorization
    visits_used: int  # the case's visits dated within the authorization, drafts included
    units_used: int  # units of those visits signed so far (the engine's answer at signing)
    status: AuthorizationStatus

    @property
    def visits_left(self) -> int:
        return max(self.authorization.visits_authorized - self.visits_used, 0)

    @property
    def units_left(self) -> int | None:
        units = self.authorization.units_authorized
        return None if units is None else max(units - self.units_used, 0)


def _visit_units(evaluation: object) -> int:
    if isinstance(evaluation, dict):
        return visit_units_value(evaluation.get("total_units"))
    return 0


def authorization_usage(*, authorization: Authorization, on: date) -> AuthorizationUsage:
    """What the authorization has used and where it stands on `on`."""
    visits = list(
        authorization.case.visits.filter(
            date__gte=authorization.start_date, date__lte=authorization.end_date
        ).values_list("evaluation", flat=True)
    )
    return authorization_usage_of(
        authorization=authorization,
        visit_units=[_visit_units(evaluation) for evaluation in visits],
        on=on,
    )


def visit_units_value(value: object) -> int:
    """The stored evaluation's `total_units` value as units (0 when missing or malformed)."""
    if not isinstance(value, int | float | str):
        return 0
    try:
        return int(value or 0)
    except (TypeError, ValueError):
        return 0


def authorization_usage_of(
    *, authorization: Authorization, visit_units: list[int], on: date
) -> AuthorizationUsage:
    """The usage from the units of each of the case's visits dated within the authorization
    (already fetched: the worklists fetch them for many authorizations at once)."""
    used = len(visit_units)
    units = sum(visit_units)
    status = authorization_status(authorization, visits_used=used, units_used=units, on=on)
    return AuthorizationUsage(
        authorization=authorization, visits_used=used, units_used=units, status=status
    )


class AuthorizationTermsLike(Protocol):
    """An authorization's dates and limits: the model, or the worklist's narrow terms."""

    @property
    def start_date(self) -> date: ...
    @property
    def end_date(self) -> date: ...
    @property
    def visits_authorized(self) -> int: ...
    @property
    def units_authorized(self) -> int | None: ...


def authorization_status(
    terms: AuthorizationTermsLike, *, visits_used: int, units_used: int, on: date
) -> AuthorizationStatus:
    """Expired after its end date, future before its start, exhausted once the visits (or
    the units, under a unit limit) are used up, else active."""
    if terms.end_date < on:
        return AuthorizationStatus.EXPIRED
    if terms.start_date > on:
        return AuthorizationStatus.FUTURE
    if visits_used >= terms.visits_authorized or (
        terms.units_authorized is not None and units_used >= terms.units_authorized
    ):
        return AuthorizationStatus.EXHAUSTED
    return AuthorizationStatus.ACTIVE


def authorization_warnings(*, case: Case, on: date) -> list[str]:
    """What a biller must know before a visit of the case on `on`: the authorization that
    covered the case has expired or is used up, or the payer requires one and none covers
    the day. Empty when an authorization covers the visit or none is needed."""
    authorizations = list(authorization_list(case=case))
    payer = coverage_primary(patient=case.patient)
    required = payer is not None and payer.payer.requires_authorization
    covering = [a for a in authorizations if a.start_date <= on <= a.end_date]
    warnings: list[str] = []
    for authorization in covering:
        usage = authorization_usage(authorization=authorization, on=on)
        if usage.status == AuthorizationStatus.EXHAUSTED:
            label = _label(authorization)
            if usage.visits_used >= authorization.visits_authorized:
                warnings.append(
                    f"{label}: all {authorization.visits_authorized} authorized visits are "
                    "used; ask the payer for more before this visit is billed."
                )
            else:
                warnings.append(
                    f"{label}: {usage.units_used} of {authorization.units_authorized} "
                    "authorized units are used; ask the payer for more before this visit is "
                    "billed."
                )
        else:
            return []  # one authorization with visits left covers the day
    if covering:
        return warnings
    ended = [a for a in authorizations if a.end_date < on]
    if ended:
        latest = max(ended, key=lambda a: (a.end_date, a.pk))
        return [
            f"{_label(latest)} ended on {latest.end_date.isoformat()}; no authorization "
            f"covers {on.isoformat()}."
        ]
    if required:
        assert payer is not None
        return [
            f"{payer.payer} requires prior authorization and none covers {on.isoformat()}; "
            "add it before this visit is billed."
        ]
    return []


def _label(authorization: Authorization) -> str:
    number = f" {authorization.number}" if authorization.number else ""
    return f"The {authorization.payer} authorization{number}"

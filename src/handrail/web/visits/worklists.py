"""Worklist selectors: what needs doing across the clinic (issue #3 "Worklists").

Each function takes the signed-in user (their clinic only) and a date, and returns plain
dataclasses the worklist pages render: unsigned notes, progress reports due,
(re)certifications due, authorizations running out with a forecast date at the plan's
frequency, and patients nearing the yearly therapy threshold.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from django.db.models import Count, QuerySet

from handrail.rules.model import RuleInputError
from handrail.rules.threshold import REVIEW_THRESHOLD, threshold_amount
from handrail.web.care.models import Authorization, Case, PlanOfCare
from handrail.web.care.selectors import plan_in_effect
from handrail.web.clinic.models import Patient, User
from handrail.web.clinic.permissions import can_view_clinical, clinic_id_of, require
from handrail.web.visits.models import Visit, VisitStatus
from handrail.web.visits.selectors import (
    PROGRESS_REPORT_EVERY,
    CaseCounters,
    case_counters,
    threshold_accrual,
    visit_list,
    visit_needs_cosign,
)

# Flag a progress report this many treatment days before it is due (Pub 100-02 ch.15 §220.3).
PROGRESS_REPORT_WARN_AT = PROGRESS_REPORT_EVERY - 2
RECERT_WARN_DAYS = 14
AUTH_WARN_VISITS_LEFT = 3
AUTH_WARN_DAYS = 14
THRESHOLD_WARN_SHARE = Decimal("0.80")


def _open_cases(user: User) -> list[Case]:
    require(can_view_clinical(user), "Your role cannot see clinical records.")
    return list(
        Case.objects.filter(clinic_id=clinic_id_of(user), closed_on__isnull=True).select_related(
            "patient"
        )
    )


def worklist_unsigned(*, user: User) -> list[Visit]:
    """Draft notes, then signed assistant notes still waiting for a co-signature."""
    drafts = list(visit_list(user=user, status=VisitStatus.DRAFT).order_by("date", "id"))
    signed_by_assistants = visit_list(user=user, status=VisitStatus.SIGNED).filter(
        clinician__role="assistant", cosigned_by__isnull=True
    )
    return drafts + [visit for visit in signed_by_assistants if visit_needs_cosign(visit=visit)]


@dataclass(frozen=True, slots=True)
class CaseDue:
    case: Case
    counters: CaseCounters


def worklist_progress_reports(*, user: User, on: date) -> list[CaseDue]:
    """Open cases at or past the 8th treatment day since their last progress report."""
    due = [CaseDue(case, case_counters(case=case, on=on)) for case in _open_cases(user)]
    return sorted(
        (
            item
            for item in due
            if item.counters.treatment_days_since_report >= PROGRESS_REPORT_WARN_AT
        ),
        key=lambda item: -item.counters.treatment_days_since_report,
    )


@dataclass(frozen=True, slots=True)
class CertificationDue:
    case: Case
    plan: PlanOfCare
    kind: str  # "certification" | "recertification"
    due: date
    overdue: bool


def worklist_certifications(*, user: User, on: date) -> list[CertificationDue]:
    """Uncertified plans (due 30 days after start) and recertifications due within 14 days."""
    items: list[CertificationDue] = []
    for case in _open_cases(user):
        plan = plan_in_effect(case=case, on=on)
        if plan is None:
            continue
        if plan.certified_on is None:
            items.append(
                CertificationDue(
                    case,
                    plan,
                    "certification",
                    plan.certification_due,
                    plan.certification_due < on,
                )
            )
            continue
        recert = plan.recertification_due
        if recert is not None and recert <= on + timedelta(days=RECERT_WARN_DAYS):
            items.append(CertificationDue(case, plan, "recertification", recert, recert < on))
    return sorted(items, key=lambda item: item.due)


@dataclass(frozen=True, slots=True)
class AuthorizationStatus:
    authorization: Authorization
    visits_used: int
    visits_left: int
    units_used: int
    units_left: int | None
    frequency_per_week: int | None
    runs_out_on: date  # forecast at the plan's frequency, never after the end date
    reason: str  # plain words: "at 2 visits a week the 3 visits left run out on 2026-04-02"


def authorization_status(*, authorization: Authorization, on: date) -> AuthorizationStatus:
    """Visits and units used inside the authorization's dates, and when it runs out at the
    plan's frequency (visits left / frequency, in whole days from `on`)."""
    visits = Visit.objects.filter(
        case=authorization.case,
        date__gte=authorization.start_date,
        date__lte=authorization.end_date,
    )
    visits_used = visits.count()
    units_used = _units_used(visits)
    visits_left = max(authorization.visits_authorized - visits_used, 0)
    units_left = (
        None
        if authorization.units_authorized is None
        else max(authorization.units_authorized - units_used, 0)
    )
    plan = plan_in_effect(case=authorization.case, on=on)
    frequency = plan.frequency_per_week if plan else None
    if frequency:
        days = math.ceil(visits_left * 7 / frequency)
        forecast = min(on + timedelta(days=days), authorization.end_date)
        reason = (
            f"at {frequency} visit{'s' if frequency > 1 else ''} a week the {visits_left} "
            f"visits left run out on {forecast.isoformat()}"
        )
    else:
        forecast = authorization.end_date
        reason = f"{visits_left} visits left until {forecast.isoformat()} (no plan frequency)"
    if forecast == authorization.end_date and visits_left:
        reason += " (the authorization's end date)"
    return AuthorizationStatus(
        authorization=authorization,
        visits_used=visits_used,
        visits_left=visits_left,
        units_used=units_used,
        units_left=units_left,
        frequency_per_week=frequency,
        runs_out_on=forecast,
        reason=reason,
    )


def _units_used(visits: QuerySet[Visit]) -> int:
    """Units on the visits: the engine's total for signed visits, else the requested units."""
    total = 0
    for visit in visits.prefetch_related("lines"):
        if visit.evaluation:
            total += int(visit.evaluation.get("total_units", 0))
        else:
            total += sum(line.requested_units or 0 for line in visit.lines.all())
    return total


def worklist_authorizations(*, user: User, on: date) -> list[AuthorizationStatus]:
    """Authorizations in force on `on` that run out within 14 days or have <= 3 visits left."""
    require(can_view_clinical(user), "Your role cannot see clinical records.")
    authorizations = Authorization.objects.filter(
        case__clinic_id=clinic_id_of(user), start_date__lte=on, end_date__gte=on
    ).select_related("case", "case__patient", "payer")
    statuses = [authorization_status(authorization=a, on=on) for a in authorizations]
    return sorted(
        (
            s
            for s in statuses
            if s.visits_left <= AUTH_WARN_VISITS_LEFT
            or s.runs_out_on <= on + timedelta(days=AUTH_WARN_DAYS)
        ),
        key=lambda s: s.runs_out_on,
    )


@dataclass(frozen=True, slots=True)
class ThresholdStanding:
    patient: Patient
    group: str  # "PT+SLP" | "OT"
    accrued: Decimal
    threshold: Decimal
    over_threshold: bool  # KX needed from here on
    over_review: bool  # past the $3,000 targeted medical review amount


def worklist_threshold(*, user: User, year: int) -> list[ThresholdStanding]:
    """Patients at or above 80% of the year's KX threshold in either group, highest first."""
    require(can_view_clinical(user), "Your role cannot see clinical records.")
    try:
        amount, _source = threshold_amount(year)
    except RuleInputError:
        return []  # no threshold known for that year: nothing to warn about
    patient_ids = (
        Visit.objects.filter(
            clinic_id=clinic_id_of(user), status=VisitStatus.SIGNED, date__year=year
        )
        .values("case__patient")
        .annotate(n=Count("id"))
        .values_list("case__patient", flat=True)
    )
    items: list[ThresholdStanding] = []
    for patient in Patient.objects.filter(pk__in=list(patient_ids)):
        for group, accrued in threshold_accrual(patient=patient, year=year).items():
            if accrued >= amount * THRESHOLD_WARN_SHARE:
                items.append(
                    ThresholdStanding(
                        patient,
                        group,
                        accrued,
                        amount,
                        accrued >= amount,
                        accrued >= REVIEW_THRESHOLD,
                    )
                )
    return sorted(items, key=lambda item: -item.accrued)

"""Reads for visits, per-case counters and the yearly therapy threshold accrual.

Every function takes the signed-in user or an object already fetched within their clinic.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db.models import QuerySet, Sum
from django.http import Http404
from django.utils import timezone

from handrail.web.care.models import Case
from handrail.web.care.selectors import plan_in_effect
from handrail.web.clinic.models import Patient, Role, User
from handrail.web.clinic.permissions import can_view_clinical, clinic_id_of, require
from handrail.web.clinic.selectors import coverage_primary
from handrail.web.visits.models import REPORT_TYPES, Visit, VisitStatus

# Pub 100-02 ch.15 §220.3.A: a progress report at least once every 10 treatment days.
PROGRESS_REPORT_EVERY = 10


def visit_list(
    *,
    user: User,
    case: Case | None = None,
    patient: Patient | None = None,
    status: str | None = None,
) -> QuerySet[Visit]:
    require(can_view_clinical(user), "Your role cannot see clinical notes.")
    visits = Visit.objects.filter(clinic_id=clinic_id_of(user)).select_related(
        "case", "case__patient", "clinician", "signed_by"
    )
    if case is not None:
        visits = visits.filter(case=case)
    if patient is not None:
        visits = visits.filter(case__patient=patient)
    if status is not None:
        visits = visits.filter(status=status)
    return visits


def visit_get(*, user: User, visit_id: int) -> Visit:
    """A visit of the user's clinic (404 otherwise); PermissionDenied for front desk."""
    require(can_view_clinical(user), "Your role cannot see clinical notes.")
    visit = (
        Visit.objects.filter(clinic_id=clinic_id_of(user), pk=visit_id)
        .select_related(
            "case", "case__patient", "clinician", "signed_by", "cosigned_by", "updated_by"
        )
        .first()
    )
    if visit is None:
        raise Http404("No such visit.")
    return visit


def visit_unsigned_list(*, user: User) -> QuerySet[Visit]:
    return visit_list(user=user, status=VisitStatus.DRAFT).order_by("date", "id")


def visit_needs_cosign(*, visit: Visit) -> bool:
    """An assistant's signed note whose primary payer requires a therapist's co-signature."""
    if visit.clinician.role != Role.ASSISTANT or visit.cosigned_by_id is not None:
        return False
    coverage = coverage_primary(patient=visit.case.patient)
    return coverage is not None and coverage.payer.assistant_cosign_required


def case_treatment_days_since_report(*, case: Case, on: date) -> int:
    """Treatment days (distinct visit dates, any clinician of the case, assistants included)
    after the last report visit before `on`, up to and including `on`.

    Counted per case, so a PT and an OT episode of one patient never mix (Pub 100-02 ch.15
    §220.3.A; the evaluation counts as the first progress report).
    """
    visits = Visit.objects.filter(case=case, date__lte=on)
    last_report = (
        visits.filter(visit_type__in=REPORT_TYPES, date__lt=on)
        .order_by("-date")
        .values_list("date", flat=True)
        .first()
    )
    if last_report is not None:
        visits = visits.filter(date__gt=last_report)
    return visits.values("date").distinct().count()


def case_days_since_certification(*, case: Case, on: date) -> int | None:
    plan = plan_in_effect(case=case, on=on)
    if plan is None or plan.certified_on is None or plan.certified_on > on:
        return None  # not certified (yet) on that date
    return (on - plan.certified_on).days


@dataclass(frozen=True, slots=True)
class CaseCounters:
    on: date
    treatment_days_since_report: int
    progress_report_due: bool  # the 10th treatment day since the last report is reached
    days_since_certification: int | None
    certification_due: date | None  # when the plan is not yet certified
    recertification_due: date | None


def case_counters(*, case: Case, on: date | None = None) -> CaseCounters:
    """Progress-report and (re)certification counters for one case on a date (default today)."""
    day = on or timezone.localdate()
    plan = plan_in_effect(case=case, on=day)
    treatment_days = case_treatment_days_since_report(case=case, on=day)
    return CaseCounters(
        on=day,
        treatment_days_since_report=treatment_days,
        progress_report_due=treatment_days >= PROGRESS_REPORT_EVERY,
        days_since_certification=case_days_since_certification(case=case, on=day),
        certification_due=plan.certification_due if plan and not plan.is_certified else None,
        recertification_due=plan.recertification_due if plan else None,
    )


def threshold_group(discipline: str) -> str:
    """The KX threshold's two amounts: PT and SLP combined, OT separate (SSA §1833(g))."""
    return "OT" if discipline == "OT" else "PT+SLP"


def threshold_accrued(
    *,
    patient: Patient,
    year: int,
    discipline: str,
    exclude_visit: Visit | None = None,
    up_to: date | None = None,
) -> Decimal:
    """Allowed amounts of the patient's signed visits in `year` (dated on or before `up_to`
    when given) for the discipline's threshold group, from the engine's payment estimate
    stored at signing."""
    disciplines = ["OT"] if threshold_group(discipline) == "OT" else ["PT", "SLP"]
    visits = Visit.objects.filter(
        case__patient=patient,
        case__discipline__in=disciplines,
        status=VisitStatus.SIGNED,
        date__year=year,
    )
    if exclude_visit is not None:
        visits = visits.exclude(pk=exclude_visit.pk)
    if up_to is not None:
        visits = visits.filter(date__lte=up_to)
    total = visits.aggregate(total=Sum("allowed_amount"))["total"]
    return Decimal(total or 0).quantize(Decimal("0.01"))


def threshold_accrual(*, patient: Patient, year: int) -> dict[str, Decimal]:
    """{"PT+SLP": amount, "OT": amount} for the year."""
    return {
        "PT+SLP": threshold_accrued(patient=patient, year=year, discipline="PT"),
        "OT": threshold_accrued(patient=patient, year=year, discipline="OT"),
    }

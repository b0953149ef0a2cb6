"""Reads for the worklists, scoped to the user's clinic.

Billers and admins see the whole clinic; therapists and assistants see their own notes and the
cases they treat (a visit of theirs or a plan they established); front desk sees only the
authorizations list (no clinical content).

Rules: a progress report at least every 10 treatment days (Pub 100-02 ch.15 §220.3.A-D);
certification within 30 days of the plan's start and recertification at least every 90 days
(§220.1.3); the yearly therapy threshold per group, PT+SLP combined and OT (SSA §1833(g),
amounts from handrail.rules.threshold).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet, Sum

from handrail.rules.model import RuleInputError
from handrail.rules.threshold import NEARING_SHARE, threshold_amount
from handrail.web.care.models import Authorization, Case, PlanOfCare
from handrail.web.care.selectors import plan_in_effect
from handrail.web.clinic.models import Patient, PayerType, Role, User
from handrail.web.clinic.permissions import can_view_clinical, clinic_id_of
from handrail.web.clinic.selectors import coverage_primary
from handrail.web.visits.models import Visit, VisitStatus
from handrail.web.visits.selectors import PROGRESS_REPORT_EVERY, case_counters

# A case shows on the progress-report list this many treatment days before the report is due.
PROGRESS_REPORT_WARN = 2
RECERT_WINDOW_DAYS = 14
AUTHORIZATION_WINDOW_DAYS = 30
# A case counts as in treatment while its plan runs or it had a visit this recently; an open
# case with neither (a patient who stopped coming) stays off the clinical lists.
ACTIVE_VISIT_DAYS = 30
# Patients appear on the threshold list from this share of the yearly amount.
THRESHOLD_LIST_SHARE = Decimal("0.75")


def sees_all(user: User) -> bool:
    return user.role in (Role.ADMIN, Role.BILLER)


def _require_clinical(user: User) -> None:
    if not can_view_clinical(user):
        raise PermissionDenied("Your role cannot see clinical worklists.")


def _cases(user: User, today: date) -> QuerySet[Case]:
    """Open cases of the user's clinic (those the user treats, for clinicians)."""
    cases = Case.objects.filter(clinic_id=clinic_id_of(user)).filter(
        Q(closed_on__isnull=True) | Q(closed_on__gte=today)
    )
    if not sees_all(user) and user.role != Role.FRONT_DESK:
        cases = cases.filter(Q(visits__clinician=user) | Q(plans__established_by=user))
    return cases.select_related("patient").distinct().order_by("patient__last_name", "id")


def _in_treatment(case: Case, plan: PlanOfCare | None, today: date) -> bool:
    if plan is not None and plan.end_date >= today:
        return True
    return case.visits.filter(date__gte=today - timedelta(days=ACTIVE_VISIT_DAYS)).exists()


def unsigned_notes(*, user: User) -> list[Visit]:
    """Draft notes, oldest first; a clinician sees their own."""
    _require_clinical(user)
    visits = Visit.objects.filter(clinic_id=clinic_id_of(user), status=VisitStatus.DRAFT)
    if not sees_all(user):
        visits = visits.filter(clinician=user)
    return list(visits.select_related("case", "case__patient", "clinician").order_by("date", "id"))


def cosign_needed(*, user: User) -> list[Visit]:
    """Signed assistant notes without the co-signature their primary payer requires."""
    _require_clinical(user)
    visits = Visit.objects.filter(
        clinic_id=clinic_id_of(user),
        status=VisitStatus.SIGNED,
        clinician__role=Role.ASSISTANT,
        cosigned_by__isnull=True,
    ).select_related("case", "case__patient", "clinician")
    if user.role == Role.THERAPIST:
        visits = visits.filter(case__discipline=user.discipline)
    elif not sees_all(user):
        visits = visits.filter(clinician=user)
    out = []
    for visit in visits.order_by("date", "id"):
        coverage = coverage_primary(patient=visit.case.patient)
        if coverage is not None and coverage.payer.assistant_cosign_required:
            out.append(visit)
    return out


@dataclass(frozen=True, slots=True)
class ProgressRow:
    case: Case
    treatment_days: int
    due: bool  # the report is due at this treatment day (or overdue)
    days_to_go: int  # treatment days left before it is due


def progress_reports_due(*, user: User, today: date) -> list[ProgressRow]:
    """Cases in treatment at or within PROGRESS_REPORT_WARN treatment days of their
    progress report."""
    _require_clinical(user)
    rows = []
    for case in _cases(user, today):
        counters = case_counters(case=case, on=today)
        days = counters.treatment_days_since_report
        if days < PROGRESS_REPORT_EVERY - PROGRESS_REPORT_WARN:
            continue
        if _in_treatment(case, plan_in_effect(case=case, on=today), today):
            rows.append(
                ProgressRow(
                    case=case,
                    treatment_days=days,
                    due=counters.progress_report_due,
                    days_to_go=max(PROGRESS_REPORT_EVERY - days, 0),
                )
            )
    return sorted(rows, key=lambda r: (-r.treatment_days, r.case.patient.last_name))


@dataclass(frozen=True, slots=True)
class RecertRow:
    case: Case
    plan: PlanOfCare
    kind: str  # "certification" (never certified) or "recertification"
    due: date
    days_left: int  # negative when overdue


def recertifications_due(
    *, user: User, today: date, within: int = RECERT_WINDOW_DAYS
) -> list[RecertRow]:
    """Plans of cases in treatment whose (re)certification is overdue or due within
    `within` days."""
    _require_clinical(user)
    rows = []
    for case in _cases(user, today):
        plan = plan_in_effect(case=case, on=today)
        if plan is None or not _in_treatment(case, plan, today):
            continue
        if plan.is_certified:
            due, kind = plan.recertification_due, "recertification"
        else:
            due, kind = plan.certification_due, "certification"
        if due is not None and due <= today + timedelta(days=within):
            rows.append(
                RecertRow(case=case, plan=plan, kind=kind, due=due, days_left=(due - today).days)
            )
    return sorted(rows, key=lambda r: (r.due, r.case.patient.last_name))


@dataclass(frozen=True, slots=True)
class AuthorizationRow:
    authorization: Authorization
    visits_used: int
    visits_left: int
    units_used: int
    frequency_per_week: int | None
    runs_out_on: date  # the forecast last visit, or the end date when that comes first
    by_visits: bool  # the visits run out before the end date
    days_left: int


def authorization_forecast(
    *, visits_left: int, frequency_per_week: int | None, today: date, end_date: date
) -> tuple[date, bool]:
    """The date the authorization runs out at the plan's frequency, and whether the visits
    (rather than the end date) run out first.

    At `f` visits a week the remaining `n` visits last n/f weeks: the last one falls about
    ceil(7n/f) days from today. With no visits left it has run out today.
    """
    if visits_left <= 0:
        return today, True
    if not frequency_per_week:
        return end_date, False
    last_visit = today + timedelta(days=-(-7 * visits_left // frequency_per_week))
    if last_visit < end_date:
        return last_visit, True
    return end_date, False


def _units(visits: list[Visit]) -> int:
    total = 0
    for visit in visits:
        if visit.evaluation:
            total += int(visit.evaluation.get("total_units") or 0)
    return total


def authorizations_running_out(
    *, user: User, today: date, within: int = AUTHORIZATION_WINDOW_DAYS
) -> list[AuthorizationRow]:
    """Authorizations in effect that run out (visits or dates) within `within` days."""
    cases = _cases(user, today)
    authorizations = (
        Authorization.objects.filter(case__in=cases, end_date__gte=today, start_date__lte=today)
        .select_related("case", "case__patient", "payer")
        .order_by("end_date")
    )
    rows = []
    for auth in authorizations:
        visits = list(
            Visit.objects.filter(
                case=auth.case, date__gte=auth.start_date, date__lte=auth.end_date
            )
        )
        plan = plan_in_effect(case=auth.case, on=today)
        frequency = plan.frequency_per_week if plan else None
        left = auth.visits_authorized - len(visits)
        runs_out, by_visits = authorization_forecast(
            visits_left=left, frequency_per_week=frequency, today=today, end_date=auth.end_date
        )
        if runs_out <= today + timedelta(days=within):
            rows.append(
                AuthorizationRow(
                    authorization=auth,
                    visits_used=len(visits),
                    visits_left=max(left, 0),
                    units_used=_units(visits),
                    frequency_per_week=frequency,
                    runs_out_on=runs_out,
                    by_visits=by_visits,
                    days_left=(runs_out - today).days,
                )
            )
    return sorted(rows, key=lambda r: (r.runs_out_on, r.authorization.case.patient.last_name))


@dataclass(frozen=True, slots=True)
class ThresholdRow:
    patient: Patient
    group: str  # "PT/SLP" or "OT"
    accrued: Decimal
    amount: Decimal
    nearing: bool  # at or past the engine's warning share (90%)
    over: bool  # KX modifier needed on further claims

    @property
    def percent(self) -> int:
        return int(self.accrued * 100 / self.amount) if self.amount else 0

    @property
    def remaining(self) -> Decimal:
        return max(self.amount - self.accrued, Decimal("0"))

    @property
    def low(self) -> Decimal:
        return self.amount * THRESHOLD_LIST_SHARE

    @property
    def high(self) -> Decimal:
        return self.amount * NEARING_SHARE


def threshold_nearing(
    *, user: User, year: int, share: Decimal = THRESHOLD_LIST_SHARE
) -> list[ThresholdRow]:
    """Medicare patients whose signed visits this year reach `share` of the threshold."""
    _require_clinical(user)
    try:
        amount, _source = threshold_amount(year)
    except RuleInputError:
        return []
    visits = Visit.objects.filter(
        clinic_id=clinic_id_of(user), status=VisitStatus.SIGNED, date__year=year
    )
    if not sees_all(user):
        visits = visits.filter(case__in=_cases(user, date(year, 12, 31)).values("pk"))
    totals: dict[tuple[int, str], Decimal] = defaultdict(Decimal)
    for row in visits.values("case__patient", "case__discipline").annotate(
        total=Sum("allowed_amount")
    ):
        group = "OT" if row["case__discipline"] == "OT" else "PT/SLP"
        totals[(row["case__patient"], group)] += Decimal(row["total"] or 0)
    patients = Patient.objects.in_bulk({patient_id for patient_id, _ in totals})
    rows = []
    for (patient_id, group), accrued in totals.items():
        patient = patients[patient_id]
        coverage = coverage_primary(patient=patient)
        if coverage is None or coverage.payer.type != PayerType.MEDICARE:
            continue
        if accrued >= amount * share:
            rows.append(
                ThresholdRow(
                    patient=patient,
                    group=group,
                    accrued=accrued.quantize(Decimal("0.01")),
                    amount=amount,
                    nearing=accrued >= amount * NEARING_SHARE,
                    over=accrued > amount,
                )
            )
    return sorted(rows, key=lambda r: (-r.accrued, r.patient.last_name))

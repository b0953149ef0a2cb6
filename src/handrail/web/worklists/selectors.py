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

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum

from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q, QuerySet, Sum
from django.utils import timezone

from handrail.rules.model import RuleInputError
from handrail.rules.threshold import NEARING_SHARE, threshold_amount
from handrail.web.care.models import Authorization, Case, PlanOfCare
from handrail.web.care.selectors import (
    AuthorizationStatus,
    authorization_usage,
    plan_in_effect,
)
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
CENT = Decimal("0.01")


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
    """Plans of open cases whose (re)certification is overdue, and of cases in treatment
    whose (re)certification is due within `within` days."""
    _require_clinical(user)
    rows = []
    for case in _cases(user, today):
        plan = plan_in_effect(case=case, on=today)
        if plan is None:
            continue
        if plan.is_certified:
            due, kind = plan.recertification_due, "recertification"
        else:
            due, kind = plan.certification_due, "certification"
        if due is None:
            continue
        # An overdue (re)certification of an open case is listed even when the patient
        # stopped coming: the case needs recertifying or discharging either way.
        if due >= today and not _in_treatment(case, plan, today):
            continue
        if due <= today + timedelta(days=within):
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
    status: str = "active"  # AuthorizationStatus: active (running out), exhausted, expired


def date_of_visit(*, visits: int, frequency_per_week: int, today: date) -> date:
    """The day the `visits`-th visit from today falls at `frequency_per_week` visits a week:
    n visits last n/f weeks, so about ceil(7n/f) days from today. `frequency_per_week` >= 1."""
    return today + timedelta(days=-(-7 * visits // frequency_per_week))


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
    last_visit = date_of_visit(
        visits=visits_left, frequency_per_week=frequency_per_week, today=today
    )
    if last_visit < end_date:
        return last_visit, True
    return end_date, False


def authorizations_running_out(
    *, user: User, today: date, within: int = AUTHORIZATION_WINDOW_DAYS
) -> list[AuthorizationRow]:
    """Authorizations in effect that run out (visits or dates) within `within` days, those
    used up (visits or units), and open cases in treatment whose latest authorization has
    expired with none covering today."""
    cases = list(_cases(user, today))
    authorizations = (
        Authorization.objects.filter(case__in=[case.pk for case in cases])
        .select_related("case", "case__patient", "payer")
        .order_by("end_date")
    )
    by_case: dict[int, list[Authorization]] = {}
    for auth in authorizations:
        by_case.setdefault(auth.case_id, []).append(auth)
    rows = []
    for case in cases:
        auths = by_case.get(case.pk, [])
        current = [a for a in auths if a.start_date <= today <= a.end_date]
        plan = plan_in_effect(case=case, on=today)
        frequency = plan.frequency_per_week if plan else None
        for auth in current:
            row = _authorization_row(auth, frequency, today)
            if row.status == AuthorizationStatus.EXHAUSTED or row.runs_out_on <= (
                today + timedelta(days=within)
            ):
                rows.append(row)
        if current or not auths or not _in_treatment(case, plan, today):
            continue
        ended = [a for a in auths if a.end_date < today]
        if ended and not any(a.start_date > today for a in auths):
            latest = max(ended, key=lambda a: (a.end_date, a.pk))
            rows.append(_authorization_row(latest, frequency, today))
    return sorted(rows, key=lambda r: (r.runs_out_on, r.authorization.case.patient.last_name))


def _authorization_row(
    auth: Authorization, frequency: int | None, today: date
) -> AuthorizationRow:
    usage = authorization_usage(authorization=auth, on=today)
    if usage.status == AuthorizationStatus.EXPIRED:
        return AuthorizationRow(
            authorization=auth,
            visits_used=usage.visits_used,
            visits_left=usage.visits_left,
            units_used=usage.units_used,
            frequency_per_week=frequency,
            runs_out_on=auth.end_date,
            by_visits=False,
            days_left=(auth.end_date - today).days,
            status=AuthorizationStatus.EXPIRED,
        )
    left = auth.visits_authorized - usage.visits_used
    runs_out, by_visits = authorization_forecast(
        visits_left=left, frequency_per_week=frequency, today=today, end_date=auth.end_date
    )
    if usage.status == AuthorizationStatus.EXHAUSTED:
        runs_out, by_visits = today, True
    return AuthorizationRow(
        authorization=auth,
        visits_used=usage.visits_used,
        visits_left=usage.visits_left,
        units_used=usage.units_used,
        frequency_per_week=frequency,
        runs_out_on=runs_out,
        by_visits=by_visits,
        days_left=(runs_out - today).days,
        status=usage.status,
    )


class ForecastKind(StrEnum):
    CROSSES = "crosses"  # crosses the amount on `on` after `visits_left` more visits
    OVER = "over"  # already over: `on` is the signed visit that crossed
    NEXT_YEAR = "next-year"  # the forecast date falls after Dec 31 (the accrual resets)
    NO_PLAN = "no-plan"  # no plan of care in effect today, so no visit frequency
    NO_VISITS = "no-visits"  # no signed visit with an allowed amount this year
    ZERO_AVERAGE = "zero-average"  # the average allowed amount per visit is $0.00


@dataclass(frozen=True, slots=True)
class ThresholdForecast:
    """When the patient's group crosses the threshold amount at their plan's pace."""

    kind: ForecastKind
    frequency_per_week: int = 0  # plans in effect today, summed over the group's cases
    average: Decimal = Decimal("0.00")  # allowed amount per signed visit this year
    visits_left: int = 0  # the visit that crosses is the n-th from today
    on: date | None = None  # forecast crossing date, or the visit that crossed (OVER)


def threshold_forecast(
    *,
    accrued: Decimal,
    amount: Decimal,
    visits: int,
    frequency_per_week: int,
    today: date,
    crossed_on: date | None = None,
) -> ThresholdForecast:
    """The crossing forecast from the year's accrual over `visits` signed visits.

    Average = accrued / visits, to the cent (the figure shown). Visits left = the smallest n
    with accrued + n x average > amount (KX applies above the amount, SSA §1833(g)); the date
    is today + ceil(7n / frequency) days (`date_of_visit`). The accrual resets on Jan 1, so a
    date after Dec 31 is no crossing this year. `crossed_on` is the visit that went over.
    """
    if accrued > amount:
        return ThresholdForecast(kind=ForecastKind.OVER, on=crossed_on)
    if frequency_per_week <= 0:
        return ThresholdForecast(kind=ForecastKind.NO_PLAN)
    if visits <= 0:
        return ThresholdForecast(
            kind=ForecastKind.NO_VISITS, frequency_per_week=frequency_per_week
        )
    average = (accrued / visits).quantize(CENT, rounding=ROUND_HALF_UP)
    if average <= 0:
        return ThresholdForecast(
            kind=ForecastKind.ZERO_AVERAGE, frequency_per_week=frequency_per_week, average=average
        )
    left = int((amount - accrued) // average) + 1
    on = date_of_visit(visits=left, frequency_per_week=frequency_per_week, today=today)
    return ThresholdForecast(
        kind=ForecastKind.CROSSES if on.year == today.year else ForecastKind.NEXT_YEAR,
        frequency_per_week=frequency_per_week,
        average=average,
        visits_left=left,
        on=on,
    )


@dataclass(frozen=True, slots=True)
class ThresholdRow:
    patient: Patient
    group: str  # "PT/SLP" or "OT"
    accrued: Decimal
    amount: Decimal
    nearing: bool  # at or past the engine's warning share (90%)
    over: bool  # KX modifier needed on further claims
    forecast: ThresholdForecast

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


def _disciplines(group: str) -> list[str]:
    return ["OT"] if group == "OT" else ["PT", "SLP"]


def _group(discipline: str) -> str:
    return "OT" if discipline == "OT" else "PT/SLP"


def _signed_this_year(clinic_id: int, today: date) -> QuerySet[Visit]:
    """Signed visits with an allowed amount from Jan 1 to today."""
    return Visit.objects.filter(
        clinic_id=clinic_id,
        status=VisitStatus.SIGNED,
        allowed_amount__isnull=False,
        date__gte=date(today.year, 1, 1),
        date__lte=today,
    )


def _accruals(visits: QuerySet[Visit]) -> dict[tuple[int, str], tuple[Decimal, int]]:
    """(patient id, group) -> (allowed amounts summed, number of visits)."""
    out: dict[tuple[int, str], tuple[Decimal, int]] = {}
    rows = visits.values("case__patient", "case__discipline").annotate(
        total=Sum("allowed_amount"), visits=Count("id")
    )
    for row in rows:
        key = (int(row["case__patient"]), _group(str(row["case__discipline"])))
        total, count = out.get(key, (Decimal("0"), 0))
        out[key] = (total + Decimal(row["total"] or 0), count + int(row["visits"]))
    return out


def _crossed_on(visits: QuerySet[Visit], group: str, amount: Decimal) -> date | None:
    """The first signed visit at which the running total went over `amount`."""
    running = Decimal("0")
    for day, allowed in (
        visits.filter(case__discipline__in=_disciplines(group))
        .order_by("date", "signed_at", "id")
        .values_list("date", "allowed_amount")
    ):
        running += allowed or Decimal("0")
        if running > amount:
            return day
    return None


def _frequency(patient: Patient, group: str, today: date) -> int:
    """Visits a week of the plans in effect today (started, not ended) of the patient's open
    cases in the group, added up."""
    cases = Case.objects.filter(
        clinic_id=patient.clinic_id, patient=patient, discipline__in=_disciplines(group)
    ).filter(Q(closed_on__isnull=True) | Q(closed_on__gte=today))
    total = 0
    for case in cases:
        plan = plan_in_effect(case=case, on=today)
        if plan is not None and plan.end_date >= today:
            total += plan.frequency_per_week
    return total


def _threshold_row(
    *,
    patient: Patient,
    group: str,
    accrued: Decimal,
    visits: int,
    amount: Decimal,
    today: date,
    signed: QuerySet[Visit],
) -> ThresholdRow:
    accrued = accrued.quantize(CENT)
    over = accrued > amount
    return ThresholdRow(
        patient=patient,
        group=group,
        accrued=accrued,
        amount=amount,
        nearing=accrued >= amount * NEARING_SHARE,
        over=over,
        forecast=threshold_forecast(
            accrued=accrued,
            amount=amount,
            visits=visits,
            frequency_per_week=_frequency(patient, group, today),
            today=today,
            crossed_on=_crossed_on(signed.filter(case__patient=patient), group, amount)
            if over
            else None,
        ),
    )


def _is_medicare(patient: Patient) -> bool:
    coverage = coverage_primary(patient=patient)
    return coverage is not None and coverage.payer.type == PayerType.MEDICARE


def threshold_nearing(
    *, user: User, today: date | None = None, share: Decimal = THRESHOLD_LIST_SHARE
) -> list[ThresholdRow]:
    """Medicare patients whose signed visits this year (to `today`, default the clinic's
    date) reach `share` of the yearly therapy threshold, with the crossing forecast.

    The threshold is per beneficiary and calendar year, PT and SLP combined and OT separate
    (SSA §1833(g); amounts from handrail.rules.threshold), so the accrual counts all the
    patient's signed visits in the clinic; a clinician sees the groups of the cases they treat.
    """
    _require_clinical(user)
    day = today or timezone.localdate()
    try:
        amount, _source = threshold_amount(day.year)
    except RuleInputError:
        return []
    signed = _signed_this_year(clinic_id_of(user), day)
    accruals = _accruals(signed)
    if not sees_all(user):
        treated = {(case.patient_id, _group(case.discipline)) for case in _cases(user, day)}
        accruals = {key: value for key, value in accruals.items() if key in treated}
    patients = Patient.objects.in_bulk({patient_id for patient_id, _ in accruals})
    rows = []
    for (patient_id, group), (accrued, visits) in accruals.items():
        patient = patients[patient_id]
        if accrued >= amount * share and _is_medicare(patient):
            rows.append(
                _threshold_row(
                    patient=patient,
                    group=group,
                    accrued=accrued,
                    visits=visits,
                    amount=amount,
                    today=day,
                    signed=signed,
                )
            )
    return sorted(rows, key=lambda r: (-r.accrued, r.patient.last_name))


def patient_threshold(
    *, user: User, patient: Patient, today: date | None = None
) -> list[ThresholdRow]:
    """The patient's therapy threshold this year per group they have a case in, with the
    crossing forecast (as on the worklist): Medicare patients only, empty for others and for
    a year Handrail has no amount for (SSA §1833(g); amounts from handrail.rules.threshold).
    """
    _require_clinical(user)
    day = today or timezone.localdate()
    if patient.clinic_id != clinic_id_of(user) or not _is_medicare(patient):
        return []
    try:
        amount, _source = threshold_amount(day.year)
    except RuleInputError:
        return []
    signed = _signed_this_year(patient.clinic_id, day).filter(case__patient=patient)
    accruals = _accruals(signed)
    disciplines = Case.objects.filter(clinic_id=patient.clinic_id, patient=patient).values_list(
        "discipline", flat=True
    )
    groups = {_group(discipline) for discipline in disciplines}
    rows = []
    for group in ("PT/SLP", "OT"):
        if group in groups:
            accrued, visits = accruals.get((patient.pk, group), (Decimal("0"), 0))
            rows.append(
                _threshold_row(
                    patient=patient,
                    group=group,
                    accrued=accrued,
                    visits=visits,
                    amount=amount,
                    today=day,
                    signed=signed,
                )
            )
    return rows

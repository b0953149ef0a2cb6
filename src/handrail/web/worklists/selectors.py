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

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import date, timedelta
from decimal import ROUND_FLOOR, ROUND_HALF_UP, Decimal
from enum import StrEnum
from typing import Generic, Protocol, TypeVar, overload

from django.core.exceptions import PermissionDenied
from django.db.models import (
    BooleanField,
    Count,
    DateField,
    Exists,
    ExpressionWrapper,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
)
from django.db.models.functions import Coalesce
from django.db.models.lookups import GreaterThanOrEqual
from django.utils import timezone

from handrail.rules.model import RuleInputError
from handrail.rules.threshold import NEARING_SHARE, threshold_amount
from handrail.web.care.models import (
    Authorization,
    Case,
    PlanOfCare,
    plan_certification_due,
    plan_end_date,
    plan_recertification_due,
)
from handrail.web.care.selectors import (
    AuthorizationStatus,
    authorization_status,
    visit_units_value,
)
from handrail.web.clinic.models import Coverage, CoverageOrder, Patient, PayerType, Role, User
from handrail.web.clinic.permissions import can_view_clinical, clinic_id_of
from handrail.web.remittances.selectors import remitted_allowed
from handrail.web.visits.models import REPORT_TYPES, ThresholdAccrual, Visit, VisitStatus
from handrail.web.visits.selectors import PROGRESS_REPORT_EVERY

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
# What the note lists show of a visit, its case, patient and clinician: only these are
# read, so a page of 50 notes neither fetches nor converts the note text, the stored
# evaluation or the rows' time stamps.
LIST_FIELDS = (
    "id",
    "date",
    "status",
    "signed_at",
    "case__id",
    "case__title",
    "case__discipline",
    "case__patient__id",
    "case__patient__first_name",
    "case__patient__last_name",
    "clinician__id",
    "clinician__username",
    "clinician__first_name",
    "clinician__last_name",
    "clinician__role",
    "clinician__discipline",
)
K = TypeVar("K")
R = TypeVar("R")


def sees_all(user: User) -> bool:
    return user.role in (Role.ADMIN, Role.BILLER)


def _require_clinical(user: User) -> None:
    if not can_view_clinical(user):
        raise PermissionDenied("Your role cannot see clinical worklists.")


def _open_case_query(user: User, today: date) -> QuerySet[Case]:
    """Open cases of the user's clinic (those the user treats, for clinicians)."""
    cases = Case.objects.filter(clinic_id=clinic_id_of(user)).filter(
        Q(closed_on__isnull=True) | Q(closed_on__gte=today)
    )
    if not sees_all(user) and user.role != Role.FRONT_DESK:
        cases = cases.filter(
            Exists(Visit.objects.filter(case=OuterRef("pk"), clinician=user))
            | Exists(PlanOfCare.objects.filter(case=OuterRef("pk"), established_by=user))
        )
    return cases


@dataclass(frozen=True, slots=True)
class OpenCase:
    """What the lists need of an open case to choose and order their rows; the case and
    its patient are fetched whole only for the rows a page shows (`Rows`)."""

    pk: int
    patient_id: int
    last_name: str  # the patient's, for the lists' order


class PlanDates:
    """What the lists read of a plan of care: its dates, certification and frequency, with
    the plan's own rules for the dates due (handrail.web.care.models, as PlanOfCare). The
    whole plan is fetched only for the rows shown."""

    FIELDS = (
        "id",
        "case_id",
        "start_date",
        "duration_weeks",
        "frequency_per_week",
        "certified_on",
    )
    __slots__ = (*FIELDS, "end_date")

    def __init__(
        self,
        id: int,  # noqa: A002 (the model's name)
        case_id: int,
        start_date: date,
        duration_weeks: int,
        frequency_per_week: int,
        certified_on: date | None,
    ) -> None:
        self.id = id
        self.case_id = case_id
        self.start_date = start_date
        self.duration_weeks = duration_weeks
        self.frequency_per_week = frequency_per_week
        self.certified_on = certified_on
        # Worked out once: every list asks it of every open case.
        self.end_date = plan_end_date(start_date, duration_weeks)

    @property
    def pk(self) -> int:
        return self.id

    @property
    def certification_due(self) -> date:
        return plan_certification_due(self.start_date)

    @property
    def recertification_due(self) -> date | None:
        return plan_recertification_due(self.certified_on, self.end_date)

    @property
    def is_certified(self) -> bool:
        return self.certified_on is not None


@dataclass(frozen=True, slots=True)
class OpenCases:
    """The open cases a user's worklists look at, with what every list needs of them,
    fetched in two narrow queries whatever the clinic's history: the cases (with the
    patient's last name, whether a visit came in the last ACTIVE_VISIT_DAYS days and the
    treatment days since the last report), and the dates of their plans in effect today.
    Only open cases are read: a discharged case can no longer be due anything."""

    today: date
    cases: list[OpenCase]  # by the patient's last name, then id
    plans: dict[int, PlanDates]  # case id -> plan in effect today (latest started)
    recent: frozenset[int]  # case ids with a visit from today - ACTIVE_VISIT_DAYS on
    # Case id -> treatment days since the last report before today (cases with any).
    days: dict[int, int]

    def plan(self, case: OpenCase | Case) -> PlanDates | None:
        return self.plans.get(case.pk)

    def in_treatment(self, case: OpenCase | Case) -> bool:
        """The plan in effect still runs, or the case had a visit recently."""
        plan = self.plans.get(case.pk)
        if plan is not None and plan.end_date >= self.today:
            return True
        return case.pk in self.recent


def _treatment_days_since_report(today: date) -> Subquery:
    """Per case (the outer query's): the treatment days (distinct visit dates, up to and
    including today) after the case's last report visit before today, NULL when none (the
    counting of handrail.web.visits.selectors.case_treatment_days_since_report). Per case,
    one look-up of the last report and one count of the days after it, both read from the
    index on (case, date, visit type)."""
    last_report = (
        Visit.objects.filter(
            case_id=OuterRef(OuterRef("pk")), visit_type__in=REPORT_TYPES, date__lt=today
        )
        .order_by("-date")
        .values("date")[:1]
    )
    days = (
        Visit.objects.filter(
            case_id=OuterRef("pk"),
            date__lte=today,
            date__gt=Coalesce(Subquery(last_report), Value(date.min), output_field=DateField()),
        )
        .order_by()
        .values("case_id")
        .annotate(days=Count("date", distinct=True))
        .values("days")
    )
    return Subquery(days, output_field=IntegerField())


def open_cases(*, user: User, today: date) -> OpenCases:
    # Per case, in the same query: whether its latest visit is dated on or after the start
    # of the last ACTIVE_VISIT_DAYS days (one step back along the index on (case, date), where
    # an EXISTS had PostgreSQL hash every visit of the last 30 days), compared in the
    # database so no date is converted per case, and the treatment days since the last
    # report, both read from indexes.
    latest_visit = (
        Visit.objects.filter(case_id=OuterRef("pk")).order_by("-date").values("date")[:1]
    )
    recent = GreaterThanOrEqual(
        Subquery(latest_visit, output_field=DateField()),
        Value(today - timedelta(days=ACTIVE_VISIT_DAYS), output_field=DateField()),
    )
    rows = list(
        _open_case_query(user, today)
        .annotate(
            recent=ExpressionWrapper(recent, output_field=BooleanField()),
            days=_treatment_days_since_report(today),
        )
        .order_by("patient__last_name", "id")
        .values_list("pk", "patient_id", "patient__last_name", "recent", "days")
    )
    ids = {row[0] for row in rows}
    # The plan in effect today of each: the latest started on or before today (as
    # plan_in_effect chooses), from the plans of the clinic's open cases (joined, so no
    # list of ids is sent); a clinician's are those of the cases above.
    plans: dict[int, PlanDates] = {}
    for values in (
        PlanOfCare.objects.filter(case__clinic_id=clinic_id_of(user), start_date__lte=today)
        .filter(Q(case__closed_on__isnull=True) | Q(case__closed_on__gte=today))
        .order_by("case_id", "-start_date", "-id")
        .values_list(*PlanDates.FIELDS)
    ):
        if values[1] in ids and values[1] not in plans:
            plans[values[1]] = PlanDates(*values)
    return OpenCases(
        today=today,
        cases=[OpenCase(pk, patient_id, last_name) for pk, patient_id, last_name, *_ in rows],
        plans=plans,
        recent=frozenset(row[0] for row in rows if row[3]),
        days={row[0]: int(row[4]) for row in rows if row[4]},
    )


def _open(user: User, today: date, cases: OpenCases | None) -> OpenCases:
    if cases is not None and cases.today == today:
        return cases
    return open_cases(user=user, today=today)


class Rows(Generic[K, R]):
    """A list chosen and ordered from narrow keys, its rows made whole a slice at a time.

    Choosing a list's rows needs only ids, dates and names; showing one needs the case, the
    patient, the plan or the payer. So a tab counts its rows without fetching any, and a
    page fetches the rows it shows (at most a page, 50) in one or two queries whatever the
    list's length. Django's Paginator reads it like a query: count() then a slice.
    """

    def __init__(self, keys: list[K], fetch: Callable[[list[K]], list[R]]) -> None:
        self._keys = keys
        self._fetch = fetch

    def count(self) -> int:
        return len(self._keys)

    def __len__(self) -> int:
        return len(self._keys)

    @overload
    def __getitem__(self, index: int) -> R: ...

    @overload
    def __getitem__(self, index: slice) -> list[R]: ...

    def __getitem__(self, index: int | slice) -> R | list[R]:
        if isinstance(index, slice):
            return self._fetch(self._keys[index]) if self._keys[index] else []
        fetched = self._fetch([self._keys[index]])
        if not fetched:
            raise IndexError("The row was deleted since the list was chosen.")
        return fetched[0]

    def __iter__(self) -> Iterator[R]:
        return iter(self[:])


def unsigned_notes_query(*, user: User) -> QuerySet[Visit]:
    """Draft notes, oldest first; a clinician sees their own (what the list shows of them:
    LIST_FIELDS)."""
    _require_clinical(user)
    visits = Visit.objects.filter(clinic_id=clinic_id_of(user), status=VisitStatus.DRAFT)
    if not sees_all(user):
        visits = visits.filter(clinician=user)
    return (
        visits.select_related("case", "case__patient", "clinician")
        .only(*LIST_FIELDS)
        .order_by("date", "id")
    )


def unsigned_notes(*, user: User) -> list[Visit]:
    return list(unsigned_notes_query(user=user))


def cosign_needed_query(*, user: User) -> QuerySet[Visit]:
    """Signed assistant notes without the co-signature their primary payer requires, in one
    query (the payer's rule is joined, not looked up per note); what the list shows of
    them: LIST_FIELDS."""
    _require_clinical(user)
    cosign_payer = Coverage.objects.filter(
        patient=OuterRef("case__patient"),
        order=CoverageOrder.PRIMARY,
        payer__assistant_cosign_required=True,
    )
    # Looked up through the assistants' own visits (the index on the clinician), so the
    # query reads the assistants' notes, never every signed note of the clinic's history.
    assistants = list(
        User.objects.filter(clinic_id=clinic_id_of(user), role=Role.ASSISTANT).values_list(
            "pk", flat=True
        )
    )
    visits = Visit.objects.filter(
        case__clinic_id=clinic_id_of(user),
        clinician_id__in=assistants,
        status=VisitStatus.SIGNED,
        cosigned_by__isnull=True,
    ).filter(Exists(cosign_payer))
    if user.role == Role.THERAPIST:
        visits = visits.filter(case__discipline=user.discipline)
    elif not sees_all(user):
        visits = visits.filter(clinician=user)
    return (
        visits.select_related("case", "case__patient", "clinician")
        .only(*LIST_FIELDS)
        .order_by("date", "id")
    )


def cosign_needed(*, user: User) -> list[Visit]:
    return list(cosign_needed_query(user=user))


@dataclass(frozen=True, slots=True)
class ProgressRow:
    case: Case
    treatment_days: int
    due: bool  # the report is due at this treatment day (or overdue)
    days_to_go: int  # treatment days left before it is due


def _whole_cases(ids: list[int]) -> dict[int, Case]:
    """The cases with their patients, for the rows shown (what the lists show of them, the
    rest read only if asked for): one query."""
    return (
        Case.objects.select_related("patient")
        .only(
            "id",
            "title",
            "discipline",
            "opened_on",
            "closed_on",
            "patient__id",
            "patient__first_name",
            "patient__last_name",
        )
        .in_bulk(ids)
    )


def progress_report_rows(
    *, user: User, today: date, cases: OpenCases | None = None
) -> Rows[tuple[OpenCase, int], ProgressRow]:
    """Cases in treatment at or within PROGRESS_REPORT_WARN treatment days of their
    progress report, most treatment days first."""
    _require_clinical(user)
    open_ = _open(user, today, cases)
    keys: list[tuple[OpenCase, int]] = []
    for case in open_.cases:
        days = open_.days.get(case.pk, 0)
        if days >= PROGRESS_REPORT_EVERY - PROGRESS_REPORT_WARN and open_.in_treatment(case):
            keys.append((case, days))
    keys.sort(key=lambda key: (-key[1], key[0].last_name))

    def fetch(shown: list[tuple[OpenCase, int]]) -> list[ProgressRow]:
        whole = _whole_cases([case.pk for case, _days in shown])
        return [
            ProgressRow(
                case=whole[case.pk],
                treatment_days=days,
                due=days >= PROGRESS_REPORT_EVERY,
                days_to_go=max(PROGRESS_REPORT_EVERY - days, 0),
            )
            for case, days in shown
            if case.pk in whole  # (a case deleted since it was chosen is left out)
        ]

    return Rows(keys, fetch)


def progress_reports_due(
    *, user: User, today: date, cases: OpenCases | None = None
) -> list[ProgressRow]:
    """The whole progress-report list (`progress_report_rows`), every row fetched."""
    return list(progress_report_rows(user=user, today=today, cases=cases))


@dataclass(frozen=True, slots=True)
class RecertRow:
    case: Case
    plan: PlanOfCare
    kind: str  # "certification" (never certified) or "recertification"
    due: date
    days_left: int  # negative when overdue


def recertification_rows(
    *,
    user: User,
    today: date,
    within: int = RECERT_WINDOW_DAYS,
    cases: OpenCases | None = None,
) -> Rows[tuple[date, str, int, str], RecertRow]:
    """Plans of open cases whose (re)certification is overdue, and of cases in treatment
    whose (re)certification is due within `within` days, soonest first."""
    _require_clinical(user)
    open_ = _open(user, today, cases)
    keys: list[tuple[date, str, int, str]] = []  # (due, last name, plan id, kind)
    for case in open_.cases:
        plan = open_.plan(case)
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
        if due >= today and not open_.in_treatment(case):
            continue
        if due <= today + timedelta(days=within):
            keys.append((due, case.last_name, plan.pk, kind))
    keys.sort(key=lambda key: key[:2])

    def fetch(shown: list[tuple[date, str, int, str]]) -> list[RecertRow]:
        plans = PlanOfCare.objects.select_related("case__patient").in_bulk(
            [plan_id for _due, _name, plan_id, _kind in shown]
        )
        return [
            RecertRow(
                case=plans[plan_id].case,
                plan=plans[plan_id],
                kind=kind,
                due=due,
                days_left=(due - today).days,
            )
            for due, _name, plan_id, kind in shown
            if plan_id in plans
        ]

    return Rows(keys, fetch)


def recertifications_due(
    *,
    user: User,
    today: date,
    within: int = RECERT_WINDOW_DAYS,
    cases: OpenCases | None = None,
) -> list[RecertRow]:
    """The whole recertification list (`recertification_rows`), every row fetched."""
    return list(recertification_rows(user=user, today=today, within=within, cases=cases))


@dataclass(frozen=True, slots=True)
class AuthorizationTerms:
    """What the list reads of an authorization to choose its rows (the whole authorization,
    with its case, patient and payer, is fetched only for the rows a page shows)."""

    pk: int
    case_id: int
    start_date: date
    end_date: date
    visits_authorized: int
    units_authorized: int | None


@dataclass(frozen=True, slots=True)
class AuthorizationRow:
    # The terms while the list is chosen; the whole authorization in the rows fetched.
    authorization: Authorization | AuthorizationTerms
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


def authorization_rows(
    *,
    user: User,
    today: date,
    within: int = AUTHORIZATION_WINDOW_DAYS,
    cases: OpenCases | None = None,
) -> Rows[AuthorizationRow, AuthorizationRow]:
    """Authorizations in effect that run out (visits or dates) within `within` days, those
    used up (visits or units), and open cases in treatment whose latest authorization has
    expired with none covering today; soonest run-out first.

    Only the authorizations that can be listed (those covering today, and the latest expired
    one of a case in treatment with none covering or starting later) have their usage
    counted: the visits in the authorizations' query, the units (from the stored
    evaluations) in one query over the visits of those with a unit limit. Their dates and
    counts are read narrow; the case, patient and payer, and the units used of the others,
    are fetched for the rows shown."""
    open_ = _open(user, today, cases)
    names = {case.pk: case.last_name for case in open_.cases}
    # The authorizations of the clinic's open cases (joined, so no list of ids is sent; a
    # clinician's are those of the cases above), each with the number of its case's visits
    # dated within it, counted from the index on (case, date).
    visits_within = (
        Visit.objects.filter(
            case_id=OuterRef("case_id"),
            date__gte=OuterRef("start_date"),
            date__lte=OuterRef("end_date"),
        )
        .order_by()
        .values("case_id")
        .annotate(n=Count("id"))
        .values("n")
    )
    authorizations = (
        Authorization.objects.filter(case__clinic_id=clinic_id_of(user))
        .filter(Q(case__closed_on__isnull=True) | Q(case__closed_on__gte=today))
        .annotate(visits_within=Subquery(visits_within, output_field=IntegerField()))
        .order_by("end_date", "id")
        .values_list(
            "id",
            "case_id",
            "start_date",
            "end_date",
            "visits_authorized",
            "units_authorized",
            "visits_within",
        )
    )
    by_case: dict[int, list[AuthorizationTerms]] = {}
    visit_counts: dict[int, int] = {}  # authorization id -> its case's visits dated within it
    for pk, case_id, start, end, visits_limit, units_limit, dated_within in authorizations:
        auth = AuthorizationTerms(pk, case_id, start, end, visits_limit, units_limit)
        if auth.case_id in names:
            by_case.setdefault(auth.case_id, []).append(auth)
            visit_counts[auth.pk] = dated_within or 0
    candidates: list[tuple[AuthorizationTerms, bool]] = []  # (authorization, covers today)
    for case in open_.cases:
        auths = by_case.get(case.pk, [])
        current = [a for a in auths if a.start_date <= today <= a.end_date]
        candidates.extend((auth, True) for auth in current)
        if current or not auths or not open_.in_treatment(case):
            continue
        ended = [a for a in auths if a.end_date < today]
        if ended and not any(a.start_date > today for a in auths):
            candidates.append((max(ended, key=lambda a: (a.end_date, a.pk)), False))
    # The units of the visits decide a row only under a unit limit: read for those; the
    # others are chosen by their visits' count (units read for the rows shown).
    units = _visit_units_by_authorization(
        [auth for auth, _covers in candidates if auth.units_authorized is not None]
    )
    for auth, _covers in candidates:
        if auth.units_authorized is None:
            units[auth.pk] = [0] * visit_counts[auth.pk]
    keys = []
    for auth, covers_today in candidates:
        plan = open_.plans.get(auth.case_id)
        frequency = plan.frequency_per_week if plan else None
        row = _authorization_row(auth, units[auth.pk], frequency, today)
        if not covers_today or (
            row.status == AuthorizationStatus.EXHAUSTED
            or row.runs_out_on <= today + timedelta(days=within)
        ):
            keys.append(row)
    keys.sort(key=lambda r: (r.runs_out_on, names[r.authorization.case_id]))

    def fetch(shown: list[AuthorizationRow]) -> list[AuthorizationRow]:
        whole = Authorization.objects.select_related("case__patient", "payer").in_bulk(
            [row.authorization.pk for row in shown]
        )
        # The units used of the rows shown without a unit limit (read as 0 to choose them).
        counted = _visit_units_by_authorization(
            [
                row.authorization
                for row in shown
                if row.authorization.units_authorized is None and row.authorization.pk in whole
            ]
        )
        return [
            replace(
                row,
                authorization=whole[row.authorization.pk],
                units_used=sum(counted[row.authorization.pk]),
            )
            if row.authorization.pk in counted
            else replace(row, authorization=whole[row.authorization.pk])
            for row in shown
            if row.authorization.pk in whole
        ]

    return Rows(keys, fetch)


def authorizations_running_out(
    *,
    user: User,
    today: date,
    within: int = AUTHORIZATION_WINDOW_DAYS,
    cases: OpenCases | None = None,
) -> list[AuthorizationRow]:
    """The whole authorization list (`authorization_rows`), every row fetched."""
    return list(authorization_rows(user=user, today=today, within=within, cases=cases))


class _DatedAuthorization(Protocol):
    """What the units' count reads of an authorization (the model or its terms)."""

    @property
    def pk(self) -> int: ...
    @property
    def case_id(self) -> int: ...
    @property
    def start_date(self) -> date: ...
    @property
    def end_date(self) -> date: ...


def _visit_units_by_authorization(
    authorizations: Sequence[_DatedAuthorization],
) -> dict[int, list[int]]:
    """Authorization id -> the units of each of its case's visits dated within it (drafts
    count as visits with the units of their stored evaluation, none until signed)."""
    out: dict[int, list[int]] = {auth.pk: [] for auth in authorizations}
    if not authorizations:
        return out
    by_case: dict[int, list[_DatedAuthorization]] = {}
    for auth in authorizations:
        by_case.setdefault(auth.case_id, []).append(auth)
    visits = (
        Visit.objects.filter(
            case_id__in=list(by_case),
            date__gte=min(auth.start_date for auth in authorizations),
            date__lte=max(auth.end_date for auth in authorizations),
        )
        .order_by()
        .values_list("case_id", "date", "evaluation__total_units")
    )
    for case_id, day, total_units in visits:
        for auth in by_case[case_id]:
            if auth.start_date <= day <= auth.end_date:
                out[auth.pk].append(visit_units_value(total_units))
    return out


def _authorization_row(
    auth: AuthorizationTerms, visit_units: list[int], frequency: int | None, today: date
) -> AuthorizationRow:
    # The usage as the authorization's page counts it (care.selectors.authorization_usage_of).
    visits_used, units_used = len(visit_units), sum(visit_units)
    status = authorization_status(auth, visits_used=visits_used, units_used=units_used, on=today)
    visits_left = max(auth.visits_authorized - visits_used, 0)
    if status == AuthorizationStatus.EXPIRED:
        return AuthorizationRow(
            authorization=auth,
            visits_used=visits_used,
            visits_left=visits_left,
            units_used=units_used,
            frequency_per_week=frequency,
            runs_out_on=auth.end_date,
            by_visits=False,
            days_left=(auth.end_date - today).days,
            status=AuthorizationStatus.EXPIRED,
        )
    left = auth.visits_authorized - visits_used
    runs_out, by_visits = authorization_forecast(
        visits_left=left, frequency_per_week=frequency, today=today, end_date=auth.end_date
    )
    if status == AuthorizationStatus.EXHAUSTED:
        runs_out, by_visits = today, True
    return AuthorizationRow(
        authorization=auth,
        visits_used=visits_used,
        visits_left=visits_left,
        units_used=units_used,
        frequency_per_week=frequency,
        runs_out_on=runs_out,
        by_visits=by_visits,
        days_left=(runs_out - today).days,
        status=status,
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
    # The year with Medicare's allowed amounts (posted 835s) in place of the engine's
    # estimate for the visits remitted so far (42 CFR 410.59(e)/410.60(e) count what Medicare
    # allowed); `accrued` is the estimate. `visits_remitted` of the group's signed visits.
    remitted: Decimal = Decimal("0")
    visits_remitted: int = 0

    @property
    def difference(self) -> Decimal:
        """Remitted - estimated: negative when Medicare allowed less than estimated."""
        return self.remitted - self.accrued

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


def _signed_this_year(clinic_id: int, patient_ids: set[int], today: date) -> QuerySet[Visit]:
    """The given patients' signed visits from Jan 1 to today, found through their cases and
    the index on (case, date): a few patients' visits, never a scan of the clinic's year."""
    return Visit.objects.filter(
        case__in=Case.objects.filter(clinic_id=clinic_id, patient_id__in=patient_ids).values("pk"),
        status=VisitStatus.SIGNED,
        date__gte=date(today.year, 1, 1),
        date__lte=today,
    )


def _signed_after(
    visits: QuerySet[Visit], today: date
) -> dict[tuple[int, str], tuple[Decimal, int]]:
    """(patient id, group) -> (allowed amounts, visits) of the given signed visits dated
    after `today` in its year: the stored accrual counts the whole year, the lists count to
    `today`. Visits are dated on or before the day they are written (visit_create), so this
    is empty unless a list is asked for a past day; read from the index on the date."""
    later = visits.filter(
        status=VisitStatus.SIGNED,
        allowed_amount__isnull=False,
        date__gt=today,
        date__lte=date(today.year, 12, 31),
    ).values_list("case__patient_id", "case__discipline", "allowed_amount")
    out: dict[tuple[int, str], tuple[Decimal, int]] = {}
    for patient_id, discipline, allowed in later:
        key = (int(patient_id), _group(str(discipline)))
        total, count = out.get(key, (Decimal("0"), 0))
        out[key] = (total + (allowed or Decimal("0")).quantize(CENT), count + 1)
    return out


def _stored_accruals(
    rows: QuerySet[ThresholdAccrual], later: dict[tuple[int, str], tuple[Decimal, int]]
) -> dict[tuple[int, str], tuple[Decimal, int]]:
    """(patient id, group) -> (allowed amounts, visits) of the stored yearly accrual rows,
    less the visits dated after the day asked for (`_signed_after`)."""
    out: dict[tuple[int, str], tuple[Decimal, int]] = {}
    for patient_id, group, cents, visits in rows.values_list(
        "patient_id", "therapy_group", "allowed_cents", "visits"
    ):
        key = (int(patient_id), str(group))
        less, fewer = later.get(key, (Decimal("0"), 0))
        if visits - fewer > 0:
            out[key] = (Decimal(cents).scaleb(-2) - less, visits - fewer)
    return out


def _clinic_accruals(
    clinic_id: int, today: date, at_least: Decimal
) -> dict[tuple[int, str], tuple[Decimal, int]]:
    """(patient id, group) -> (allowed amounts summed, number of visits) of the clinic's
    signed visits this year to `today` (`_signed_this_year`), for the groups whose sum
    reaches `at_least`: the `_accruals` of the whole clinic, read from the stored yearly
    accrual (ThresholdAccrual, kept in the signing transaction) by its index on (clinic,
    year, amount), so the list reads the groups near the threshold, not the year's visits."""
    rows = ThresholdAccrual.objects.filter(
        clinic_id=clinic_id,
        year=today.year,
        allowed_cents__gte=int((at_least * 100).to_integral_value(rounding=ROUND_FLOOR)),
    )
    later = _signed_after(Visit.objects.filter(clinic_id=clinic_id), today)
    return {
        key: value for key, value in _stored_accruals(rows, later).items() if value[0] >= at_least
    }


def _crossed_on(
    clinic_id: int, keys: set[tuple[int, str]], amount: Decimal, today: date
) -> dict[tuple[int, str], date]:
    """(patient id, group) -> the first signed visit at which the group's running total went
    over `amount`, for the given groups over the threshold, in one query."""
    out: dict[tuple[int, str], date] = {}
    if not keys:
        return out
    running: dict[tuple[int, str], Decimal] = {}
    for patient_id, discipline, day, allowed in (
        _signed_this_year(clinic_id, {patient_id for patient_id, _ in keys}, today)
        .filter(allowed_amount__isnull=False)
        .order_by("date", "signed_at", "id")
        .values_list("case__patient_id", "case__discipline", "date", "allowed_amount")
    ):
        key = (int(patient_id), _group(str(discipline)))
        if key not in keys or key in out:
            continue
        running[key] = running.get(key, Decimal("0")) + (allowed or Decimal("0"))
        if running[key] > amount:
            out[key] = day
    return out


def _frequencies(clinic_id: int, patient_ids: set[int], today: date) -> dict[tuple[int, str], int]:
    """(patient id, group) -> visits a week of the plans in effect today (the latest started,
    not ended) of the patient's open cases in the group, added up; in one query."""
    out: dict[tuple[int, str], int] = {}
    if not patient_ids:
        return out
    # Found by the patients (their index); the clinic is checked below, as a condition on
    # it in the query had the database read the clinic's every case by the clinic's index.
    plans = (
        PlanOfCare.objects.filter(case__patient_id__in=patient_ids, start_date__lte=today)
        .filter(Q(case__closed_on__isnull=True) | Q(case__closed_on__gte=today))
        .select_related("case")
        .order_by("case_id", "-start_date", "-id")
    )
    seen: set[int] = set()
    for plan in plans:
        if plan.case_id in seen or plan.case.clinic_id != clinic_id:
            continue
        seen.add(plan.case_id)
        if plan.end_date >= today:
            key = (plan.case.patient_id, _group(plan.case.discipline))
            out[key] = out.get(key, 0) + plan.frequency_per_week
    return out


def _threshold_row(
    *,
    patient: Patient,
    group: str,
    accrued: Decimal,
    visits: int,
    amount: Decimal,
    today: date,
    frequency: int,
    crossed_on: date | None,
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
            frequency_per_week=frequency,
            today=today,
            crossed_on=crossed_on if over else None,
        ),
    )


def _medicare_patients(patient_ids: set[int]) -> set[int]:
    """The patients whose primary coverage is a Medicare payer."""
    return set(
        Coverage.objects.filter(
            patient_id__in=patient_ids,
            order=CoverageOrder.PRIMARY,
            payer__type=PayerType.MEDICARE,
        ).values_list("patient_id", flat=True)
    )


def _threshold_rows(
    *,
    clinic_id: int,
    accruals: dict[tuple[int, str], tuple[Decimal, int]],
    patients: dict[int, Patient],
    amount: Decimal,
    today: date,
) -> list[ThresholdRow]:
    """Rows for the given (patient, group) accruals, with the forecast: a fixed number of
    queries whatever the number of rows."""
    frequencies = _frequencies(clinic_id, {patient_id for patient_id, _ in accruals}, today)
    over = {key for key, (accrued, _visits) in accruals.items() if accrued.quantize(CENT) > amount}
    crossed = _crossed_on(clinic_id, over, amount, today)
    remitted = _remitted(clinic_id, set(accruals), today)
    return [
        _with_remitted(
            _threshold_row(
                patient=patients[patient_id],
                group=group,
                accrued=accrued,
                visits=visits,
                amount=amount,
                today=today,
                frequency=frequencies.get((patient_id, group), 0),
                crossed_on=crossed.get((patient_id, group)),
            ),
            remitted.get((patient_id, group)),
        )
        for (patient_id, group), (accrued, visits) in accruals.items()
    ]


def _with_remitted(row: ThresholdRow, remitted: tuple[Decimal, int] | None) -> ThresholdRow:
    if remitted is None:
        return replace(row, remitted=row.accrued)
    # The estimate of a remitted visit is replaced: accrued - those estimates + allowed.
    return replace(row, remitted=remitted[0].quantize(CENT), visits_remitted=remitted[1])


def _remitted(
    clinic_id: int, keys: set[tuple[int, str]], today: date
) -> dict[tuple[int, str], tuple[Decimal, int]]:
    """(patient id, group) -> (the year's allowed amounts with each remitted visit's estimate
    replaced by what Medicare allowed on its posted remittances, visits remitted), for the
    given groups with at least one remitted visit: three queries whatever the number of
    rows (the visits, their Medicare line postings and those postings' adjustments)."""
    if not keys:
        return {}
    visits = list(
        _signed_this_year(
            clinic_id, {patient_id for patient_id, _group in keys}, today
        ).values_list("pk", "case__patient_id", "case__discipline", "allowed_amount")
    )
    allowed = remitted_allowed([pk for pk, _p, _d, _a in visits])
    totals: dict[tuple[int, str], tuple[Decimal, int]] = {}
    for pk, patient_id, discipline, estimate in visits:
        key = (int(patient_id), _group(str(discipline)))
        if key not in keys:
            continue
        total, count = totals.get(key, (Decimal("0"), 0))
        if pk in allowed:
            totals[key] = (total + allowed[pk], count + 1)
        else:
            totals[key] = (total + (estimate or Decimal("0")), count)
    return {key: value for key, value in totals.items() if value[1]}


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
    accruals = _clinic_accruals(clinic_id_of(user), day, at_least=amount * share)
    if not sees_all(user):
        treated = {
            (patient_id, _group(discipline))
            for patient_id, discipline in _open_case_query(user, day).values_list(
                "patient_id", "discipline"
            )
        }
        accruals = {key: value for key, value in accruals.items() if key in treated}
    reaching = {key: value for key, value in accruals.items() if value[0] >= amount * share}
    medicare = _medicare_patients({patient_id for patient_id, _ in reaching})
    reaching = {key: value for key, value in reaching.items() if key[0] in medicare}
    rows = _threshold_rows(
        clinic_id=clinic_id_of(user),
        accruals=reaching,
        patients=Patient.objects.in_bulk(medicare),
        amount=amount,
        today=day,
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
    if patient.clinic_id != clinic_id_of(user) or not _medicare_patients({patient.pk}):
        return []
    try:
        amount, _source = threshold_amount(day.year)
    except RuleInputError:
        return []
    cases = list(
        Case.objects.filter(clinic_id=patient.clinic_id, patient=patient).values_list(
            "pk", "discipline"
        )
    )
    # The stored yearly accrual of the patient (ThresholdAccrual), to `day`.
    accruals = _stored_accruals(
        ThresholdAccrual.objects.filter(
            clinic_id=patient.clinic_id, patient=patient, year=day.year
        ),
        _signed_after(Visit.objects.filter(case_id__in=[pk for pk, _d in cases]), day),
    )
    groups = {_group(discipline) for _pk, discipline in cases}
    wanted: dict[tuple[int, str], tuple[Decimal, int]] = {
        (patient.pk, group): accruals.get((patient.pk, group), (Decimal("0"), 0))
        for group in ("PT/SLP", "OT")
        if group in groups
    }
    return _threshold_rows(
        clinic_id=patient.clinic_id,
        accruals=wanted,
        patients={patient.pk: patient},
        amount=amount,
        today=day,
    )

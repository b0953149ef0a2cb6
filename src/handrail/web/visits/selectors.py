"""Reads for visits, per-case counters and the yearly therapy threshold accrual.

Every function takes the signed-in user or an object already fetched within their clinic.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db.models import Case as DbCase
from django.db.models import (
    CharField,
    Count,
    DateField,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce, ExtractYear
from django.http import Http404
from django.utils import timezone

from handrail.web.care.models import Case, PlanOfCare
from handrail.web.care.selectors import plan_in_effect
from handrail.web.clinic.models import Coverage, Patient, Role, User
from handrail.web.clinic.permissions import can_view_clinical, clinic_id_of, require
from handrail.web.clinic.selectors import coverage_primary
from handrail.web.visits.models import (
    REPORT_TYPES,
    ServiceLine,
    ThresholdAccrual,
    ThresholdGroup,
    Visit,
    VisitStatus,
)

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
            "case",
            "case__patient",
            "clinic",
            "clinician",
            "signed_by",
            "cosigned_by",
            "updated_by",
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
    return plan_days_since_certification(plan=plan_in_effect(case=case, on=on), on=on)


def plan_days_since_certification(*, plan: PlanOfCare | None, on: date) -> int | None:
    """Days from the plan's certification to `on`; None when not certified (yet) then."""
    if plan is None or plan.certified_on is None or plan.certified_on > on:
        return None
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
    return counters_from(
        on=day,
        plan=plan_in_effect(case=case, on=day),
        treatment_days=case_treatment_days_since_report(case=case, on=day),
    )


def counters_from(*, on: date, plan: PlanOfCare | None, treatment_days: int) -> CaseCounters:
    """The counters from the plan in effect on `on` and the treatment days since the last
    report, already read (case_counters, or a note's VisitFacts)."""
    return CaseCounters(
        on=on,
        treatment_days_since_report=treatment_days,
        progress_report_due=treatment_days >= PROGRESS_REPORT_EVERY,
        days_since_certification=plan_days_since_certification(plan=plan, on=on),
        certification_due=plan.certification_due if plan and not plan.is_certified else None,
        recertification_due=plan.recertification_due if plan else None,
    )


def threshold_group(discipline: str) -> str:
    """The KX threshold's two amounts: PT and SLP combined, OT separate (SSA §1833(g))."""
    return "OT" if discipline == "OT" else "PT+SLP"


def _threshold_disciplines(discipline: str) -> list[str]:
    return ["OT"] if threshold_group(discipline) == "OT" else ["PT", "SLP"]


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
    visits = Visit.objects.filter(
        case__patient=patient,
        case__discipline__in=_threshold_disciplines(discipline),
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


@dataclass(frozen=True, slots=True)
class VisitFacts:
    """What a note's evaluation, its live panel and the page's access rights read, each read
    once per request (issue 10: the autosave with its panel looked the plan up four times,
    the coverage three times and the treatment days twice)."""

    on: date  # the visit's date
    coverage: Coverage | None  # the patient's primary coverage
    plan: PlanOfCare | None  # the plan in effect on the visit's date
    lines: list[ServiceLine]  # the note's lines, in order
    # Each code's note at the case's last signed visit before this one.
    previous_notes: dict[str, dict[str, str]]
    treatment_days: int  # as case_treatment_days_since_report on the visit's date
    accrued_before: Decimal  # as threshold_accrued before this visit, up to its date

    @property
    def counters(self) -> CaseCounters:
        return counters_from(on=self.on, plan=self.plan, treatment_days=self.treatment_days)


def visit_facts(*, visit: Visit) -> VisitFacts:
    """The note's facts in four queries: coverage, plan, the lines with the previous signed
    visit's lines, and one aggregate for the treatment days and the threshold accrual."""
    lines, previous_notes = _lines_and_previous_notes(visit)
    treatment_days, accrued = _visit_figures(visit)
    return VisitFacts(
        on=visit.date,
        coverage=coverage_primary(patient=visit.case.patient),
        plan=plan_in_effect(case=visit.case, on=visit.date),
        lines=lines,
        previous_notes=previous_notes,
        treatment_days=treatment_days,
        accrued_before=accrued,
    )


def _lines_and_previous_notes(
    visit: Visit,
) -> tuple[list[ServiceLine], dict[str, dict[str, str]]]:
    """The note's lines and, in the same query, the lines of the case's last signed visit
    before it (for the engine's repeated-note check: a note copied forward shows no
    progression)."""
    previous = (
        Visit.objects.filter(case_id=visit.case_id, status=VisitStatus.SIGNED, date__lt=visit.date)
        .order_by("-date", "-signed_at")
        .values("pk")[:1]
    )
    lines: list[ServiceLine] = []
    previous_notes: dict[str, dict[str, str]] = {}
    for line in ServiceLine.objects.filter(Q(visit_id=visit.pk) | Q(visit_id=Subquery(previous))):
        if line.visit_id == visit.pk:
            line.visit = visit
            lines.append(line)
        else:
            previous_notes.setdefault(line.code, line.note_dict())
    return lines, previous_notes


def _visit_figures(visit: Visit) -> tuple[int, Decimal]:
    """(treatment days since the last report, threshold accrued before the visit) in one
    aggregate over the visits of the case and of the patient's year; the same figures as
    case_treatment_days_since_report and threshold_accrued(exclude_visit=visit,
    up_to=visit.date)."""
    on = visit.date
    last_report = (
        Visit.objects.filter(case_id=visit.case_id, visit_type__in=REPORT_TYPES, date__lt=on)
        .order_by("-date")
        .values("date")[:1]
    )
    episode = Q(
        case_id=visit.case_id,
        date__lte=on,
        date__gt=Coalesce(Subquery(last_report), Value(date.min), output_field=DateField()),
    )
    accrual = Q(
        case__patient_id=visit.case.patient_id,
        case__discipline__in=_threshold_disciplines(visit.case.discipline),
        status=VisitStatus.SIGNED,
        date__year=on.year,
        date__lte=on,
    ) & ~Q(pk=visit.pk)
    # Both sets are the patient's visits: said first, so the database reads the patient's
    # cases and their visits from the indexes instead of testing every visit of the clinic
    # against the two conditions (a note page grew with the clinic's history).
    row = (
        Visit.objects.filter(case__patient_id=visit.case.patient_id)
        .filter(episode | accrual)
        .aggregate(
            days=Count("date", distinct=True, filter=episode),
            accrued=Sum("allowed_amount", filter=accrual),
        )
    )
    accrued = Decimal(row["accrued"] or 0).quantize(Decimal("0.01"))
    return int(row["days"] or 0), accrued


AccrualKey = tuple[int, int, int, str]  # (clinic id, patient id, year, group)


@dataclass(frozen=True, slots=True)
class AccrualDrift:
    """A stored yearly threshold accrual (ThresholdAccrual) that differs from the sum of
    its signed visits: the stored figures (None when no row is stored) and the sums."""

    clinic_id: int
    patient_id: int
    year: int
    group: str
    stored: Decimal | None
    stored_visits: int
    recomputed: Decimal | None
    recomputed_visits: int

    def describe(self) -> str:
        def shown(amount: Decimal | None, visits: int) -> str:
            return "none" if amount is None else f"${amount:,.2f} over {visits} visits"

        return (
            f"patient {self.patient_id} (clinic {self.clinic_id}), {self.year} "
            f"{self.group}: stored {shown(self.stored, self.stored_visits)}, signed visits "
            f"{shown(self.recomputed, self.recomputed_visits)}"
        )


def threshold_accruals_recomputed() -> dict[AccrualKey, tuple[Decimal, int]]:
    """The yearly threshold accruals summed from the signed visits themselves (as the
    triggers of visits migration 0009 keep them): (clinic, patient, year, group) ->
    (allowed amounts, visits), per calendar year, PT+SLP combined and OT separate (SSA
    §1833(g)). One aggregate over every signed visit: for checks, not for pages."""
    rows = (
        Visit.objects.filter(status=VisitStatus.SIGNED, allowed_amount__isnull=False)
        .annotate(
            year=ExtractYear("date"),
            group=DbCase(
                When(case__discipline="OT", then=Value(ThresholdGroup.OT.value)),
                default=Value(ThresholdGroup.PT_SLP.value),
                output_field=CharField(),
            ),
        )
        .values("clinic_id", "case__patient_id", "year", "group")
        .annotate(total=Sum("allowed_amount"), visits=Count("id"))
        .order_by()
    )
    return {
        (
            int(row["clinic_id"]),
            int(row["case__patient_id"]),
            int(row["year"]),
            str(row["group"]),
        ): (Decimal(row["total"]).quantize(Decimal("0.01")), int(row["visits"]))
        for row in rows
    }


def threshold_accrual_drift() -> tuple[int, list[AccrualDrift]]:
    """(stored rows checked, the rows that differ from their signed visits): every stored
    yearly threshold accrual compared with the sums of its visits, to the cent and visit."""
    recomputed = threshold_accruals_recomputed()
    stored: dict[AccrualKey, tuple[Decimal, int]] = {
        (clinic_id, patient_id, year, group): (Decimal(cents).scaleb(-2), visits)
        for clinic_id, patient_id, year, group, cents, visits in (
            ThresholdAccrual.objects.values_list(
                "clinic_id", "patient_id", "year", "therapy_group", "allowed_cents", "visits"
            )
        )
    }
    drift = []
    for key in sorted(stored.keys() | recomputed.keys()):
        if stored.get(key) == recomputed.get(key):
            continue
        kept, summed = stored.get(key), recomputed.get(key)
        drift.append(
            AccrualDrift(
                clinic_id=key[0],
                patient_id=key[1],
                year=key[2],
                group=key[3],
                stored=kept[0] if kept else None,
                stored_visits=kept[1] if kept else 0,
                recomputed=summed[0] if summed else None,
                recomputed_visits=summed[1] if summed else 0,
            )
        )
    return len(stored), drift

"""Reads of the patient portal: a program's progress (adherence per week, pain trend, last
activity, flags) from the patient's log, and the worklist of programs that need a look."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from django.core.exceptions import PermissionDenied
from django.db.models import Max, Min, QuerySet
from django.http import Http404
from django.utils import timezone

from handrail.progress.adherence import (
    PAIN_RISE_POINTS,
    LoggedSession,
    PainPoint,
    WeekAdherence,
    last_activity,
    no_recent_activity,
    pain_rise,
    pain_trend,
    sessions_per_week,
    weekly_adherence,
)
from handrail.progress.charts import adherence_svg, pain_svg
from handrail.web.clinic.models import Patient, User
from handrail.web.clinic.permissions import can_view_clinical, clinic_id_of
from handrail.web.portal.models import ClinicianNote, PatientLink, SessionLog
from handrail.web.portal.services import latest_version, program_end_date, program_start
from handrail.web.programs.models import Program, ProgramStatus, ProgramVersion


def program_for_staff(*, user: User, program_id: int) -> Program:
    if not can_view_clinical(user):
        raise PermissionDenied("Your role cannot see home programs.")
    program = (
        Program.objects.filter(clinic_id=clinic_id_of(user), pk=program_id)
        .select_related("patient", "case", "clinic")
        .first()
    )
    if program is None:
        raise Http404("No such program.")
    return program


@dataclass(frozen=True)
class Progress:
    program: Program
    start: date | None
    per_week: int
    weeks: list[WeekAdherence]
    pain: list[PainPoint]
    last_activity: date | None
    inactive: bool
    pain_rise: float | None

    @property
    def pain_rising(self) -> bool:
        return self.pain_rise is not None and self.pain_rise >= PAIN_RISE_POINTS

    def adherence_chart(self) -> str:
        return adherence_svg(
            self.weeks, chart_id=f"adherence-{self.program.pk}", title="Sessions per week"
        )

    def pain_chart(self) -> str:
        return pain_svg(self.pain, chart_id=f"pain-{self.program.pk}", title="Pain (0-10)")


def _sessions(program: Program) -> list[LoggedSession]:
    rows = SessionLog.objects.filter(program=program).values_list(
        "day", "pain_before", "pain_after"
    )
    return [LoggedSession(day=d, pain_before=b, pain_after=a) for d, b, a in rows]


def program_progress(*, program: Program, today: date) -> Progress:
    version = latest_version(program)
    start = program_start(program)
    per_week = (
        sessions_per_week(
            (row.get("times_per_day"), row.get("days_per_week")) for row in version.items
        )
        if version is not None
        else 0
    )
    sessions = _sessions(program)
    weeks = (
        weekly_adherence(
            sessions, start=start, today=today, per_week=per_week, end=program_end_date(program)
        )
        if start is not None
        else []
    )
    return Progress(
        program=program,
        start=start,
        per_week=per_week,
        weeks=weeks,
        pain=pain_trend(sessions),
        last_activity=last_activity(sessions),
        inactive=start is not None and no_recent_activity(sessions, issued_on=start, today=today),
        pain_rise=pain_rise(sessions, today=today),
    )


def issued_programs(*, user: User, patient: Patient | None = None) -> QuerySet[Program]:
    programs = Program.objects.filter(
        clinic_id=clinic_id_of(user), status=ProgramStatus.ISSUED
    ).select_related("patient", "case", "clinic")
    if patient is not None:
        programs = programs.filter(patient=patient)
    return programs.order_by("patient__last_name", "patient__first_name", "id")


@dataclass(frozen=True)
class Flag:
    program: Program
    last_activity: date | None
    inactive: bool
    pain_rise: float | None

    @property
    def pain_rising(self) -> bool:
        return self.pain_rise is not None and self.pain_rise >= PAIN_RISE_POINTS


def flagged_programs(*, user: User, today: date) -> list[Flag]:
    """Issued programs of open cases with no activity for 7 days or pain up 2 or more over
    a week (handrail.progress.adherence holds the definitions). Four queries whatever the
    number of programs: only the last two weeks of logs decide the flags."""
    programs = list(issued_programs(user=user).filter(case__closed_on__isnull=True))
    ids = [p.pk for p in programs]
    first_issued = dict(
        ProgramVersion.objects.filter(program_id__in=ids)
        .values("program_id")
        .annotate(first=Min("issued_at"))
        .values_list("program_id", "first")
    )
    last_day = dict(
        SessionLog.objects.filter(program_id__in=ids)
        .values("program_id")
        .annotate(last=Max("day"))
        .values_list("program_id", "last")
    )
    recent: dict[int, list[LoggedSession]] = {}
    for program_id, day, before, after in SessionLog.objects.filter(
        program_id__in=ids, day__gte=today - timedelta(days=13), day__lte=today
    ).values_list("program_id", "day", "pain_before", "pain_after"):
        recent.setdefault(program_id, []).append(
            LoggedSession(day=day, pain_before=before, pain_after=after)
        )
    flagged: list[Flag] = []
    for program in programs:
        issued = first_issued.get(program.pk)
        if issued is None:
            continue
        sessions = recent.get(program.pk, [])
        flag = Flag(
            program=program,
            last_activity=last_day.get(program.pk),
            inactive=no_recent_activity(
                sessions, issued_on=timezone.localdate(issued), today=today
            ),
            pain_rise=pain_rise(sessions, today=today),
        )
        if flag.inactive or flag.pain_rising:
            flagged.append(flag)
    return flagged


def recent_logs(*, program: Program, limit: int = 20) -> QuerySet[SessionLog]:
    return SessionLog.objects.filter(program=program).order_by("-day", "-id")[:limit]


def clinician_notes(*, program: Program) -> QuerySet[ClinicianNote]:
    return ClinicianNote.objects.filter(program=program).select_related("author")


def links_of(*, program: Program) -> QuerySet[PatientLink]:
    return PatientLink.objects.filter(program=program).select_related("created_by", "revoked_by")

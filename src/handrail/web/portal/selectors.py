"""Reads of the patient portal: a program's progress (adherence per week, pain trend, last
activity, flags) from the patient's log, and the worklist of programs that need a look."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404

from handrail.progress.adherence import (
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
from handrail.web.programs.models import Program, ProgramStatus


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
        return self.pain_rise is not None and self.pain_rise >= 2

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


def flagged_programs(*, user: User, today: date) -> list[Progress]:
    """Issued programs of open cases with no activity for 7 days or pain up 2 or more over
    a week (handrail.progress.adherence holds the definitions)."""
    flagged: list[Progress] = []
    for program in issued_programs(user=user).filter(case__closed_on__isnull=True):
        progress = program_progress(program=program, today=today)
        if progress.inactive or progress.pain_rising:
            flagged.append(progress)
    return flagged


def recent_logs(*, program: Program, limit: int = 20) -> QuerySet[SessionLog]:
    return SessionLog.objects.filter(program=program).order_by("-day", "-id")[:limit]


def clinician_notes(*, program: Program) -> QuerySet[ClinicianNote]:
    return ClinicianNote.objects.filter(program=program).select_related("author")


def links_of(*, program: Program) -> QuerySet[PatientLink]:
    return PatientLink.objects.filter(program=program).select_related("created_by", "revoked_by")

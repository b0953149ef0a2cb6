"""The portal's endpoint of the JSON API: a program's adherence. Registered on the clinic
API (handrail.web.api.api) when handrail.web.urls imports this module."""

from __future__ import annotations

from datetime import date
from typing import Any, cast

from django.http import HttpRequest
from django.utils import timezone
from ninja import Schema
from ninja.decorators import decorate_view

from handrail.web.api.api import ERRORS, IdPath, api
from handrail.web.audit.reads import audit_read
from handrail.web.clinic.models import User
from handrail.web.portal.selectors import program_for_staff, program_progress


class WeekOut(Schema):
    week: int
    start: date
    end: date
    sessions_done: int
    sessions_prescribed: int
    percent: int


class PainOut(Schema):
    day: date
    before: float | None
    after: float | None


class AdherenceOut(Schema):
    program_id: int
    started_on: date | None
    sessions_per_week: int
    last_activity: date | None
    no_activity_7_days: bool
    pain_rise: float | None
    weeks: list[WeekOut]
    pain: list[PainOut]


@api.get(
    "/programs/{program_id}/adherence",
    response={200: AdherenceOut, **ERRORS},
    tags=["programs"],
)
@decorate_view(audit_read("api program adherence"))
def programs_adherence(request: HttpRequest, program_id: IdPath) -> Any:
    """The patient's logged sessions against the prescribed ones, per week since the program
    was first issued; the pain trend (mean 0-10 per day, before and after); the last day
    logged, and the two worklist flags."""
    user = cast(User, request.user)
    program = program_for_staff(user=user, program_id=program_id)
    progress = program_progress(program=program, today=timezone.localdate())
    return AdherenceOut(
        program_id=program.pk,
        started_on=progress.start,
        sessions_per_week=progress.per_week,
        last_activity=progress.last_activity,
        no_activity_7_days=progress.inactive,
        pain_rise=progress.pain_rise,
        weeks=[
            WeekOut(
                week=w.number,
                start=w.start,
                end=w.end,
                sessions_done=w.done,
                sessions_prescribed=w.prescribed,
                percent=w.percent,
            )
            for w in progress.weeks
        ],
        pain=[PainOut(day=p.day, before=p.before, after=p.after) for p in progress.pain],
    )

"""The demo clinic's patient side: weeks of synthetic session logs for its issued programs,
so the adherence and pain charts and the flags worklist show something, plus a link, email
consent (to a demo.invalid address; the demo's mail goes to files) and reminders.

Programs issued in the last three weeks are moved back five weeks first (all their versions,
in order): a demo program issued "today" would have no past to log. Idempotent: a program
that already has logs is left alone.
"""

from __future__ import annotations

import random
from datetime import date, timedelta

from django.utils import timezone

from handrail.web.clinic.models import Clinic
from handrail.web.messaging.services import active_consent, consent_record
from handrail.web.portal.models import ChangedVia, SessionLog
from handrail.web.portal.reminders import reminder_plan_set
from handrail.web.portal.services import (
    latest_version,
    link_create,
    program_start,
    session_log_create,
)
from handrail.web.programs.models import Program, ProgramStatus

SEED = 8
# How each demo program's patient behaves, in turn: keeps at it with pain easing; stopped
# logging 9 days ago (flag: no activity); keeps at it but pain rose this week (flag).
PATTERNS = ("steady", "stopped", "sore")


def _backdate(program: Program, today: date) -> None:
    start = program_start(program)
    if start is None or (today - start).days >= 21:
        return
    shift = timedelta(days=35)
    earliest = program.case.opened_on
    if start - shift < earliest:
        shift = timedelta(days=max(0, (start - earliest).days))
    for version in program.versions.all():
        type(version).objects.filter(pk=version.pk).update(issued_at=version.issued_at - shift)


def _pain(pattern: str, days_left: int, rng: random.Random) -> tuple[int, int]:
    if pattern == "sore" and days_left < 7:
        before = 6 + rng.randint(0, 1)
    else:
        before = max(1, 5 - (35 - days_left) // 9 + rng.randint(-1, 1))
    return before, max(0, min(10, before + rng.choice((-1, 0, 0, 1))))


def portal_demo_load(*, clinic: Clinic, today: date | None = None) -> int:
    """Seed logs for the clinic's issued programs; the number of sessions logged."""
    today = today or timezone.localdate()
    rng = random.Random(SEED)
    logged = 0
    programs = Program.objects.filter(clinic=clinic, status=ProgramStatus.ISSUED).order_by("id")
    for index, program in enumerate(programs.select_related("patient", "case", "created_by")):
        if SessionLog.objects.filter(program=program).exists():
            continue
        _backdate(program, today)
        start, version = program_start(program), latest_version(program)
        if start is None or version is None:
            continue
        link, _token = link_create(program=program, by=None, note="demo")
        pattern = PATTERNS[index % len(PATTERNS)]
        items = [str(row["item_id"]) for row in version.items]
        day = start
        while day <= today:
            days_left = (today - day).days
            stopped = pattern == "stopped" and days_left < 9
            if not stopped and rng.random() < 0.7:
                before, after = _pain(pattern, days_left, rng)
                session_log_create(
                    link=link,
                    data={
                        "day": day.isoformat(),
                        "pain_before": str(before),
                        "pain_after": str(after),
                        "difficulty": "hard" if after >= 6 else rng.choice(("easy", "ok")),
                    },
                    items=[i for i in items if rng.random() < 0.85] or items[:1],
                    today=today,
                )
                logged += 1
            day += timedelta(days=1)
        if active_consent(program.patient) is None:
            consent_record(
                patient=program.patient,
                address=f"patient{program.patient.pk}@demo.invalid",
                how="verbally at the visit (demo)",
                recorded_by=program.created_by,
            )
        if index == 0:
            reminder_plan_set(
                program=program,
                weekdays=["Mon", "Wed", "Fri"],
                at="07:30",
                time_zone="America/Chicago",
                via=ChangedVia.PATIENT,
            )
    return logged

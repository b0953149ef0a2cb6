"""Reminder emails: the patient's choice of weekdays, time and time zone per program, and the
task that queues the reminders that are due (handrail.web.messaging.schedule says when).

Queueing is idempotent: each reminder's outbox key is the program and the patient's local
date, so a task run twice (or two workers) queues it once. A worker that was down for days
queues only the latest reminder that fell due, not one per missed day.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, time

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from handrail.web.audit.models import AuditAction
from handrail.web.audit.services import audit_record
from handrail.web.clinic.models import User
from handrail.web.messaging.models import MessageKind
from handrail.web.messaging.schedule import next_reminder, parse_weekdays, zone_or_none
from handrail.web.messaging.services import message_queue
from handrail.web.portal.models import ChangedVia, ReminderPlan
from handrail.web.portal.services import program_end_date
from handrail.web.programs.models import Program

MAX_CATCH_UP = 400  # reminders skipped over in one plan before giving up (a year and more)


def _next(plan: ReminderPlan, after: datetime) -> datetime | None:
    zone = zone_or_none(plan.time_zone)
    if zone is None or not plan.weekdays:
        return None
    return next_reminder(
        weekdays=plan.weekdays,
        at=plan.at,
        zone=zone,
        after=after,
        ends_on=program_end_date(plan.program),
    )


def _parse_time(value: str) -> time | None:
    try:
        parsed = time.fromisoformat(value.strip())
    except ValueError:
        return None
    return parsed.replace(second=0, microsecond=0, tzinfo=None)


@transaction.atomic
def reminder_plan_set(
    *,
    program: Program,
    weekdays: Iterable[str],
    at: str,
    time_zone: str,
    via: str,
    by: User | None = None,
    now: datetime | None = None,
) -> ReminderPlan | None:
    """Set (or with no weekdays, stop) the program's reminders. Errors name the field:
    weekdays, at, time_zone. None when the reminders were stopped."""
    now = now or timezone.now()
    errors: dict[str, str] = {}
    days: tuple[int, ...] = ()
    try:
        days = parse_weekdays(weekdays)
    except ValueError as exc:
        errors["weekdays"] = f"Days: {exc}."
    if not days and not errors:
        ReminderPlan.objects.filter(program=program).delete()
        _audit(program, by, "reminders stopped")
        return None
    at_time = _parse_time(at)
    if at_time is None:
        errors["at"] = "Time: write it as HH:MM, e.g. 07:30."
    if zone_or_none(time_zone.strip()) is None:
        errors["time_zone"] = (
            f"Time zone: {time_zone[:64]!r} is not a time zone; "
            "choose one such as America/Chicago."
        )
    if errors or at_time is None:
        raise ValidationError(errors)
    plan, _created = ReminderPlan.objects.select_for_update().update_or_create(
        program=program,
        defaults={
            "weekdays": list(days),
            "at": at_time,
            "time_zone": time_zone.strip(),
            "updated_at": now,
            "updated_via": via,
            "updated_by": by,
        },
    )
    plan.next_at = _next(plan, now)
    plan.save(update_fields=["next_at"])
    _audit(program, by, "reminders set")
    return plan


def _audit(program: Program, by: User | None, detail: str) -> None:
    if by is not None:
        audit_record(
            user=by, action=AuditAction.UPDATE, obj=program, patient=program.patient, detail=detail
        )


def reminders_queue_due(*, now: datetime | None = None, limit: int = 1000) -> int:
    """Queue every reminder that is due and move each plan on; the number queued."""
    now = now or timezone.now()
    ids = list(ReminderPlan.objects.filter(next_at__lte=now).values_list("id", flat=True)[:limit])
    return sum(_queue_one(plan_id, now) for plan_id in ids)


@transaction.atomic
def _queue_one(plan_id: int, now: datetime) -> int:
    plan = (
        ReminderPlan.objects.select_for_update()
        .select_related("program", "program__patient", "program__case", "program__clinic")
        .filter(id=plan_id, next_at__lte=now)
        .first()
    )
    if plan is None or plan.next_at is None:  # another worker moved it on
        return 0
    due = plan.next_at
    following = _next(plan, due)
    for _ in range(MAX_CATCH_UP):
        if following is None or following > now:
            break
        due, following = following, _next(plan, following)
    plan.next_at = following
    plan.save(update_fields=["next_at"])
    zone = zone_or_none(plan.time_zone)
    local_day = due.astimezone(zone).date() if zone else due.date()
    program = plan.program
    message = message_queue(
        patient=program.patient,
        kind=MessageKind.REMINDER,
        subject=f"A reminder from {program.clinic.name}",
        idempotency_key=f"reminder:{program.pk}:{local_day.isoformat()}",
        context={"program_id": program.pk, "day": local_day.isoformat()},
        now=now,
    )
    return 1 if message is not None else 0


def via_staff() -> str:
    return str(ChangedVia.STAFF)


def via_patient() -> str:
    return str(ChangedVia.PATIENT)

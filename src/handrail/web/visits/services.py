"""Writes for visits: create, document service lines and timers, evaluate, sign, co-sign,
and addenda after signing.

Rules enforced here (issue #3): no future visit dates; one visit per case and day; a line's
minutes are 0..1440 and the visit's total at most 24 hours; timer segments never negative
or overlapping; a signed note is locked (only addenda and a co-signature follow); billers,
front desk and admins never sign; an assistant signs only their own note and, where the
primary payer requires it, a therapist of the discipline co-signs.
Bad input raises ValidationError keyed by field; nothing is saved in part (one transaction).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import F, Q, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone

from handrail.rules.catalog import code_spec
from handrail.rules.model import RuleInputError
from handrail.web.audit.models import AuditAction
from handrail.web.audit.services import audit_change, audit_record
from handrail.web.care.models import Case
from handrail.web.clinic.models import Patient, Role, User
from handrail.web.clinic.permissions import can_document, can_sign, require
from handrail.web.clinic.selectors import coverage_primary
from handrail.web.dates import day_bounds
from handrail.web.visits.engine import evaluate_record
from handrail.web.visits.models import (
    MAX_DAY_MINUTES,
    Addendum,
    ServiceLine,
    Telehealth,
    ThresholdAccrual,
    TimerSegment,
    Visit,
    VisitStatus,
)
from handrail.web.visits.selectors import (
    AccrualDrift,
    VisitFacts,
    plan_days_since_certification,
    threshold_accrual_drift,
    visit_facts,
)

VISIT_EDITABLE_FIELDS = (
    "visit_type",
    "place_of_service",
    "telehealth",
    "patient_present",
    "caregiver_present",
    "distinct_services",
    "medical_necessity_attested",
    "narrative",
)
LINE_NOTE_FIELDS = ("baseline", "task", "technique", "skilled", "performance", "text")
# Place of service for telehealth (CMS POS code set: 02 elsewhere, 10 in the patient's home).
TELEHEALTH_POS = {Telehealth.HOME: "10", Telehealth.OTHER: "02"}
IN_PERSON_POS = "11"  # office
MAX_TIMER_FUTURE = timedelta(minutes=5)  # clock skew between the browser and the server


LOCKED_MESSAGE = "This note is signed and locked; add an addendum to change it."


class NoteSignedError(ValidationError):
    """Signing or co-signing a note someone else already signed or co-signed: a conflict
    (the web and the API answer 409), keyed "status" like every change to a locked note."""

    def __init__(self, message: str) -> None:
        super().__init__({"status": message})


def _require_draft(visit: Visit) -> None:
    """Refuse a change to a signed note, judged on the row as it is now, not on the caller's
    copy: the visit's row is locked (SELECT ... FOR UPDATE, held until the caller's
    transaction ends) and its status read under the lock. A sign that committed since the
    caller read the visit is seen, and no sign can commit between this check and the
    caller's save, so an autosave in flight never erases a signature nor changes a note
    after its evaluation was stored (visit_sign takes the same lock)."""
    status = (
        Visit.objects.select_for_update(no_key=True)
        .filter(pk=visit.pk)
        .values_list("status", flat=True)
        .first()
    )
    if status is None:
        raise ValidationError({"visit": "This note no longer exists; reload the page."})
    visit.status = status
    if status != VisitStatus.DRAFT:
        raise ValidationError({"status": LOCKED_MESSAGE})


def _require_draft_locked(visit: Visit) -> None:
    """As _require_draft, for a visit already read under its row lock (_locked_visit,
    _locked_line): its status is the committed one, no second query."""
    if visit.status != VisitStatus.DRAFT:
        raise ValidationError({"status": LOCKED_MESSAGE})


def _require_author(user: User, visit: Visit) -> None:
    """Clinicians of the case's discipline (the note's clinician, a therapist, or an assistant
    who furnished part of the time) may edit a draft."""
    require(can_document(user), "Your role cannot document visits.")
    if visit.clinic_id != user.clinic_id:
        raise ValidationError({"visit": "No such visit in your clinic."})
    require(
        user.pk == visit.clinician_id or user.discipline == visit.case.discipline,
        f"Only {visit.case.discipline} clinicians can change this note.",
    )


def _clean_clinician(clinician: User, case: Case) -> None:
    if clinician.clinic_id != case.clinic_id or not clinician.is_clinician:
        raise ValidationError({"clinician": "Pick a therapist or assistant of your clinic."})
    if clinician.discipline != case.discipline:
        raise ValidationError(
            {
                "clinician": f"This is a {case.discipline} case; "
                f"{clinician} is {clinician.discipline}."
            }
        )


@transaction.atomic
def visit_create(
    *,
    user: User,
    case: Case,
    date: date,
    clinician: User | None = None,
    **fields: Any,
) -> Visit:
    """Start a draft note. `fields`: any of VISIT_EDITABLE_FIELDS. The clinician defaults to
    the user; the date may not be in the future nor before the case opened."""
    require(can_document(user), "Your role cannot document visits.")
    if case.clinic_id != user.clinic_id:
        raise ValidationError({"case": "No such case in your clinic."})
    unknown = set(fields) - set(VISIT_EDITABLE_FIELDS)
    if unknown:
        raise ValidationError(dict.fromkeys(sorted(unknown), "Unknown visit field."))
    clinician = clinician or user
    _clean_clinician(clinician, case)
    if date > timezone.localdate():
        raise ValidationError(
            {"date": f"{date.isoformat()} is in the future; document visits that happened."}
        )
    if date < case.opened_on:
        raise ValidationError({"date": f"The case opened on {case.opened_on.isoformat()}."})
    if case.closed_on is not None and date > case.closed_on:
        raise ValidationError(
            {
                "date": f"The case was discharged on {case.closed_on.isoformat()}; "
                "date the visit on or before that day, or open a new case."
            }
        )
    if Visit.objects.filter(case=case, date=date).exists():
        raise ValidationError(
            {
                "date": f"This case already has a visit on {date.isoformat()}; "
                "open that note instead."
            }
        )
    visit = Visit(clinic_id=case.clinic_id, case=case, date=date, clinician=clinician, **fields)
    _apply_telehealth(visit)
    if not visit.telehealth and fields.get("place_of_service") in TELEHEALTH_POS.values():
        raise ValidationError({"place_of_service": _place_mismatch(visit)})
    visit.full_clean()
    try:
        with transaction.atomic():  # a concurrent request may have created the same visit
            visit.save()
    except IntegrityError:
        raise ValidationError(
            {"date": f"This case already has a visit on {date.isoformat()}."}
        ) from None
    _audit_visit(user, visit, AuditAction.CREATE)
    return visit


def _audit_visit(user: User, visit: Visit, action: AuditAction, detail: str = "") -> None:
    """Record who did what to a visit, on its patient's audit trail."""
    audit_record(user=user, action=action, obj=visit, patient=visit.case.patient, detail=detail)


def _apply_telehealth(visit: Visit) -> None:
    """Place of service follows the setting both ways: telehealth sets 02 or 10, in person
    puts a telehealth code back to 11 (office). CMS Place of Service code set: 02
    telehealth provided other than in the patient's home, 10 in the patient's home, 11
    office."""
    if not visit.telehealth:
        if visit.place_of_service in TELEHEALTH_POS.values():
            visit.place_of_service = IN_PERSON_POS
        return
    coverage = coverage_primary(patient=visit.case.patient)
    if coverage is not None and not coverage.payer.telehealth_allowed:
        raise ValidationError(
            {"telehealth": f"{coverage.payer} does not cover telehealth visits."}
        )
    visit.place_of_service = TELEHEALTH_POS[Telehealth(visit.telehealth)]


def _place_mismatch(visit: Visit) -> str:
    if visit.telehealth:
        return (
            f"A telehealth visit ({visit.get_telehealth_display()}) is place of service "
            f"{visit.place_of_service}; leave place_of_service out or change telehealth."
        )
    return (
        "02 and 10 are the telehealth places of service; set telehealth to home or other "
        "instead, or use an in-person code such as 11."
    )


class StaleEditError(ValidationError):
    """An edit based on an older version of a note's header or line than the stored one:
    someone else saved in between (the views answer 409 and offer a reload)."""

    def __init__(self, *, what: str, by: User | None, at: datetime | None) -> None:
        who = str(by) if by is not None else "Someone"
        when = f" at {timezone.localtime(at):%H:%M:%S}" if at is not None else ""
        self.changed_by = by
        self.changed_at = at
        super().__init__(
            {
                "version": f"{who} changed {what}{when} after you opened it. "
                "Reload the note to see their change; what you typed since is not saved."
            }
        )


def _check_version(version: int | None, current: int, what: str, obj: Visit | ServiceLine) -> None:
    if version is not None and version != current:
        # Who changed it is read again by the id on the locked row: on PostgreSQL a row read
        # FOR UPDATE after waiting for another writer is the new version, but a table only
        # joined to it (the user, by select_related) keeps what the first read found.
        by = User.objects.filter(pk=obj.updated_by_id).first() if obj.updated_by_id else None
        raise StaleEditError(what=what, by=by, at=obj.updated_at)


def _locked_visit(visit: Visit) -> Visit:
    """The visit's row, locked until the transaction ends and read fresh: its state (draft or
    signed) and version are checked on this copy, never on one read before the lock."""
    return (
        Visit.objects.select_for_update(of=("self",), no_key=True)
        .select_related("case", "case__patient", "clinician", "updated_by")
        .get(pk=visit.pk)
    )


@transaction.atomic
def visit_update(*, user: User, visit: Visit, version: int | None = None, **fields: Any) -> Visit:
    """Change a draft note's header fields (VISIT_EDITABLE_FIELDS).

    `version`: the header version the change is based on; when given and older than the
    stored one, StaleEditError (nothing saved). Only fields whose value changes are written
    (and audited); a change of nothing writes nothing."""
    unknown = set(fields) - set(VISIT_EDITABLE_FIELDS)
    if unknown:
        raise ValidationError(dict.fromkeys(sorted(unknown), "Unknown visit field."))
    visit = _locked_visit(visit)
    _require_author(user, visit)
    _require_draft_locked(visit)
    _check_version(version, visit.version, "the visit header", visit)
    changed = sorted(name for name, value in fields.items() if getattr(visit, name) != value)
    old = {name: getattr(visit, name) for name in (*changed, "place_of_service")}
    for name in changed:
        setattr(visit, name, fields[name])
    _apply_telehealth(visit)
    if "place_of_service" in fields and visit.place_of_service != fields["place_of_service"]:
        raise ValidationError({"place_of_service": _place_mismatch(visit)})
    written = set(changed)
    if visit.place_of_service != old["place_of_service"]:
        written.add("place_of_service")
    if not written:
        return visit
    visit.full_clean(
        exclude=[f.name for f in Visit._meta.fields if f.name not in written],
        validate_unique=False,
        validate_constraints=False,
    )
    visit.version += 1
    visit.updated_by = user
    visit.save(update_fields=[*sorted(written), "version", "updated_by", "updated_at"])
    changes = [
        audit_change(name, old[name], getattr(visit, name), text=name == "narrative")
        for name in sorted(written)
    ]
    _audit_visit(user, visit, AuditAction.UPDATE, "changed " + "; ".join(changes))
    return visit


def _clean_minutes(visit: Visit, line: ServiceLine) -> None:
    for name in ("therapist_minutes", "assistant_minutes"):
        value = getattr(line, name)
        if value < 0:
            raise ValidationError({name: f"{value} is negative; minutes are 0 or more."})
        if value > MAX_DAY_MINUTES:
            raise ValidationError({name: f"{value} minutes is more than 24 hours."})
    others = visit.lines.exclude(pk=line.pk).aggregate(
        total=Coalesce(Sum(F("therapist_minutes") + F("assistant_minutes")), 0)
    )["total"]
    if line.total_minutes + others > MAX_DAY_MINUTES:
        raise ValidationError(
            {"therapist_minutes": "The visit's minutes would add up to more than 24 hours."}
        )


@transaction.atomic
def service_line_add(
    *,
    user: User,
    visit: Visit,
    code: str,
    therapist_minutes: int = 0,
    assistant_minutes: int = 0,
    requested_units: int | None = None,
    **note: str,
) -> ServiceLine:
    """Add a code to a draft note.

    `note`: baseline, task, technique, skilled, performance, text."""
    _require_author(user, visit)
    _require_draft(visit)
    unknown = set(note) - set(LINE_NOTE_FIELDS)
    if unknown:
        raise ValidationError(dict.fromkeys(sorted(unknown), "Unknown note field."))
    try:
        spec = code_spec(code, field="code")
    except RuleInputError as exc:
        raise ValidationError({"code": exc.message}) from None
    if visit.lines.filter(code=spec.code).exists():
        raise ValidationError(
            {"code": f"{spec.code} is already on this note; change its minutes."}
        )
    line = ServiceLine(
        visit=visit,
        position=visit.lines.count(),
        code=spec.code,
        therapist_minutes=therapist_minutes,
        assistant_minutes=assistant_minutes,
        therapist_typed_offset=therapist_minutes,
        assistant_typed_offset=assistant_minutes,
        requested_units=requested_units,
        **{name: value.strip() for name, value in note.items()},
    )
    _clean_minutes(visit, line)
    line.full_clean()
    line.save()
    _audit_visit(user, visit, AuditAction.UPDATE, f"added {spec.code}")
    return line


def _locked_line(line: ServiceLine) -> ServiceLine:
    """The line and its visit, both rows locked until the transaction ends (one query) and
    read fresh: the visit's state and the line's version are checked on this copy. The line
    must belong to the visit it was addressed through (a URL pairs a note with a line id),
    else ServiceLine.DoesNotExist."""
    return (
        ServiceLine.objects.select_for_update(of=("self", "visit"), no_key=True)
        .select_related("visit", "visit__case", "visit__case__patient", "updated_by")
        .get(pk=line.pk, visit_id=line.visit_id)
    )


UNSET: Any = object()  # requested_units not given (None means "let the engine decide")


@transaction.atomic
def service_line_change(
    *,
    user: User,
    line: ServiceLine,
    version: int | None = None,
    note: dict[str, str] | None = None,
    therapist_minutes: int | None = None,
    assistant_minutes: int | None = None,
    requested_units: Any = UNSET,
) -> ServiceLine:
    """Change a draft line's note fields, its minutes typed by hand (later timer runs add to
    them) and/or its requested units, in one locked write.

    `version`: the line version the change is based on; when given and older than the
    stored one, StaleEditError and nothing is saved. Only values that change are written
    (`save(update_fields=...)`, never a stale copy of the row) and audited by field name;
    a change of nothing writes nothing. Bad values raise ValidationError keyed by field."""
    note = note or {}
    unknown = set(note) - set(LINE_NOTE_FIELDS)
    if unknown:
        raise ValidationError(dict.fromkeys(sorted(unknown), "Unknown note field."))
    line = _locked_line(line)
    visit = line.visit
    _require_author(user, visit)
    _require_draft_locked(visit)
    _check_version(version, line.version, line.code, line)
    changed = [
        name
        for name in LINE_NOTE_FIELDS
        if name in note and getattr(line, name) != note[name].strip()
    ]
    changes = [
        audit_change(name, getattr(line, name), note[name].strip(), text=True) for name in changed
    ]
    for name in changed:
        setattr(line, name, note[name].strip())
    written = list(changed)
    if requested_units is not UNSET and requested_units != line.requested_units:
        changes.append(audit_change("requested units", line.requested_units, requested_units))
        line.requested_units = requested_units
        written.append("requested_units")
    was = f"{line.therapist_minutes}+{line.assistant_minutes}"
    minutes = (
        line.therapist_minutes if therapist_minutes is None else therapist_minutes,
        line.assistant_minutes if assistant_minutes is None else assistant_minutes,
    )
    minutes_changed = minutes != (line.therapist_minutes, line.assistant_minutes)
    if minutes_changed:
        line.therapist_minutes, line.assistant_minutes = minutes
        timed_therapist, timed_assistant = _timer_minutes(line)
        line.therapist_typed_offset = minutes[0] - timed_therapist
        line.assistant_typed_offset = minutes[1] - timed_assistant
        line.kept_minutes_reason = ""  # a reason to keep typed minutes was for the old ones
        _clean_minutes(visit, line)
        written += [
            "therapist_minutes",
            "assistant_minutes",
            "therapist_typed_offset",
            "assistant_typed_offset",
            "kept_minutes_reason",
        ]
    if not written:
        return line
    line.full_clean(
        exclude=[f.name for f in ServiceLine._meta.fields if f.name not in written],
        validate_unique=False,
        validate_constraints=False,
    )
    line.version += 1
    line.updated_by = user
    line.updated_at = timezone.now()
    line.save(update_fields=[*written, "version", "updated_by", "updated_at"])
    if minutes_changed:
        changes.append(audit_change("minutes", was, f"{minutes[0]}+{minutes[1]}"))
    _audit_visit(user, visit, AuditAction.UPDATE, f"{line.code}: changed " + "; ".join(changes))
    return line


def service_line_update(
    *, user: User, line: ServiceLine, requested_units: int | None = None, **note: str
) -> ServiceLine:
    """Change a line's note fields (and the units the clinician means to bill)."""
    return service_line_change(user=user, line=line, note=note, requested_units=requested_units)


def service_line_set_minutes(
    *, user: User, line: ServiceLine, therapist_minutes: int, assistant_minutes: int = 0
) -> ServiceLine:
    """Set a line's minutes by hand; later timer runs add to these minutes."""
    return service_line_change(
        user=user,
        line=line,
        therapist_minutes=therapist_minutes,
        assistant_minutes=assistant_minutes,
    )


@transaction.atomic
def service_line_delete(*, user: User, line: ServiceLine) -> None:
    line = _locked_line(line)
    visit = line.visit
    _require_author(user, visit)
    _require_draft_locked(visit)
    code = line.code
    line.delete()
    _audit_visit(user, visit, AuditAction.UPDATE, f"removed {code}")


def _minutes(seconds: int) -> int:
    return (seconds + 30) // 60  # nearest whole minute, halves up


class TimerConflictError(ValidationError):
    """A timer that is already running started again, or a note signed while one runs: a
    conflict with the server's state (the web and the API answer 409), keyed "timer"."""

    def __init__(self, message: str) -> None:
        super().__init__({"timer": message})


def _clock(at: datetime) -> str:
    return f"{timezone.localtime(at):%H:%M:%S}"


def _require_on_visit_day(visit: Visit, field: str, at: datetime) -> None:
    """Timer runs fall on the visit's day in the clinic's time zone (issue 10: a segment
    dated on another day would bill another day's time on this note)."""
    start, end = day_bounds(visit.date)
    if not start <= at <= end:
        local = timezone.localtime(at)
        raise ValidationError(
            {
                field: f"{local:%Y-%m-%d %H:%M} is not on this note's day "
                f"({visit.date.isoformat()}, clinic time {local.tzname()}); a timer run "
                "falls on the day of its visit."
            }
        )


def _lock_visit_lines(line: ServiceLine) -> tuple[Visit, dict[int, ServiceLine]]:
    """Lock every line of the line's visit (in id order), then the visit, and read them
    fresh. Timer changes may touch two lines (starting one stops the user's other run), so
    they lock all lines first, in one order, before the visit: an edit locks its line then
    the visit (_locked_line), a sign only the visit, so none of them waits in a cycle."""
    visit_id = ServiceLine.objects.filter(pk=line.pk).values_list("visit_id", flat=True).first()
    if visit_id is None:
        raise ValidationError({"line": "This line is no longer on the note; reload the page."})
    lines = {
        row.pk: row
        for row in ServiceLine.objects.select_for_update(no_key=True)
        .filter(visit_id=visit_id)
        .order_by("pk")
    }
    visit = _locked_visit(Visit(pk=visit_id))
    for row in lines.values():
        row.visit = visit
    if line.pk not in lines:
        raise ValidationError({"line": "This line is no longer on the note; reload the page."})
    return visit, lines


def _save_minutes(user: User, line: ServiceLine) -> None:
    """The line's minutes recomputed from its timer runs, as a new version of the line; a
    kept-minutes reason from the reconcile step no longer applies to the new minutes."""
    _recompute_line_minutes(line)
    _clean_minutes(line.visit, line)
    line.kept_minutes_reason = ""
    line.version += 1
    line.updated_by = user
    line.updated_at = timezone.now()
    line.save(
        update_fields=[
            "therapist_minutes",
            "assistant_minutes",
            "kept_minutes_reason",
            "version",
            "updated_by",
            "updated_at",
        ]
    )


def _stop_segment(user: User, line: ServiceLine, segment: TimerSegment, at: datetime) -> bool:
    """Finish a running segment at `at`, or at the end of the visit's day when `at` is later
    (a timer left running past midnight is capped there: the run belongs to the visit's
    day). True when capped. The line's minutes are recomputed and audited."""
    _, day_end = day_bounds(line.visit.date)
    capped = at > day_end
    ended = day_end if capped else at
    if ended <= segment.started_at:  # stopped within the clock's resolution: no time
        segment.delete()
        _audit_visit(user, line.visit, AuditAction.UPDATE, f"{line.code}: timer run of 0 s")
        return False
    segment.ended_at = ended
    segment.capped = capped
    segment.full_clean()
    segment.save(update_fields=["ended_at", "capped"])
    _save_minutes(user, line)
    started_by = "" if segment.by_id == user.pk else f" (started by {segment.by})"
    _audit_visit(
        user,
        line.visit,
        AuditAction.UPDATE,
        f"{line.code}: timer stopped{started_by}, run of {segment.seconds} s"
        + (" capped at midnight" if capped else "")
        + f"; minutes {line.therapist_minutes}+{line.assistant_minutes}",
    )
    return capped


def _running(visit: Visit) -> list[TimerSegment]:
    return list(
        TimerSegment.objects.filter(line__visit=visit, ended_at__isnull=True).select_related(
            "by", "line"
        )
    )


@dataclass(frozen=True, slots=True)
class TimerStarted:
    segment: TimerSegment
    # The user's runs on other lines of the visit, stopped at the same instant.
    stopped: list[TimerSegment]


@transaction.atomic
def timer_start(*, user: User, line: ServiceLine) -> TimerStarted:
    """Start the line's timer on the server, now (a running segment: a start, no end).

    Refused while the line's timer already runs (TimerConflictError, whoever started it),
    and on a note not dated today (a live timer runs on the visit's day; earlier runs are
    added with their times, timer_segment_add). The user's own timer on another line of the
    note stops at the same instant: one-on-one time is one code at a time. Starting does not
    change the line's minutes, so it is not a new version of the line."""
    visit, lines = _lock_visit_lines(line)
    line = lines[line.pk]
    _require_author(user, visit)
    _require_draft_locked(visit)
    now = timezone.now()
    start, end = day_bounds(visit.date)
    if not start <= now < end:
        raise ValidationError(
            {
                "timer": f"This note is dated {visit.date.isoformat()}; a live timer runs only "
                f"on the visit's day (today is {timezone.localdate().isoformat()}). Type the "
                "minutes, or add the run with its start and stop times."
            }
        )
    running = _running(visit)
    for segment in running:
        if segment.line_id == line.pk:
            raise TimerConflictError(
                f"The {line.code} timer is already running (started by {segment.by} at "
                f"{_clock(segment.started_at)}); stop it before starting it again."
            )
    stopped = [s for s in running if s.by_id == user.pk]
    for segment in stopped:
        _stop_segment(user, lines[segment.line_id], segment, now)
    clash = (
        TimerSegment.objects.filter(line__visit=visit, ended_at__gt=now)
        .filter(Q(by=user) | Q(line=line))
        .select_related("line")
        .first()
    )
    if clash is not None:
        raise ValidationError(
            {
                "timer": f"A {clash.line.code} timer run recorded until "
                f"{_clock(clash.ended_at or now)} overlaps now; start after it ends."
            }
        )
    segment = TimerSegment(
        line=line, started_at=now, by=user, by_assistant=user.role == Role.ASSISTANT
    )
    segment.full_clean(validate_constraints=False)
    segment.save()
    _audit_visit(user, visit, AuditAction.UPDATE, f"{line.code}: timer started")
    return TimerStarted(segment=segment, stopped=stopped)


@dataclass(frozen=True, slots=True)
class TimerStopped:
    line: ServiceLine
    segment: TimerSegment | None  # the run stopped now; None when none was running
    capped: bool  # stopped at the end of the visit's day, not now


@transaction.atomic
def timer_stop(*, user: User, line: ServiceLine) -> TimerStopped:
    """Stop the line's running timer, whoever started it and on whichever device; its minutes
    are recomputed. Idempotent: with no timer running (stopped already, from another tab)
    nothing changes and nothing is recorded. A run that went past the end of the visit's day
    ends at midnight (`capped`): the visit's time is that day's time."""
    visit, lines = _lock_visit_lines(line)
    line = lines[line.pk]
    _require_author(user, visit)
    _require_draft_locked(visit)
    segment = next((s for s in _running(visit) if s.line_id == line.pk), None)
    if segment is None:
        return TimerStopped(line=line, segment=None, capped=False)
    capped = _stop_segment(user, line, segment, timezone.now())
    if segment.pk is None:  # a run of no time was dropped
        return TimerStopped(line=line, segment=None, capped=False)
    return TimerStopped(line=line, segment=segment, capped=capped)


@transaction.atomic
def timer_segment_add(
    *, user: User, line: ServiceLine, started_at: datetime, ended_at: datetime
) -> TimerSegment:
    """Record one finished timer run with its times (a run timed elsewhere, or on an earlier
    day's note) and recompute the line's minutes from its segments.

    The run falls on the visit's day in the clinic's time zone. The user's segments on one
    visit may not overlap (one-on-one time is one code at a time), nor any two on one line;
    a running segment counts as running until now. Segments by an assistant count as
    assistant minutes. The line's new minutes are a new version of the line.
    """
    visit, lines = _lock_visit_lines(line)
    line = lines[line.pk]
    _require_author(user, visit)
    _require_draft_locked(visit)
    if ended_at <= started_at:
        raise ValidationError({"ended_at": "The timer must stop after it starts."})
    if ended_at - started_at > timedelta(minutes=MAX_DAY_MINUTES):
        raise ValidationError({"ended_at": "A timer segment cannot run longer than 24 hours."})
    if ended_at > timezone.now() + MAX_TIMER_FUTURE:
        raise ValidationError({"ended_at": "The timer cannot stop in the future."})
    _require_on_visit_day(visit, "started_at", started_at)
    _require_on_visit_day(visit, "ended_at", ended_at)
    clash = (
        TimerSegment.objects.filter(line__visit=visit, started_at__lt=ended_at)
        .filter(Q(ended_at__gt=started_at) | Q(ended_at__isnull=True))
        .filter(Q(by=user) | Q(line=line))
        .select_related("line")
        .first()
    )
    if clash is not None:
        until = "now (running)" if clash.ended_at is None else _clock(clash.ended_at)
        raise ValidationError(
            {
                "started_at": (
                    f"This overlaps the {clash.line.code} timer from "
                    f"{_clock(clash.started_at)} to {until}."
                )
            }
        )
    segment = TimerSegment(
        line=line,
        started_at=started_at,
        ended_at=ended_at,
        by=user,
        by_assistant=user.role == Role.ASSISTANT,
    )
    segment.full_clean()
    segment.save()
    _save_minutes(user, line)
    _audit_visit(
        user,
        visit,
        AuditAction.UPDATE,
        f"{line.code}: timer run of {segment.seconds} s; "
        f"minutes {line.therapist_minutes}+{line.assistant_minutes}",
    )
    return segment


def _timer_minutes(line: ServiceLine) -> tuple[int, int]:
    """(therapist, assistant) minutes of the line's finished timer runs, each total rounded
    once (a running run counts when it stops)."""
    segments = [s for s in line.segments.all() if s.ended_at is not None]
    therapist = sum(s.seconds for s in segments if not s.by_assistant)
    assistant = sum(s.seconds for s in segments if s.by_assistant)
    return _minutes(therapist), _minutes(assistant)


def _recompute_line_minutes(line: ServiceLine) -> None:
    # Exact timer totals plus whatever the clinician typed on top of them.
    therapist, assistant = _timer_minutes(line)
    line.therapist_minutes = max(0, therapist + line.therapist_typed_offset)
    line.assistant_minutes = max(0, assistant + line.assistant_typed_offset)


# Reconcile before signing ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class MinutesMismatch:
    """A line whose billed minutes differ from its timer total (each rounded to the whole
    minute) and whose clinician has not said why to keep them."""

    line_id: int
    code: str
    billed: tuple[int, int]  # (therapist, assistant) minutes on the line
    timed: tuple[int, int]  # (therapist, assistant) minutes of its finished timer runs

    @property
    def billed_total(self) -> int:
        return sum(self.billed)

    @property
    def timed_total(self) -> int:
        return sum(self.timed)

    @property
    def difference(self) -> int:
        return sum(self.billed) - sum(self.timed)

    @property
    def difference_text(self) -> str:
        more = self.difference
        if not more:
            return "same total, split differs"
        return f"{abs(more)} min {'more' if more > 0 else 'less'} billed"

    def describe(self) -> str:
        def shown(minutes: tuple[int, int]) -> str:
            total = f"{sum(minutes)} min"
            return (
                f"{total} ({minutes[0]} therapist, {minutes[1]} assistant)"
                if minutes[1]
                else total
            )

        return (
            f"{self.code}: {shown(self.billed)} billed, {shown(self.timed)} timed "
            f"({self.difference_text})"
        )


def visit_minutes_mismatches(*, visit: Visit) -> list[MinutesMismatch]:
    """Lines with timer runs whose billed minutes disagree with the timer beyond rounding to
    a whole minute, and no kept-minutes reason: the therapist reconciles them before
    signing (issue 7: a signed note's minutes match its timers or say why not)."""
    out = []
    for line in visit.lines.prefetch_related("segments"):
        if not any(s.ended_at is not None for s in line.segments.all()):
            continue
        timed = _timer_minutes(line)
        billed = (line.therapist_minutes, line.assistant_minutes)
        if billed != timed and not line.kept_minutes_reason:
            out.append(MinutesMismatch(line.pk, line.code, billed, timed))
    return out


class ReconcileNeededError(ValidationError):
    """Signing a note whose lines' billed minutes and timer totals disagree: the therapist
    chooses per line (bill the timer's minutes, keep the typed ones with a reason, or edit
    them). Keyed "reconcile", one message per line; `mismatches` for the page."""

    def __init__(self, mismatches: list[MinutesMismatch]) -> None:
        super().__init__({"reconcile": [m.describe() for m in mismatches]})
        self.mismatches = mismatches


RECONCILE_CHOICES = ("timer", "keep")


@dataclass(frozen=True, slots=True)
class ReconcileChoice:
    line_id: int
    choice: str  # "timer": bill the timer's minutes; "keep": keep the typed ones, `reason`
    reason: str = ""


@transaction.atomic
def visit_reconcile_minutes(
    *, user: User, visit: Visit, choices: list[ReconcileChoice]
) -> list[MinutesMismatch]:
    """Apply the therapist's choice for lines whose billed and timed minutes disagree:
    "timer" sets the billed minutes to the timer's (typed additions dropped), "keep" keeps
    the typed minutes and stores why (up to 300 characters). Each is a new version of the
    line, audited with both figures. A choice for a line that agrees already changes
    nothing. Returns the mismatches still left."""
    line = visit.lines.order_by("pk").first()
    if line is None:
        raise ValidationError({"lines": "Add at least one service line before signing."})
    visit, lines = _lock_visit_lines(line)
    _require_author(user, visit)
    _require_draft_locked(visit)
    pending = {m.line_id: m for m in visit_minutes_mismatches(visit=visit)}
    seen: set[int] = set()
    for choice in choices:
        if choice.line_id not in lines:
            raise ValidationError({"reconcile": f"Line {choice.line_id} is not on this note."})
        if choice.line_id in seen:
            raise ValidationError({"reconcile": f"Line {choice.line_id} is given twice."})
        seen.add(choice.line_id)
        target = lines[choice.line_id]
        if choice.choice not in RECONCILE_CHOICES:
            raise ValidationError(
                {"reconcile": f"{target.code}: choose timer or keep, not {choice.choice!r}."}
            )
        mismatch = pending.get(choice.line_id)
        if mismatch is None:
            continue
        if choice.choice == "timer":
            target.therapist_typed_offset = 0
            target.assistant_typed_offset = 0
            _save_minutes(user, target)
            target.save(update_fields=["therapist_typed_offset", "assistant_typed_offset"])
            detail = (
                f"{target.code}: reconciled to the timer's {mismatch.timed[0]}+"
                f"{mismatch.timed[1]} min (was {mismatch.billed[0]}+{mismatch.billed[1]})"
            )
        else:
            reason = choice.reason.strip()
            if not reason:
                raise ValidationError(
                    {"reconcile": f"{target.code}: say why you keep the typed minutes."}
                )
            if len(reason) > KEEP_REASON_MAX:
                raise ValidationError(
                    {
                        "reconcile": f"{target.code}: keep the reason to {KEEP_REASON_MAX} "
                        f"characters (it has {len(reason)})."
                    }
                )
            target.kept_minutes_reason = reason
            target.version += 1
            target.updated_by = user
            target.updated_at = timezone.now()
            target.full_clean(exclude=["visit"], validate_constraints=False)
            target.save(
                update_fields=["kept_minutes_reason", "version", "updated_by", "updated_at"]
            )
            detail = (
                f"{target.code}: kept {mismatch.billed[0]}+{mismatch.billed[1]} min typed "
                f"against the timer's {mismatch.timed[0]}+{mismatch.timed[1]}; reason: {reason}"
            )
        del pending[choice.line_id]
        _audit_visit(user, visit, AuditAction.UPDATE, detail)
    return list(pending.values())


KEEP_REASON_MAX = 300


def visit_record_dict(*, visit: Visit, facts: VisitFacts | None = None) -> dict[str, Any]:
    """The engine's visit-record dict (see handrail.rules.visit_record) for this visit:
    lines and notes, primary payer's rules, clinic ZIP, presence flags, the plan's diagnoses,
    the year's threshold accrual before this visit and the case counters.

    `facts`: the note's lookups when the caller already read them (the live panel), else
    read here."""
    facts = facts or visit_facts(visit=visit)
    lines = facts.lines
    if not lines:
        raise ValidationError({"lines": "Add at least one service line."})
    case = visit.case
    coverage = facts.coverage
    if coverage is None:
        raise ValidationError(
            {"coverage": "The patient has no primary coverage; add one to estimate the claim."}
        )
    plan = facts.plan
    before = facts.previous_notes
    record: dict[str, Any] = {
        "date": visit.date.isoformat(),
        "discipline": case.discipline,
        "lines": [_line_dict(line, before.get(line.code)) for line in lines],
        "payer": {
            "type": coverage.payer.type,
            "unit_rule": coverage.payer.unit_rule,
            "distinct_modifier": coverage.payer.distinct_modifier,
        },
        "zip": visit.clinic.zip,
        "telehealth": visit.telehealth or None,
        "patient_present": visit.patient_present,
        "caregiver_present": visit.caregiver_present,
        "distinct_services": visit.distinct_services,
        "diagnoses": list(plan.diagnoses) if plan else [],
        "threshold": {
            "accrued_before": str(facts.accrued_before),
            "medical_necessity_attested": visit.medical_necessity_attested,
        },
        "counters": {
            "treatment_day": facts.treatment_days,
            "days_since_certification": plan_days_since_certification(plan=plan, on=visit.date),
            # Timely initial certification counts from the plan's first day (its evaluation).
            "days_since_first_treatment": (visit.date - plan.start_date).days if plan else None,
            "plan_certified": (
                plan.certified_on is not None and plan.certified_on <= visit.date if plan else None
            ),
        },
        "same_day": _same_day_lines(visit),
    }
    return record


def _same_day_lines(visit: Visit) -> list[dict[str, Any]]:
    """Claim lines of the patient's other signed visits on this date (another discipline's
    note, an earlier session), as their signatures stored them: the engine counts them for
    the day's one MPPR full-PE unit, NCCI pairs and MUE units. Drafts are left out: their
    lines may still change, and two drafts would each count the other."""
    others = (
        Visit.objects.filter(
            case__patient_id=visit.case.patient_id,
            date=visit.date,
            status=VisitStatus.SIGNED,
            evaluation__isnull=False,
        )
        .exclude(pk=visit.pk)
        .order_by("signed_at", "pk")
    )
    lines: list[dict[str, Any]] = []
    for other in others:
        for line in (other.evaluation or {}).get("claim_lines", []):
            modifiers = line.get("modifiers", [])
            lines.append(
                {
                    "code": line["code"],
                    "units": line["units"],
                    "assistant": "CQ" in modifiers or "CO" in modifiers,
                }
            )
    return lines


def _line_dict(line: ServiceLine, previous_note: dict[str, str] | None) -> dict[str, Any]:
    out: dict[str, Any] = {
        "code": line.code,
        "minutes": line.total_minutes,
        "assistant_minutes": line.assistant_minutes,
        "note": line.note_dict(),
    }
    if line.requested_units is not None:
        out["units"] = line.requested_units
    if previous_note is not None:
        out["previous_note"] = previous_note
    return out


def visit_evaluate(*, visit: Visit, facts: VisitFacts | None = None) -> dict[str, Any]:
    """Run the engine on the visit as it stands (nothing is saved); returns
    VisitResult.to_dict(): units, claim lines, payment, threshold, findings, explanation."""
    return evaluate_record(visit_record_dict(visit=visit, facts=facts))


# What signing writes; nothing else of the row, so no stale copy of a field is saved.
SIGN_FIELDS = (
    "status",
    "signed_by",
    "signed_at",
    "evaluation",
    "allowed_amount",
    "sign_reason",
    "updated_at",
)
SIGN_REASON_MAX = 300


class SignNeedsReasonError(ValidationError):
    """The evaluation has error findings: the note is signed only with a reason (keyed
    "reason"). `findings` are the error findings, as the engine gave them."""

    def __init__(self, findings: list[dict[str, Any]], message: str) -> None:
        super().__init__({"reason": message})
        self.findings = findings


def _error_findings(result: dict[str, Any]) -> list[dict[str, Any]]:
    return [f for f in result.get("findings", []) if f.get("severity") == "error"]


def _sign_reason(result: dict[str, Any] | None, reason: str) -> str:
    """The reason to store: required when the evaluation has error findings (a claim the
    engine expects to be denied or wrong is signed only on purpose), else nothing."""
    errors = _error_findings(result) if result is not None else []
    if not errors:
        return ""
    reason = reason.strip()
    count = f"{len(errors)} error finding{'s' if len(errors) != 1 else ''}"
    if not reason:
        raise SignNeedsReasonError(
            errors,
            f"This note has {count} ({', '.join(f['rule'] for f in errors)}); fix them, or "
            "sign anyway and say why in the reason.",
        )
    if len(reason) > SIGN_REASON_MAX:
        raise ValidationError(
            {"reason": f"Keep the reason to {SIGN_REASON_MAX} characters (it has {len(reason)})."}
        )
    return reason


COSIGN_FIELDS = ("cosigned_by", "cosigned_at", "updated_at")


def _lock_for_signing(visit: Visit) -> Visit:
    """Lock the visit's patient, then the visit, and return the visit as committed now.

    The patient's row lock makes every sign of one patient wait for the one before it, so
    what a sign reads under it includes every sign committed before: the year's threshold
    accrual (per beneficiary and calendar year, BBA 2018 §50202 and the CMS Therapy Services
    page; KX past the amount) and the day's other signed lines (therapy MPPR: one full
    practice-expense unit per patient and day across PT, OT and SLP, CMS Therapy Services
    page and NGS). Concurrent signs so give exactly what signing them one by one gives.
    The order is always patient, then visit; edits take only the visit's lock
    (`_require_draft`), so signs and edits never deadlock. Both are FOR NO KEY UPDATE
    (PostgreSQL): rows that only point at the patient or the visit (an audit event, a
    service line) are still inserted meanwhile, since their foreign-key check takes FOR KEY
    SHARE, which FOR UPDATE would block (a deadlock with an edit that holds the visit and
    audits its patient).
    On SQLite `select_for_update` does nothing; there the web app's transactions are
    IMMEDIATE (settings.DATABASES), which serialises writers from BEGIN.
    """
    patient = Patient.objects.select_for_update(no_key=True).filter(pk=visit.case.patient_id)
    list(patient.values_list("pk", flat=True))  # the query takes the lock
    current = (
        Visit.objects.select_for_update(of=("self",), no_key=True)
        .select_related("case", "case__patient", "clinic", "clinician")
        .filter(pk=visit.pk)
        .first()
    )
    if current is None:
        raise ValidationError({"visit": "This note no longer exists; reload the page."})
    return current


def _copy_fields(source: Visit, target: Visit, fields: tuple[str, ...]) -> None:
    """Give the caller's copy of the visit what the service stored."""
    for name in fields:
        attname = f"{name}_id" if name in ("signed_by", "cosigned_by") else name
        setattr(target, attname, getattr(source, attname))


@transaction.atomic
def visit_sign(*, user: User, visit: Visit, reason: str = "") -> Visit:
    """Sign and lock a draft note, storing the engine's evaluation and allowed amount.

    Therapists sign notes of their discipline; an assistant signs only their own note.
    Billers, front desk and admins cannot sign.
    Refused while a timer runs on the note (TimerConflictError), and while a line's billed
    minutes and timer total disagree without a kept-minutes reason (ReconcileNeededError
    naming the lines; visit_reconcile_minutes applies the therapist's choice).
    When the evaluation has error findings the note is signed only with a `reason`
    (SignNeedsReasonError lists the errors otherwise); the reason is stored on the visit and
    in the sign's audit event, with the errors' rules. Without errors `reason` is not used.
    Idempotent: a second sign by the note's signer (a double-click, a retried request)
    answers the signed note and records nothing; by anyone else it raises NoteSignedError.
    The state is checked and the note evaluated under the patient's and the visit's row
    locks (`_lock_for_signing`), and only SIGN_FIELDS are written.
    """
    require(can_sign(user), "Your role cannot sign notes.")
    if visit.clinic_id != user.clinic_id:
        raise ValidationError({"visit": "No such visit in your clinic."})
    current = _lock_for_signing(visit)
    if current.status == VisitStatus.SIGNED:
        if current.signed_by_id != user.pk:
            raise NoteSignedError(
                f"Already signed by {current.signed_by} on "
                f"{timezone.localtime(current.signed_at):%Y-%m-%d %H:%M}."
            )
        _copy_fields(current, visit, SIGN_FIELDS)
        return current
    if user.role == Role.ASSISTANT:
        require(user.pk == current.clinician_id, "An assistant signs only their own notes.")
    else:
        require(
            user.discipline == current.case.discipline,
            f"Only a {current.case.discipline} therapist can sign this note.",
        )
    if not current.lines.exists():
        raise ValidationError({"lines": "Add at least one service line before signing."})
    running = _running(current)
    if running:
        raise TimerConflictError(
            "Stop the running timer before signing: "
            + "; ".join(
                f"{s.line.code} (started by {s.by} at {_clock(s.started_at)})" for s in running
            )
            + "."
        )
    mismatches = visit_minutes_mismatches(visit=current)
    if mismatches:
        raise ReconcileNeededError(mismatches)
    result = None
    facts = visit_facts(visit=current)  # read under the locks
    if facts.coverage is not None:
        result = visit_evaluate(visit=current, facts=facts)
        current.evaluation = result
        current.allowed_amount = Decimal(str(result["payment"]["allowed"])).quantize(
            Decimal("0.01")
        )
    current.sign_reason = _sign_reason(result, reason)
    current.status = VisitStatus.SIGNED
    current.signed_by = user
    current.signed_at = timezone.now()
    current.full_clean()
    current.save(update_fields=SIGN_FIELDS)
    detail = ""
    if current.sign_reason and result is not None:
        rules = ", ".join(f["rule"] for f in _error_findings(result))
        detail = f"signed with error findings ({rules}); reason: {current.sign_reason}"
    _audit_visit(user, current, AuditAction.SIGN, detail)
    _copy_fields(current, visit, SIGN_FIELDS)
    return current


@transaction.atomic
def visit_cosign(*, user: User, visit: Visit) -> Visit:
    """A therapist of the case's discipline co-signs an assistant's signed note.

    Checked under the visit's row lock; a second co-sign by the co-signer answers the note
    and records nothing, by another therapist it raises NoteSignedError."""
    require(
        user.role == Role.THERAPIST and user.discipline == visit.case.discipline,
        f"Only a {visit.case.discipline} therapist can co-sign this note.",
    )
    if visit.clinic_id != user.clinic_id:
        raise ValidationError({"visit": "No such visit in your clinic."})
    current = (
        Visit.objects.select_for_update(of=("self",), no_key=True)
        .select_related("case", "case__patient", "clinician")
        .filter(pk=visit.pk)
        .first()
    )
    if current is None:
        raise ValidationError({"visit": "This note no longer exists; reload the page."})
    if current.status != VisitStatus.SIGNED:
        raise ValidationError({"status": "The assistant signs the note before it is co-signed."})
    if current.clinician.role != Role.ASSISTANT:
        raise ValidationError({"visit": "Only an assistant's note needs a co-signature."})
    if current.cosigned_by_id is not None:
        if current.cosigned_by_id != user.pk:
            raise NoteSignedError(f"Already co-signed by {current.cosigned_by}.")
        _copy_fields(current, visit, COSIGN_FIELDS)
        return current
    current.cosigned_by = user
    current.cosigned_at = timezone.now()
    current.full_clean()
    current.save(update_fields=COSIGN_FIELDS)
    _audit_visit(user, current, AuditAction.SIGN, "co-signed")
    _copy_fields(current, visit, COSIGN_FIELDS)
    return current


@transaction.atomic
def visit_add_addendum(*, user: User, visit: Visit, reason: str, text: str) -> Addendum:
    """After signing, the only way to add to a note: who, when, why and what. Written by the
    note's clinician, its co-signer or a clinician of the case's discipline (issue 10)."""
    require(can_document(user), "Your role cannot write addenda.")
    if visit.clinic_id != user.clinic_id:
        raise ValidationError({"visit": "No such visit in your clinic."})
    require(
        user.pk in (visit.clinician_id, visit.cosigned_by_id)
        or user.discipline == visit.case.discipline,
        f"Only the note's clinician, its co-signer or a {visit.case.discipline} clinician "
        "can write an addendum to it.",
    )
    if visit.status != VisitStatus.SIGNED:
        raise ValidationError({"status": "The note is still a draft; change it directly."})
    if not reason.strip():
        raise ValidationError({"reason": "Say why the addendum is written."})
    if not text.strip():
        raise ValidationError({"text": "Write the addendum."})
    addendum = Addendum(visit=visit, author=user, reason=reason.strip(), text=text.strip())
    addendum.full_clean()
    addendum.save()
    _audit_visit(user, visit, AuditAction.UPDATE, "addendum")
    return addendum


@transaction.atomic
def threshold_accrual_repair() -> list[AccrualDrift]:
    """Rewrite the stored yearly threshold accruals that differ from their signed visits
    (threshold_accrual_drift) and return what was rewritten.

    On PostgreSQL the visits and cases are locked against writes (SHARE mode: reads go on)
    until the repair commits, so no sign falls between the sums and the rewrite; SQLite's
    write transactions are serialised already (settings.DATABASES: IMMEDIATE)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                f"LOCK TABLE {Visit._meta.db_table}, {Case._meta.db_table} IN SHARE MODE"
            )
    _checked, drift = threshold_accrual_drift()
    for row in drift:
        key = {
            "clinic_id": row.clinic_id,
            "patient_id": row.patient_id,
            "year": row.year,
            "therapy_group": row.group,
        }
        if row.recomputed is None:
            ThresholdAccrual.objects.filter(**key).delete()
            continue
        accrual = ThresholdAccrual.objects.filter(**key).first() or ThresholdAccrual(**key)
        accrual.allowed_cents = int(row.recomputed * 100)
        accrual.visits = row.recomputed_visits
        accrual.full_clean()
        accrual.save()
    return drift

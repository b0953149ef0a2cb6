"""Writes of the patient portal: links (made, revoked, resolved), the patient's session log
and clinicians' notes per program."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from handrail.web.audit.models import AuditAction
from handrail.web.audit.services import audit_record
from handrail.web.care.selectors import plan_latest
from handrail.web.clinic.models import User
from handrail.web.dates import days_after
from handrail.web.portal.models import (
    PAIN_MAX,
    PAIN_MIN,
    AccessAction,
    ClinicianNote,
    Difficulty,
    LinkAccess,
    PatientLink,
    SessionLog,
)
from handrail.web.programs.models import Program, ProgramVersion

TOKEN_BYTES = 32
# token_urlsafe(32) is 43 characters; anything much longer is not one of ours.
MAX_TOKEN_LENGTH = 64
LOG_FIELDS = frozenset({"day", "items", "pain_before", "pain_after", "difficulty", "comment"})
MAX_COMMENT = 1000
MAX_NOTE = 2000


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def site_url(path: str) -> str:
    return settings.SITE_URL.rstrip("/") + path


def link_url(token: str) -> str:
    return site_url(f"/p/{token}/")


# --- links --------------------------------------------------------------------------------


def program_end_date(program: Program) -> date | None:
    """The day the program ends: its case's closing day, else the end of the latest plan of
    care; None while the case is open without a plan."""
    case = program.case
    if case.closed_on is not None:
        return case.closed_on
    plan = plan_latest(case=case)
    return plan.end_date if plan is not None else None


def link_expires_on(program: Program) -> date | None:
    """The last day a link works: PORTAL_LINK_DAYS_AFTER_PLAN days after the program ends
    (computed when the link is used, so a recertified plan keeps links working)."""
    end = program_end_date(program)
    return None if end is None else days_after(end, settings.PORTAL_LINK_DAYS_AFTER_PLAN)


def latest_version(program: Program) -> ProgramVersion | None:
    return program.versions.order_by("-number").first()


@transaction.atomic
def link_create(
    *, program: Program, by: User | None, note: str = "", now: datetime | None = None
) -> tuple[PatientLink, str]:
    """A new link to the program's patient page and its token (shown once, never stored).
    Only an issued program has a patient page."""
    if latest_version(program) is None:
        raise ValidationError({"program": "Issue the program before giving the patient a link."})
    token = secrets.token_urlsafe(TOKEN_BYTES)
    link = PatientLink.objects.create(
        program=program,
        token_hash=token_hash(token),
        created_at=now or timezone.now(),
        created_by=by,
        note=note[:100],
    )
    if by is not None:
        audit_record(
            user=by,
            action=AuditAction.CREATE,
            obj=link,
            patient=program.patient,
            detail=f"patient link for program {program.pk}",
        )
    return link, token


@transaction.atomic
def links_revoke(*, program: Program, by: User, now: datetime | None = None) -> int:
    """Revoke every working link of the program; the number revoked. A new link (or the next
    email about the program) gives the patient a fresh one."""
    count = PatientLink.objects.filter(program=program, revoked_at__isnull=True).update(
        revoked_at=now or timezone.now(), revoked_by=by
    )
    audit_record(
        user=by,
        action=AuditAction.UPDATE,
        obj=program,
        patient=program.patient,
        detail=f"revoked {count} patient link(s)",
    )
    return count


@dataclass(frozen=True)
class IssueLink:
    """The patient's link as the answer to an issue (POST /api/programs/{id}/issue).

    `url` is set only when this call made the link: a token is stored as its hash, so an
    earlier link can never be shown again. `status` is "created", "existing" (the patient
    already has a working link and none was asked for) or "expired" (the program ended:
    a link would not open)."""

    url: str | None
    status: str
    message: str


def link_on_issue(
    *, program: Program, by: User, new_link: bool = False, now: datetime | None = None
) -> IssueLink:
    """Give the patient a link when a program is issued: a new one when the program has no
    working link (or `new_link` asks for one), else the note of how the patient has it.
    Called inside the issue's transaction, so a refused issue makes no link."""
    now = now or timezone.now()
    expires = link_expires_on(program)
    if expires is not None and timezone.localdate(now) > expires:
        return IssueLink(
            None,
            "expired",
            f"No link: the program ended and its links stopped working after "
            f"{expires.isoformat()}. Extend the plan of care or reopen the case first.",
        )
    working = PatientLink.objects.filter(program=program, revoked_at__isnull=True).count()
    if working and not new_link:
        return IssueLink(
            None,
            "existing",
            f"The patient already has {working} working link(s) to this program (given "
            "earlier or in an email), which now open this version. A link is stored "
            'hashed and cannot be shown again: send "new_link": true for a new one.',
        )
    _link, token = link_create(program=program, by=by, note="made when issued", now=now)
    return IssueLink(
        link_url(token),
        "created",
        "A new link: give it to the patient now; it is not shown again.",
    )


@dataclass(frozen=True)
class LinkState:
    link: PatientLink | None
    problem: str  # "" when the link works; else unknown, revoked or expired

    @property
    def ok(self) -> bool:
        return self.link is not None and not self.problem


def link_resolve(token: str, *, today: date | None = None) -> LinkState:
    """The link a token opens. The patient is never told which of unknown, revoked or
    expired it is (the page says the same thing); the log and tests are."""
    if not token or len(token) > MAX_TOKEN_LENGTH:
        return LinkState(None, "unknown")
    link = (
        PatientLink.objects.select_related(
            "program", "program__clinic", "program__patient", "program__case"
        )
        .filter(token_hash=token_hash(token))
        .first()
    )
    if link is None:
        return LinkState(None, "unknown")
    if link.revoked_at is not None:
        return LinkState(link, "revoked")
    expires = link_expires_on(link.program)
    if expires is not None and (today or timezone.localdate()) > expires:
        return LinkState(link, "expired")
    return LinkState(link, "")


def access_record(
    *, link: PatientLink, action: str, address: str, now: datetime | None = None
) -> None:
    now = now or timezone.now()
    LinkAccess.objects.create(link=link, at=now, action=action, address=address[:45])
    if action != AccessAction.REFUSED:
        PatientLink.objects.filter(pk=link.pk).update(last_used_at=now)


# --- the patient's log ---------------------------------------------------------------------


def _pain(value: Any, field: str, label: str, errors: dict[str, str]) -> int | None:
    text = str(value if value is not None else "").strip()
    if not text:
        return None
    try:
        pain = int(text)
    except ValueError:
        errors[field] = f"{label}: write a whole number from {PAIN_MIN} to {PAIN_MAX}."
        return None
    if not PAIN_MIN <= pain <= PAIN_MAX:
        errors[field] = f"{label} is {PAIN_MIN} (none) to {PAIN_MAX} (worst); you wrote {pain}."
        return None
    return pain


def _day(value: Any, *, first: date, today: date, errors: dict[str, str]) -> date | None:
    text = str(value if value is not None else "").strip()
    if not text:
        return today
    try:
        day = date.fromisoformat(text)
    except ValueError:
        errors["day"] = "Date: write it as YYYY-MM-DD, e.g. 2026-11-16."
        return None
    if day > today:
        errors["day"] = f"Date: {day.isoformat()} is in the future; log a day that has passed."
    elif day < first:
        errors["day"] = (
            f"Date: {day.isoformat()} is before your program started ({first.isoformat()})."
        )
    return day


def _items_done(
    values: list[str], version: ProgramVersion, errors: dict[str, str]
) -> list[dict[str, Any]]:
    rows = {str(row["item_id"]): row for row in version.items}
    unknown = [value for value in values if value not in rows]
    if unknown:
        errors["items"] = "Exercises: tick only the exercises shown on this page."
        return []
    chosen = set(values)
    done = [{"item_id": row["item_id"], "title": row["title"]} for row in version.items]
    done = [row for row in done if str(row["item_id"]) in chosen]
    if not done:
        errors["items"] = "Exercises: tick at least one exercise you did."
    return done


def program_start(program: Program) -> date | None:
    """The day the program was first issued (local date): the first loggable day."""
    first = program.versions.order_by("number").first()
    return timezone.localdate(first.issued_at) if first is not None else None


@transaction.atomic
def session_log_create(
    *,
    link: PatientLink,
    data: Mapping[str, Any],
    items: list[str],
    today: date | None = None,
) -> SessionLog:
    """Log one session through the link. `data` holds the form's single values, `items` the
    ticked item ids. Every error names its field; nothing is saved unless all are right."""
    today = today or timezone.localdate()
    unknown = sorted(set(data) - LOG_FIELDS)
    if unknown:
        raise ValidationError({"__all__": f"Unknown field(s): {', '.join(unknown)}."})
    program = link.program
    version = latest_version(program)
    start = program_start(program)
    if version is None or start is None:
        raise ValidationError({"__all__": "This program has not been issued yet."})
    errors: dict[str, str] = {}
    day = _day(data.get("day"), first=start, today=today, errors=errors)
    pain_before = _pain(data.get("pain_before"), "pain_before", "Pain before", errors)
    pain_after = _pain(data.get("pain_after"), "pain_after", "Pain after", errors)
    difficulty = str(data.get("difficulty") or "").strip()
    if difficulty and difficulty not in Difficulty.values:
        errors["difficulty"] = "Difficulty: choose easy, about right or hard."
    comment = str(data.get("comment") or "").replace("\x00", "").strip()
    if len(comment) > MAX_COMMENT:
        errors["comment"] = f"Comment: at most {MAX_COMMENT} characters ({len(comment)} now)."
    done = _items_done(items, version, errors)
    if errors or day is None:
        raise ValidationError(errors)
    log = SessionLog(
        program=program,
        version=version,
        link=link,
        day=day,
        items_done=done,
        pain_before=pain_before,
        pain_after=pain_after,
        difficulty=difficulty,
        comment=comment,
    )
    log.full_clean()
    log.save()
    return log


@transaction.atomic
def clinician_note_add(
    *, user: User, program: Program, text: str, now: datetime | None = None
) -> ClinicianNote:
    text = text.replace("\x00", "").strip()
    if not text:
        raise ValidationError({"text": "Write the note before saving it."})
    if len(text) > MAX_NOTE:
        raise ValidationError({"text": f"A note is at most {MAX_NOTE} characters."})
    note = ClinicianNote(program=program, author=user, at=now or timezone.now(), text=text)
    note.full_clean()
    note.save()
    audit_record(
        user=user,
        action=AuditAction.CREATE,
        obj=note,
        patient=program.patient,
        detail=f"clinician note on program {program.pk}",
    )
    return note

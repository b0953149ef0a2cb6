"""Writes of the hub role: enrol a clinic server and issue its key (shown once), revoke it,
count its requests against the rate limit, and store a report it sends, once per report id.

A key is `hrk_` and 43 URL-safe random characters (secrets.token_urlsafe(32): 256 bits);
only its SHA-256 is stored, so a copy of the hub's database lets nobody send as a clinic.
The sending clinic is stored as HMAC-SHA256(hub secret, enrolment id) (RFC 2104): the hub's
aggregates count distinct clinics by it, and nothing in a report row names one.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from handrail.claims import patterns as p
from handrail.web.patternhub.models import Enrolment, HubReport

KEY_PREFIX = "hrk_"
RATE_WINDOW = timedelta(hours=1)


def hub_secret() -> bytes:
    """The hub's key for the clinic hashes, derived from SECRET_KEY so that it is never stored
    next to the reports."""
    return hashlib.sha256(f"handrail.patternhub:{settings.SECRET_KEY}".encode()).digest()


def key_hash(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def enrolment_clinic_key(enrolment_id: int) -> str:
    return p.clinic_key(hub_secret(), f"enrolment:{enrolment_id}")


@transaction.atomic
def enrolment_create(*, label: str) -> tuple[Enrolment, str]:
    """Enrol a clinic server under the label the hub's admin chose; returns the enrolment and
    its key, which is never shown again."""
    label = label.strip()
    if not label:
        raise ValidationError({"label": "Name the enrolment, e.g. 'Riverside Rehab server'."})
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    enrolment = Enrolment(label=label[:100], key_hash=key_hash(key))
    enrolment.full_clean()
    enrolment.save()
    return enrolment, key


@transaction.atomic
def enrolment_revoke(*, enrolment_id: int, now: datetime | None = None) -> Enrolment:
    """Refuse the enrolment's key from now on (its reports stay and count). Idempotent."""
    enrolment = Enrolment.objects.select_for_update().filter(pk=enrolment_id).first()
    if enrolment is None:
        raise ValidationError({"enrolment": f"No enrolment #{enrolment_id}."})
    if enrolment.revoked_at is None:
        enrolment.revoked_at = now or timezone.now()
        enrolment.full_clean()
        enrolment.save(update_fields=["revoked_at"])
    return enrolment


@transaction.atomic
def enrolment_hit(*, enrolment: Enrolment, now: datetime | None = None) -> datetime | None:
    """Count one request of the enrolment; None when it may go on, else when it may try
    again (PATTERN_HUB_RATE_LIMIT requests per hour). The row is locked while it is counted,
    so parallel requests cannot all slip under the limit."""
    now = now or timezone.now()
    row = Enrolment.objects.select_for_update().get(pk=enrolment.pk)
    if row.window_started_at is None or row.window_started_at <= now - RATE_WINDOW:
        row.window_started_at, row.window_hits = now, 0
    row.window_hits += 1
    row.save(update_fields=["window_started_at", "window_hits"])
    if row.window_hits > settings.PATTERN_HUB_RATE_LIMIT:
        return row.window_started_at + RATE_WINDOW
    return None


def hub_report_receive(
    *,
    enrolment: Enrolment,
    report_id: str,
    code: str,
    modifiers: Sequence[str],
    payer_kind: str,
    group: str,
    reason: str,
    remarks: Sequence[str],
    fix: str,
) -> tuple[HubReport, bool]:
    """Store a report sent by the enrolled server, every field checked as
    handrail.claims.patterns.make_report checks a local one (ReportError names the field);
    the same report id from the same sender again returns the stored row and False."""
    if len(report_id) != 64 or any(c not in "0123456789abcdef" for c in report_id):
        raise p.ReportError("report_id", "64 lower-case hex characters (the sender's line key)")
    report = p.make_report(
        code=code,
        modifiers=modifiers,
        payer_kind=payer_kind,
        group=group,
        reason=reason,
        remarks=remarks,
        fix=fix,
        clinic_key=enrolment_clinic_key(enrolment.pk),
    )
    existing = HubReport.objects.filter(clinic_key=report.clinic_key, report_id=report_id).first()
    if existing is not None:
        return existing, False
    row = HubReport(
        clinic_key=report.clinic_key,
        report_id=report_id,
        code=report.code,
        modifiers=list(report.modifiers),
        payer_kind=report.payer_kind.value,
        group=report.group,
        reason=report.reason,
        remarks=list(report.remarks),
        fix=report.fix.value,
    )
    row.full_clean(exclude=["modifiers", "remarks"])
    try:
        with transaction.atomic():
            row.save()
    except IntegrityError:
        # The same report arrived twice at once (a retry racing the first try).
        return HubReport.objects.get(clinic_key=report.clinic_key, report_id=report_id), False
    return row, True

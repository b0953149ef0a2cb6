"""Writes of the messaging app: consent, queueing, sending, retrying.

Delivery guarantee: at most once, never twice. `message_send` marks a row "sending" and
commits that BEFORE it calls the mail server, then marks it "sent" after. The crash window is
between the server's "250 accepted" and the "sent" update (and between the "sending" mark and
the call). A worker that dies there leaves the row "sending", and nothing sends a "sending"
row again by itself: after STALE_SENDING it is shown as failed with the reason "the worker
stopped while sending: delivery unknown", and a person decides (the outbox's retry button).
The other choice, re-sending rows left "sending", would be at-least-once: a patient could get
the same email twice whenever a worker is killed at the wrong moment. A retried message keeps
its Message-ID, so a receiving server that did get the first copy can drop the second.

Each email goes once to the mail server per claim: a claim is a conditional UPDATE (status
queued and due -> sending) and only the worker whose UPDATE changed the row sends it, so two
workers (or a task and the sweeping command) never both send one row.

Failures the server or the network reports (connection refused, timeouts, 4xx replies) are
temporary: the row goes back to "queued" with a back-off (30 s doubling to at most an hour)
and a task is enqueued for that time; after MAX_ATTEMPTS it fails. 5xx replies (a refused
address) fail at once.
"""

from __future__ import annotations

import hashlib
import logging
import smtplib
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import EmailMessage, get_connection
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from handrail.web.audit.models import AuditAction
from handrail.web.audit.services import audit_record
from handrail.web.clinic.models import Patient, User
from handrail.web.messaging.models import (
    Channel,
    Consent,
    Message,
    MessageKind,
    MessageStatus,
    WithdrawnVia,
)
from handrail.web.messaging.rendering import RenderError, render_body
from handrail.web.messaging.tokens import unsubscribe_token

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
BACKOFF_FIRST = timedelta(seconds=30)
BACKOFF_MAX = timedelta(hours=1)
STALE_SENDING = timedelta(minutes=10)
STALE_REASON = (
    "The worker stopped while sending: delivery unknown. Check with the patient before "
    "retrying (a retry keeps the Message-ID, so most mail servers drop a second copy)."
)


class TemporaryMailError(Exception):
    pass


class PermanentMailError(Exception):
    pass


def backoff(attempts: int) -> timedelta:
    """Wait before the next try after `attempts` failed ones: 30 s, 1 min, 2 min... 1 h."""
    wait: timedelta = BACKOFF_FIRST * (2 ** max(0, attempts - 1))
    return min(BACKOFF_MAX, wait)


def site_url(path: str) -> str:
    return settings.SITE_URL.rstrip("/") + path


# --- Consent ---------------------------------------------------------------------------


@transaction.atomic
def consent_record(
    *,
    patient: Patient,
    address: str,
    how: str,
    recorded_by: User,
    channel: str = Channel.EMAIL,
    now: datetime | None = None,
) -> Consent:
    """Record the patient's consent (replacing an active one on the channel, e.g. a new
    address). Errors name the field: address, how."""
    now = now or timezone.now()
    errors: dict[str, str] = {}
    address = address.strip()
    try:
        validate_email(address)
    except ValidationError:
        errors["address"] = "Enter a valid email address, e.g. name@example.com."
    if not how.strip():
        errors["how"] = "Say how the patient agreed, e.g. 'verbally at the front desk'."
    if channel not in Channel.values:
        errors["channel"] = f"Unknown channel {channel!r}; use one of {', '.join(Channel.values)}."
    if errors:
        raise ValidationError(errors)
    for active in Consent.objects.select_for_update().filter(
        patient=patient, channel=channel, withdrawn_at__isnull=True
    ):
        _withdraw(active, via=WithdrawnVia.STAFF, by=recorded_by, now=now)
    consent = Consent(
        clinic_id=patient.clinic_id,
        patient=patient,
        channel=channel,
        address=address,
        how=how.strip()[:200],
        given_at=now,
        recorded_by=recorded_by,
    )
    consent.full_clean()
    consent.save()
    audit_record(
        user=recorded_by,
        action=AuditAction.CREATE,
        obj=consent,
        patient=patient,
        detail=f"consent to {channel} messages",
    )
    return consent


def _withdraw(consent: Consent, *, via: str, by: User | None, now: datetime) -> None:
    consent.withdrawn_at = now
    consent.withdrawn_via = via
    consent.withdrawn_by = by
    consent.full_clean()
    consent.save(update_fields=["withdrawn_at", "withdrawn_via", "withdrawn_by"])
    # Nothing more goes out under a withdrawn consent, even what was already queued.
    Message.objects.filter(consent=consent, status=MessageStatus.QUEUED).update(
        status=MessageStatus.FAILED,
        failed_at=now,
        last_error="Not sent: the patient withdrew consent.",
    )


@transaction.atomic
def consent_withdraw(
    *, consent: Consent, via: str, by: User | None = None, now: datetime | None = None
) -> Consent:
    """Withdraw a consent (idempotent: a withdrawn one stays as it was)."""
    consent = Consent.objects.select_for_update().get(pk=consent.pk)
    if consent.withdrawn_at is not None:
        return consent
    _withdraw(consent, via=via, by=by, now=now or timezone.now())
    if by is not None:
        audit_record(
            user=by,
            action=AuditAction.UPDATE,
            obj=consent,
            patient=consent.patient,
            detail=f"consent to {consent.channel} messages withdrawn",
        )
    return consent


def active_consent(patient: Patient, channel: str = Channel.EMAIL) -> Consent | None:
    return Consent.objects.filter(
        patient=patient, channel=channel, withdrawn_at__isnull=True
    ).first()


# --- Queueing --------------------------------------------------------------------------


def _message_id(key: str) -> str:
    digest = hashlib.sha256(f"{settings.SECRET_KEY}:{key}".encode()).hexdigest()[:32]
    return f"<{digest}@{settings.MESSAGE_ID_DOMAIN}>"


@transaction.atomic
def message_queue(
    *,
    patient: Patient,
    kind: str,
    subject: str,
    idempotency_key: str,
    context: dict[str, Any] | None = None,
    created_by: User | None = None,
    now: datetime | None = None,
) -> Message | None:
    """Queue an email for the patient, once per idempotency key: the same key returns the
    row already queued (or sent). None when the patient has no active email consent."""
    if kind not in MessageKind.values:
        raise ValueError(f"unknown message kind {kind!r}")
    existing = Message.objects.filter(idempotency_key=idempotency_key).first()
    if existing is not None:
        return existing
    consent = active_consent(patient)
    if consent is None:
        return None
    now = now or timezone.now()
    message = Message(
        clinic_id=patient.clinic_id,
        patient=patient,
        consent=consent,
        kind=kind,
        to_address=consent.address,
        subject=subject[:200],
        context=context or {},
        idempotency_key=idempotency_key,
        message_id=_message_id(idempotency_key),
        next_attempt_at=now,
        created_by=created_by,
    )
    message.full_clean(exclude=["idempotency_key", "message_id"])
    try:
        with transaction.atomic():
            message.save()
    except IntegrityError:
        # Another request queued the same event between our read and our insert.
        return Message.objects.get(idempotency_key=idempotency_key)
    transaction.on_commit(lambda: enqueue_send(message.id))
    return message


def enqueue_send(message_id: int, run_after: datetime | None = None) -> None:
    """Hand the row to the background worker (the email queue)."""
    from handrail.web.messaging.tasks import send_message

    if run_after is None:
        send_message.enqueue(message_id)
    elif send_message.get_backend().supports_defer:
        send_message.using(run_after=run_after).enqueue(message_id)
    # A backend that cannot defer (the immediate one) leaves the retry to the sweep:
    # `manage.py send_messages` / the send_due_messages task.


# --- Sending ---------------------------------------------------------------------------


def message_send(*, message_id: int, now: datetime | None = None) -> str:
    """Send one queued, due message; returns what happened: sent, retry, failed, or
    skipped (not queued, not due yet, or another worker has it).

    Deliberately not one transaction: the "sending" mark must be committed before the mail
    server is called (see the module's docstring)."""
    now = now or timezone.now()
    claimed = Message.objects.filter(
        id=message_id, status=MessageStatus.QUEUED, next_attempt_at__lte=now
    ).update(status=MessageStatus.SENDING, attempts=F("attempts") + 1, sending_started_at=now)
    if claimed != 1:
        return "skipped"
    message = Message.objects.select_related("clinic", "consent", "patient").get(id=message_id)
    if not message.consent.active:
        _finish(message, MessageStatus.FAILED, now, "Not sent: the patient withdrew consent.")
        return "failed"
    unsubscribe_url = site_url(f"/unsubscribe/{unsubscribe_token(message.consent_id)}/")
    try:
        body = render_body(message, unsubscribe_url=unsubscribe_url)
    except RenderError as exc:
        _finish(message, MessageStatus.FAILED, now, f"Not sent: {exc}.")
        return "failed"
    try:
        deliver(message, body=body, unsubscribe_url=unsubscribe_url)
    except TemporaryMailError as exc:
        if message.attempts >= MAX_ATTEMPTS:
            _finish(
                message,
                MessageStatus.FAILED,
                now,
                f"Gave up after {message.attempts} attempts; last: {exc}",
            )
            return "failed"
        retry_at = now + backoff(message.attempts)
        Message.objects.filter(id=message.id, status=MessageStatus.SENDING).update(
            status=MessageStatus.QUEUED,
            next_attempt_at=retry_at,
            last_error=f"Attempt {message.attempts}: {exc}"[:500],
        )
        transaction.on_commit(lambda: enqueue_send(message.id, run_after=retry_at))
        return "retry"
    except PermanentMailError as exc:
        _finish(message, MessageStatus.FAILED, now, f"Refused: {exc}")
        return "failed"
    _finish(message, MessageStatus.SENT, timezone.now(), "")
    return "sent"


def _finish(message: Message, status: str, at: datetime, reason: str) -> None:
    fields: dict[str, Any] = {"status": status, "last_error": reason[:500]}
    fields["sent_at" if status == MessageStatus.SENT else "failed_at"] = at
    Message.objects.filter(id=message.id, status=MessageStatus.SENDING).update(**fields)


def deliver(message: Message, *, body: str, unsubscribe_url: str) -> None:
    """Hand the email to the configured mail backend; raise Temporary/PermanentMailError."""
    email = EmailMessage(
        subject=message.subject,
        body=body,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[message.to_address],
        headers={
            "Message-ID": message.message_id,
            # RFC 2369 / RFC 8058: one-click unsubscribe from the mail program.
            "List-Unsubscribe": f"<{unsubscribe_url}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            "Auto-Submitted": "auto-generated",
        },
        connection=get_connection(fail_silently=False),
    )
    try:
        email.send(fail_silently=False)
    except smtplib.SMTPRecipientsRefused as exc:
        codes = [code for code, _ in exc.recipients.values()]
        if codes and all(500 <= code < 600 for code in codes):
            raise PermanentMailError(f"the mail server refused the address ({codes[0]})") from None
        raise TemporaryMailError(f"the mail server deferred the address ({codes})") from None
    except smtplib.SMTPResponseException as exc:
        text = (
            exc.smtp_error.decode(errors="replace")
            if isinstance(exc.smtp_error, bytes)
            else str(exc.smtp_error)
        )
        if 500 <= exc.smtp_code < 600:
            raise PermanentMailError(f"{exc.smtp_code} {text}"[:300]) from None
        raise TemporaryMailError(f"{exc.smtp_code} {text}"[:300]) from None
    except OSError as exc:  # refused, reset, timed out, disconnected (SMTPException too)
        raise TemporaryMailError(f"mail server unreachable: {exc or type(exc).__name__}") from None


def messages_fail_stale(*, now: datetime | None = None) -> int:
    """Rows left "sending" by a worker that stopped: failed, delivery unknown."""
    now = now or timezone.now()
    return Message.objects.filter(
        status=MessageStatus.SENDING, sending_started_at__lt=now - STALE_SENDING
    ).update(status=MessageStatus.FAILED, failed_at=now, last_error=STALE_REASON)


def messages_send_due(*, now: datetime | None = None, limit: int = 500) -> dict[str, int]:
    """The safety net behind the per-message tasks (an enqueue lost with a queue that was
    flushed): send every queued message that is due, and fail stale "sending" rows."""
    now = now or timezone.now()
    counts = {"stale": messages_fail_stale(now=now)}
    due = Message.objects.filter(
        status=MessageStatus.QUEUED, next_attempt_at__lte=now
    ).values_list("id", flat=True)[:limit]
    for message_id in list(due):
        outcome = message_send(message_id=message_id, now=now)
        counts[outcome] = counts.get(outcome, 0) + 1
    return counts


@transaction.atomic
def message_retry(*, message: Message, by: User, now: datetime | None = None) -> Message:
    """Staff's retry of a failed message: queued again now, with a fresh attempt budget and
    the same Message-ID. Refused while the patient's consent is withdrawn."""
    now = now or timezone.now()
    message = Message.objects.select_for_update().select_related("consent").get(pk=message.pk)
    if message.status != MessageStatus.FAILED:
        raise ValidationError(
            {"status": f"Only a failed message can be retried; this one is {message.status}."}
        )
    if not message.consent.active:
        raise ValidationError(
            {"consent": "The patient withdrew consent; record a new one before retrying."}
        )
    message.status = MessageStatus.QUEUED
    message.attempts = 0
    message.next_attempt_at = now
    message.failed_at = None
    message.last_error = f"Retried by {by} after: {message.last_error}"[:500]
    message.save(
        update_fields=["status", "attempts", "next_attempt_at", "failed_at", "last_error"]
    )
    audit_record(
        user=by,
        action=AuditAction.UPDATE,
        obj=message,
        patient=message.patient,
        detail="email retried",
    )
    transaction.on_commit(lambda: enqueue_send(message.id))
    return message

"""Messages to patients: consent per channel, and the outbox every email goes through.

The outbox is the record of what was sent, to whom and when, and the unit of delivery: the
background worker sends one row at a time (services.message_send). See that function for
why a row is marked "sending" before the mail server is called.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from handrail.web.clinic.models import Clinic, Patient


class Channel(models.TextChoices):
    EMAIL = "email", "Email"


class WithdrawnVia(models.TextChoices):
    STAFF = "staff", "Recorded by staff"
    UNSUBSCRIBE_LINK = "unsubscribe-link", "The unsubscribe link in an email"


class Consent(models.Model):
    """The patient's consent to be sent messages on one channel: who recorded it, when and
    how, and when it was withdrawn. A withdrawn row stays as history; a new consent is a new
    row (at most one active row per patient and channel)."""

    clinic = models.ForeignKey(Clinic, on_delete=models.CASCADE, related_name="+")
    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="consents")
    channel = models.CharField(max_length=10, choices=Channel.choices, default=Channel.EMAIL)
    address = models.EmailField(help_text="Where messages go on this channel")
    given_at = models.DateTimeField()
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    how = models.CharField(
        max_length=200, help_text="How the patient agreed, e.g. 'verbally at the front desk'"
    )
    withdrawn_at = models.DateTimeField(null=True, blank=True)
    withdrawn_via = models.CharField(
        max_length=20, choices=WithdrawnVia.choices, blank=True, default=""
    )
    withdrawn_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        ordering = ["-given_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["patient", "channel"],
                condition=Q(withdrawn_at__isnull=True),
                name="consent_one_active_per_channel",
                violation_error_message="The patient already has an active consent here.",
            ),
        ]

    @property
    def active(self) -> bool:
        return self.withdrawn_at is None

    def __str__(self) -> str:
        return f"{self.get_channel_display()} to {self.address}"


class MessageKind(models.TextChoices):
    PROGRAM_ISSUED = "program-issued", "Program issued"
    PROGRAM_REVISED = "program-revised", "Program revised"
    REMINDER = "reminder", "Reminder"


class MessageStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    SENDING = "sending", "Sending"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed"


class Message(models.Model):
    """One email in the outbox. `idempotency_key` names the event it is for (the program's
    version 3 was issued; the reminder of 2026-12-07): a second request for the same event
    finds this row instead of queueing another, and `message_id` (the RFC 5322 Message-ID,
    fixed when the row is made) lets a receiving server drop a copy it already has."""

    clinic = models.ForeignKey(Clinic, on_delete=models.CASCADE, related_name="+")
    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="messages")
    consent = models.ForeignKey(Consent, on_delete=models.PROTECT, related_name="messages")
    kind = models.CharField(max_length=20, choices=MessageKind.choices)
    to_address = models.EmailField()
    subject = models.CharField(max_length=200)
    # What the body is rendered from at send time (ids and dates, never diagnosis or
    # program content): handrail.web.messaging.rendering.
    context = models.JSONField(default=dict, blank=True)
    idempotency_key = models.CharField(max_length=200, unique=True)
    message_id = models.CharField(max_length=200, unique=True)
    status = models.CharField(
        max_length=10, choices=MessageStatus.choices, default=MessageStatus.QUEUED
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField()
    last_error = models.CharField(max_length=500, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    sending_started_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    failed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["status", "next_attempt_at"]),
            models.Index(fields=["clinic", "status", "created_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} to {self.to_address} ({self.status})"

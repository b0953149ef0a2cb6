"""The hub role: a Handrail server that other clinics' servers send anonymous denial reports
to (handrail.claims.patterns). An enrolment is one sending server, named only by the label the
hub's admin typed, with the SHA-256 of its key (the key itself is shown once). A received
report keeps the sending clinic only as a keyed hash of its enrolment id, so the hub holds
codes, the payer type, the reason and the fix, and nothing that names a clinic or a patient.
"""

from __future__ import annotations

from django.db import models


class Enrolment(models.Model):
    """A clinic server allowed to send reports. Revoking keeps its reports (they still
    count) and refuses its key from then on."""

    label = models.CharField(max_length=100, help_text="What the hub's admin calls it")
    key_hash = models.CharField(max_length=64, unique=True)  # SHA-256 hex of the key
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    # The rate limit's window (PATTERN_HUB_RATE_LIMIT requests per hour), locked per row.
    window_started_at = models.DateTimeField(null=True, blank=True)
    window_hits = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.label} (#{self.pk}{', revoked' if self.revoked_at else ''})"


class HubReport(models.Model):
    """One received report. `clinic_key` is HMAC-SHA256(hub secret, enrolment id) and
    `report_id` the sender's own keyed hash of its claim line: one report per sender and
    report id, so a retried delivery is stored (and counted) once."""

    clinic_key = models.CharField(max_length=64)
    report_id = models.CharField(max_length=64)
    code = models.CharField(max_length=5)
    modifiers = models.JSONField(default=list, blank=True)
    payer_kind = models.CharField(max_length=20)
    group = models.CharField(max_length=2)
    reason = models.CharField(max_length=5)
    remarks = models.JSONField(default=list, blank=True)
    fix = models.CharField(max_length=30)
    received_on = models.DateField(auto_now_add=True)  # the day only

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["clinic_key", "report_id"], name="hubreport_once_per_sender"
            )
        ]
        indexes = [models.Index(fields=["code", "payer_kind", "group", "reason"])]

    def __str__(self) -> str:
        return f"{self.code} {self.payer_kind} {self.group}-{self.reason}: {self.fix}"

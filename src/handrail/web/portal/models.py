"""The patient's side of a home program: links that open it without an account, the
sessions the patient logs through them, the rate-limit counters that guard them and the
log of every access through a link.

A link's token is shown once (to staff, or put into one email) and stored only as its
SHA-256: a copy of the database does not open anyone's program. The audit app's events need
a signed-in user, so what a patient does through a link is recorded here (`LinkAccess`,
actor = the link).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from handrail.web.programs.models import Program, ProgramVersion

PAIN_MIN = 0
PAIN_MAX = 10


class PatientLink(models.Model):
    program = models.ForeignKey(Program, on_delete=models.CASCADE, related_name="patient_links")
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField()
    # Who made it: a user (the program page's "new link"), or nobody for a link made for an
    # email (the message's id is then in `note`).
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    note = models.CharField(max_length=100, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["program", "revoked_at"])]

    def __str__(self) -> str:
        return f"link #{self.pk} to {self.program}"


class Difficulty(models.TextChoices):
    EASY = "easy", "Easy"
    OK = "ok", "About right"
    HARD = "hard", "Hard"


class SessionLog(models.Model):
    """One sitting the patient logged: the items done (as the version showed them), pain
    0-10 before and after, how hard it felt and a comment."""

    program = models.ForeignKey(Program, on_delete=models.CASCADE, related_name="session_logs")
    version = models.ForeignKey(ProgramVersion, on_delete=models.PROTECT, related_name="+")
    link = models.ForeignKey(
        PatientLink, on_delete=models.SET_NULL, null=True, blank=True, related_name="logs"
    )
    day = models.DateField()
    # [{"item_id": 12, "title": "..."}] in program order.
    items_done = models.JSONField(default=list)
    pain_before = models.PositiveSmallIntegerField(null=True, blank=True)
    pain_after = models.PositiveSmallIntegerField(null=True, blank=True)
    difficulty = models.CharField(max_length=4, choices=Difficulty.choices, blank=True)
    comment = models.TextField(blank=True, max_length=1000)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-day", "-id"]
        indexes = [models.Index(fields=["program", "day"])]
        constraints = [
            models.CheckConstraint(
                name="session_pain_before_0_10",
                condition=Q(pain_before__isnull=True)
                | Q(pain_before__gte=PAIN_MIN, pain_before__lte=PAIN_MAX),
                violation_error_message="Pain before is 0 to 10.",
            ),
            models.CheckConstraint(
                name="session_pain_after_0_10",
                condition=Q(pain_after__isnull=True)
                | Q(pain_after__gte=PAIN_MIN, pain_after__lte=PAIN_MAX),
                violation_error_message="Pain after is 0 to 10.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.program} session {self.day.isoformat()}"


class ClinicianNote(models.Model):
    program = models.ForeignKey(Program, on_delete=models.CASCADE, related_name="clinician_notes")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    at = models.DateTimeField()
    text = models.TextField(max_length=2000)

    class Meta:
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"note on {self.program} by {self.author}"


class AccessAction(models.TextChoices):
    VIEW = "view", "Opened the program"
    PRINT = "print", "Opened the print view"
    PDF = "pdf", "Downloaded the handout"
    LOG = "log", "Logged a session"
    REMINDERS = "remind", "Changed the reminders"
    REFUSED = "refused", "Refused (revoked or expired link)"


class LinkAccess(models.Model):
    """Patient access through a link (the actor is the link, not a user)."""

    link = models.ForeignKey(PatientLink, on_delete=models.CASCADE, related_name="accesses")
    at = models.DateTimeField()
    action = models.CharField(max_length=8, choices=AccessAction.choices)
    address = models.CharField(max_length=45, blank=True)

    class Meta:
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.action} via link #{self.link_id}"


class LimitScope(models.TextChoices):
    TOKEN = "token", "link token"
    ADDRESS = "address", "client address"


class LinkCounter(models.Model):
    """Requests to the patient-link pages in the current window, per token (its hash) and
    per client address; changed only under a row lock (`handrail.web.portal.throttle`)."""

    scope = models.CharField(max_length=8, choices=LimitScope.choices)
    key = models.CharField(max_length=64)
    hits = models.PositiveIntegerField(default=0)
    window_started_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["scope", "key"], name="link_counter_unique_key"),
        ]

    def __str__(self) -> str:
        return f"{self.scope} {self.key[:8]}: {self.hits}"


class ChangedVia(models.TextChoices):
    STAFF = "staff", "Staff"
    PATIENT = "patient", "The patient, through the link"


class ReminderPlan(models.Model):
    """When the patient wants reminders for a program: weekdays (Monday 0) and a time on
    their clock in their time zone, until the program ends. `next_at` (UTC) is the next one
    due; the reminder task queues it and moves it on (handrail.web.portal.reminders)."""

    program = models.OneToOneField(Program, on_delete=models.CASCADE, related_name="reminders")
    weekdays = models.JSONField(default=list)
    at = models.TimeField()
    time_zone = models.CharField(max_length=64)
    next_at = models.DateTimeField(null=True, blank=True, db_index=True)
    updated_at = models.DateTimeField()
    updated_via = models.CharField(max_length=8, choices=ChangedVia.choices)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    def __str__(self) -> str:
        return f"reminders for {self.program}"

"""Visits (one clinician's note for one case on one day), their service lines with timer
segments, and addenda written after signing.

A signed visit is locked: services refuse every change except an addendum (and the
co-signature an assistant's note may need).
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from handrail.web.care.models import Case
from handrail.web.clinic.models import Clinic, Patient

MAX_DAY_MINUTES = 24 * 60


class VisitStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    SIGNED = "signed", "Signed"


class VisitType(models.TextChoices):
    EVALUATION = "evaluation", "Initial evaluation"
    TREATMENT = "treatment", "Treatment"
    PROGRESS_REPORT = "progress_report", "Treatment with progress report"
    RE_EVALUATION = "re_evaluation", "Re-evaluation"
    DISCHARGE = "discharge", "Discharge"


# Visits that write a progress report and so restart the 10-treatment-day count
# (Pub 100-02 ch.15 §220.3.D: the evaluation serves as the first progress report).
REPORT_TYPES = (VisitType.EVALUATION, VisitType.PROGRESS_REPORT, VisitType.RE_EVALUATION)


class Telehealth(models.TextChoices):
    HOME = "home", "Patient at home (POS 10)"
    OTHER = "other", "Patient elsewhere (POS 02)"


class Visit(models.Model):
    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="visits")
    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="visits")
    date = models.DateField()
    visit_type = models.CharField(
        max_length=20, choices=VisitType.choices, default=VisitType.TREATMENT
    )
    clinician = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="visits"
    )
    place_of_service = models.CharField(max_length=2, default="11")
    telehealth = models.CharField(max_length=5, choices=Telehealth.choices, blank=True)
    patient_present = models.BooleanField(default=True)
    caregiver_present = models.BooleanField(default=False)
    distinct_services = models.BooleanField(
        default=False, help_text="Attest the services were distinct (supports 59/X modifiers)"
    )
    medical_necessity_attested = models.BooleanField(
        default=False, help_text="Therapy above the threshold is medically necessary (KX)"
    )
    narrative = models.TextField(blank=True)
    status = models.CharField(max_length=6, choices=VisitStatus.choices, default="draft")
    signed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="visits_signed",
    )
    signed_at = models.DateTimeField(null=True, blank=True)
    cosigned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="visits_cosigned",
    )
    cosigned_at = models.DateTimeField(null=True, blank=True)
    # The engine's answer when the note was signed (VisitResult.to_dict()) and its allowed
    # amount, which feeds the patient's yearly threshold accrual.
    evaluation = models.JSONField(null=True, blank=True)
    allowed_amount = models.DecimalField(max_digits=10, decimal_places=2, null=True, blank=True)
    # Why the clinician signed although the evaluation had error findings (empty otherwise).
    sign_reason = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # Optimistic version of the header: each change adds one; an edit based on an older
    # version is refused (409) naming who changed it last (updated_by, updated_at).
    version = models.PositiveIntegerField(default=1)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        ordering = ["-date", "-id"]
        indexes = [
            models.Index(fields=["clinic", "status"]),
            # Covers the yearly threshold accrual of the whole clinic (the worklist): its
            # query reads the index alone, never the wide rows with the stored evaluation.
            models.Index(
                fields=["clinic", "status", "date", "case", "allowed_amount"],
                name="visit_accrual_covering",
            ),
            # The co-signature worklist reads the assistants' notes awaiting it, not every
            # signed note of the clinic; with the case, its count reads the index alone (the
            # case leads to the clinic and the patient's payer), never the wide rows.
            models.Index(
                fields=["clinician", "status", "cosigned_by", "case"],
                name="visit_awaiting_cosign_case",
            ),
            # Covers the treatment days since the last report of every open case (the
            # progress-report worklist): the visit type is read from the index, not the row.
            models.Index(fields=["case", "date", "visit_type"], name="visit_case_day_type"),
        ]
        constraints = [
            # One note per case and day: a case is one discipline's episode, so this is
            # "one visit per patient, case, date and discipline". Its unique index on
            # (case, date) also serves the look-ups by case and date (no second index).
            models.UniqueConstraint(fields=["case", "date"], name="visit_one_per_case_day"),
            models.CheckConstraint(
                name="visit_signed_has_signer",
                condition=Q(status="draft") | Q(signed_by__isnull=False, signed_at__isnull=False),
                violation_error_message="A signed visit needs a signer and a time.",
            ),
            models.CheckConstraint(
                name="visit_allowed_not_negative",
                condition=Q(allowed_amount__isnull=True) | Q(allowed_amount__gte=0),
                violation_error_message="The allowed amount cannot be negative.",
            ),
        ]

    @property
    def is_signed(self) -> bool:
        return self.status == VisitStatus.SIGNED

    @property
    def discipline(self) -> str:
        return self.case.discipline

    @property
    def total_minutes(self) -> int:
        return sum(line.total_minutes for line in self.lines.all())

    @property
    def allowed(self) -> Decimal:
        return self.allowed_amount or Decimal("0")

    def __str__(self) -> str:
        return f"{self.case.patient} {self.date.isoformat()} ({self.case.discipline})"


class ServiceLine(models.Model):
    """One code on a visit: minutes split between therapist and assistant, and the
    structured note the engine checks (fields as in handrail.rules.visit_record.LineNote)."""

    visit = models.ForeignKey(Visit, on_delete=models.CASCADE, related_name="lines")
    position = models.PositiveSmallIntegerField(default=0)
    code = models.CharField(max_length=5)
    therapist_minutes = models.PositiveIntegerField(default=0)
    assistant_minutes = models.PositiveIntegerField(
        default=0, help_text="Minutes an assistant furnished (drives CQ/CO)"
    )
    # Typed minutes minus the timer total at the time they were typed, so that a later timer
    # run adds to what the clinician typed instead of replacing it.
    therapist_typed_offset = models.IntegerField(default=0)
    assistant_typed_offset = models.IntegerField(default=0)
    requested_units = models.PositiveSmallIntegerField(null=True, blank=True)
    baseline = models.TextField(blank=True, help_text="Functional baseline / current level")
    task = models.TextField(blank=True, help_text="The task or activity trained")
    technique = models.TextField(blank=True, help_text="Technique, strategy or device taught")
    skilled = models.TextField(blank=True, help_text="Why it needed a skilled clinician")
    performance = models.TextField(
        blank=True, help_text="What the patient did: errors, cues, carryover, progress"
    )
    text = models.TextField(blank=True, help_text="Free narrative")
    # Optimistic version of the line (its note, minutes and timer runs), as on Visit.
    version = models.PositiveIntegerField(default=1)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    updated_at = models.DateTimeField(null=True, blank=True)
    # Why the clinician bills typed minutes that differ from the line's timer total (the
    # reconcile step before signing); emptied whenever the minutes or the timer runs change.
    kept_minutes_reason = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["visit", "code"], name="line_one_per_code"),
            models.CheckConstraint(
                name="line_minutes_within_day",
                condition=Q(therapist_minutes__gte=0)
                & Q(assistant_minutes__gte=0)
                & Q(therapist_minutes__lte=MAX_DAY_MINUTES - F("assistant_minutes")),
                violation_error_message="A line's minutes are 0 to 1440 (24 hours).",
            ),
        ]

    @property
    def total_minutes(self) -> int:
        return self.therapist_minutes + self.assistant_minutes

    @property
    def running_segment(self) -> TimerSegment | None:
        """The line's running timer run, if any (from prefetched segments when there)."""
        return next((s for s in self.segments.all() if s.ended_at is None), None)

    def note_dict(self) -> dict[str, str]:
        return {
            "baseline": self.baseline,
            "task": self.task,
            "technique": self.technique,
            "skilled": self.skilled,
            "performance": self.performance,
            "text": self.text,
        }

    def __str__(self) -> str:
        return f"{self.code} {self.total_minutes} min"


class TimerSegment(models.Model):
    """One run of a per-code timer, kept on the server so it shows on every tab and device
    and survives a closed tab. A running segment has a start and no end; a line has at most
    one running segment. Segments of one user on one visit never overlap, and every segment
    falls on the visit's day in the clinic's time zone (a run left going past midnight is
    stopped at midnight, `capped`). The line's minutes are recomputed from its finished
    segments (handrail.web.visits.services)."""

    line = models.ForeignKey(ServiceLine, on_delete=models.CASCADE, related_name="segments")
    started_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT)
    by_assistant = models.BooleanField(default=False)
    # Stopped at the end of the visit's day rather than when someone pressed Stop.
    capped = models.BooleanField(default=False)

    class Meta:
        ordering = ["started_at"]
        constraints = [
            models.CheckConstraint(
                name="segment_ends_after_start",
                condition=Q(ended_at__isnull=True) | Q(ended_at__gt=F("started_at")),
                violation_error_message="A timer segment must end after it starts.",
            ),
            models.UniqueConstraint(
                fields=["line"],
                condition=Q(ended_at__isnull=True),
                name="segment_one_running_per_line",
                violation_error_message="This line's timer is already running.",
            ),
        ]

    @property
    def running(self) -> bool:
        return self.ended_at is None

    @property
    def seconds(self) -> int:
        """Length of a finished run; a running one counts nothing until it stops."""
        if self.ended_at is None:
            return 0
        return int((self.ended_at - self.started_at).total_seconds())


class Addendum(models.Model):
    visit = models.ForeignKey(Visit, on_delete=models.PROTECT, related_name="addenda")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT)
    at = models.DateTimeField(auto_now_add=True)
    reason = models.CharField(max_length=200)
    text = models.TextField()

    class Meta:
        ordering = ["at", "id"]
        verbose_name_plural = "addenda"


class ThresholdGroup(models.TextChoices):
    """The yearly therapy threshold's groups: PT and SLP combined, OT separate (SSA §1833(g))."""

    PT_SLP = "PT/SLP", "PT and SLP"
    OT = "OT", "OT"


class ThresholdAccrual(models.Model):
    """The patient's yearly therapy threshold accrual per group in a clinic: the allowed
    amounts (in cents) and the number of the signed visits with an allowed amount, dated in
    `year` (the threshold is per beneficiary and calendar year, PT+SLP combined and OT
    separate: SSA §1833(g), BBA 2018 §50202; amounts in handrail.rules.threshold).

    Kept by the database itself (triggers on visits and cases, migration 0009), in the
    transaction that changes a visit: a sign (under the patient's row lock, see
    visit_sign), and any other write to a visit's status, amount, date or case, or to a
    case's patient or discipline, whatever sends it. Never written by the app;
    `manage.py threshold_accrual_check` recomputes it from the visits and reports drift.
    """

    clinic = models.ForeignKey(Clinic, on_delete=models.CASCADE, related_name="+")
    patient = models.ForeignKey(
        Patient, on_delete=models.CASCADE, related_name="threshold_accruals"
    )
    year = models.PositiveSmallIntegerField()
    therapy_group = models.CharField(max_length=6, choices=ThresholdGroup.choices)
    allowed_cents = models.BigIntegerField()
    visits = models.PositiveIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["patient", "year", "therapy_group", "clinic"],
                name="threshold_accrual_one_per_group",
            ),
        ]
        indexes = [
            # The threshold worklist: the clinic's groups at or over a share of the amount.
            models.Index(
                fields=["clinic", "year", "allowed_cents"], name="threshold_accrual_clinic"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.patient_id} {self.year} {self.therapy_group}: {self.allowed}"

    @property
    def allowed(self) -> Decimal:
        return Decimal(self.allowed_cents) / 100

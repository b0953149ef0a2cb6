"""Cases (episodes of care), plans of care with goals, and payer authorizations.

A case is one discipline's episode for one patient. Progress-report and recertification
counters are computed per case (never per discipline across cases).
"""

from __future__ import annotations

from datetime import date

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from handrail.web.clinic.models import Clinic, Discipline, Patient, Payer
from handrail.web.dates import days_after

# Medicare Benefit Policy Manual (Pub 100-02) ch.15 §220.1.2-220.1.3: the plan is certified
# within 30 days of the initial evaluation and recertified at least every 90 days.
CERTIFICATION_WINDOW_DAYS = 30
RECERTIFICATION_DAYS = 90


def plan_end_date(start_date: date, duration_weeks: int) -> date:
    # Saturating: a stored date near the calendar's end must never raise on a page.
    return days_after(start_date, 7 * duration_weeks)


def plan_certification_due(start_date: date) -> date:
    """Certification is due within 30 days of the plan's start (Pub 100-02 ch.15 §220.1.3)."""
    return days_after(start_date, CERTIFICATION_WINDOW_DAYS)


def plan_recertification_due(certified_on: date | None, end_date: date) -> date | None:
    """Certified date + 90 days, or the plan's end when that is sooner
    (Pub 100-02 ch.15 §220.1.3: recertify at least every 90 days or when the plan ends)."""
    if certified_on is None:
        return None
    return min(days_after(certified_on, RECERTIFICATION_DAYS), end_date)


class Case(models.Model):
    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="cases")
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="cases")
    discipline = models.CharField(max_length=3, choices=Discipline.choices)
    title = models.CharField(max_length=200, help_text="e.g. Right CVA, ADL retraining")
    opened_on = models.DateField()
    closed_on = models.DateField(null=True, blank=True)
    discharge_reason = models.CharField(
        max_length=200, blank=True, help_text="Why the episode ended, e.g. goals met"
    )
    referring_provider = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-opened_on", "id"]
        constraints = [
            models.CheckConstraint(
                name="case_dates_in_order",
                condition=Q(closed_on__isnull=True) | Q(closed_on__gte=F("opened_on")),
                violation_error_message="The case closes before it opens.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.discipline}: {self.title}"


class PlanOfCare(models.Model):
    """The plan a therapist establishes and a physician/NPP certifies.

    `diagnoses` is the ordered list of ICD-10-CM codes (primary first).
    """

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="plans")
    discipline = models.CharField(max_length=3, choices=Discipline.choices)
    diagnoses = models.JSONField(default=list)
    frequency_per_week = models.PositiveSmallIntegerField()
    duration_weeks = models.PositiveSmallIntegerField()
    start_date = models.DateField()
    established_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="plans_established"
    )
    certified_on = models.DateField(null=True, blank=True)
    certifier_name = models.CharField(
        max_length=200, blank=True, help_text="Physician or NPP who signed the plan"
    )
    certifier_npi = models.CharField(max_length=10, blank=True)
    medical_necessity = models.TextField(
        blank=True, help_text="Why skilled therapy is needed (supports KX above the threshold)"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-start_date", "-id"]
        constraints = [
            models.CheckConstraint(
                name="plan_frequency_positive",
                condition=Q(frequency_per_week__gte=1, frequency_per_week__lte=7),
                violation_error_message="Frequency is 1 to 7 visits a week.",
            ),
            models.CheckConstraint(
                name="plan_duration_positive",
                condition=Q(duration_weeks__gte=1, duration_weeks__lte=52),
                violation_error_message="Duration is 1 to 52 weeks.",
            ),
            models.CheckConstraint(
                name="plan_certified_after_start",
                condition=Q(certified_on__isnull=True) | Q(certified_on__gte=F("start_date")),
                violation_error_message="The plan cannot be certified before it starts.",
            ),
        ]

    @property
    def end_date(self) -> date:
        return plan_end_date(self.start_date, self.duration_weeks)

    @property
    def certification_due(self) -> date:
        return plan_certification_due(self.start_date)

    @property
    def recertification_due(self) -> date | None:
        return plan_recertification_due(self.certified_on, self.end_date)

    @property
    def is_certified(self) -> bool:
        return self.certified_on is not None

    def __str__(self) -> str:
        return f"{self.discipline} plan from {self.start_date.isoformat()}"


class Goal(models.Model):
    plan = models.ForeignKey(PlanOfCare, on_delete=models.CASCADE, related_name="goals")
    position = models.PositiveSmallIntegerField(default=0)
    description = models.TextField(help_text="Measurable and functional, e.g. dons shirt alone")
    target_date = models.DateField()
    long_term = models.BooleanField(default=False)
    met_on = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return self.description


class Authorization(models.Model):
    """A payer's prior authorization: visits and/or units within a date range."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="authorizations")
    payer = models.ForeignKey(Payer, on_delete=models.PROTECT, related_name="authorizations")
    number = models.CharField(max_length=60, blank=True)
    visits_authorized = models.PositiveIntegerField()
    units_authorized = models.PositiveIntegerField(null=True, blank=True)
    start_date = models.DateField()
    end_date = models.DateField()

    class Meta:
        ordering = ["-start_date"]
        constraints = [
            models.CheckConstraint(
                name="authorization_dates_in_order",
                condition=Q(end_date__gte=F("start_date")),
                violation_error_message="The authorization ends before it starts.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.payer}: {self.visits_authorized} visits to {self.end_date.isoformat()}"

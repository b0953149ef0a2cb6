"""Clinic, users with roles, payers with their billing rules, patients and coverages.

Every row that holds patient or clinic data hangs off a `Clinic`; selectors filter by the
signed-in user's clinic, so one clinic never sees another's records.
"""

from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.crypto import salted_hmac


class Role(models.TextChoices):
    ADMIN = "admin", "Clinic admin"
    THERAPIST = "therapist", "Therapist"
    ASSISTANT = "assistant", "Therapy assistant"
    BILLER = "biller", "Biller"
    FRONT_DESK = "front_desk", "Front desk"


class Discipline(models.TextChoices):
    PT = "PT", "Physical therapy"
    OT = "OT", "Occupational therapy"
    SLP = "SLP", "Speech-language pathology"


class Clinic(models.Model):
    name = models.CharField(max_length=200)
    zip = models.CharField(
        "ZIP code", max_length=10, help_text="Where services are furnished (payment locality)"
    )
    npi = models.CharField("group NPI", max_length=10, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.name


class User(AbstractUser):
    """A person who signs in. Superusers may have no clinic; everyone else has exactly one."""

    clinic = models.ForeignKey(
        Clinic, on_delete=models.PROTECT, null=True, blank=True, related_name="users"
    )
    role = models.CharField(max_length=20, choices=Role.choices, default=Role.FRONT_DESK)
    discipline = models.CharField(
        max_length=3,
        choices=Discipline.choices,
        blank=True,
        help_text="Therapists and assistants only",
    )
    npi = models.CharField("NPI", max_length=10, blank=True)
    # Set when a clinic admin chose the password (a new account, a reset): the admin knows
    # it, so the user must replace it before doing anything else (handrail.web.clinic.gate).
    must_change_password = models.BooleanField(default=False)
    # Raised to end every session of the user at once (deactivation, a reset of the second
    # factor): it is part of the session hash checked on every request, so it holds with
    # any session store (database, cache, Redis).
    session_epoch = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.CheckConstraint(
                name="user_clinician_has_discipline",
                condition=~Q(role__in=["therapist", "assistant"]) | ~Q(discipline=""),
                violation_error_message="Therapists and assistants need a discipline.",
            ),
        ]

    def _get_session_auth_hash(self, secret: str | None = None) -> str:
        """Django's session hash (an HMAC of the password hash, checked on every request by
        `django.contrib.auth.get_user`) extended with `session_epoch`, so raising the epoch
        ends every session as a password change does. Epoch 0 keeps Django's value, so
        sessions from before the epoch existed stay valid."""
        if not self.session_epoch:  # Django 5.2's AbstractBaseUser._get_session_auth_hash
            salt = "django.contrib.auth.models.AbstractBaseUser.get_session_auth_hash"
            value = self.password
        else:
            salt = "handrail.clinic.User.session_epoch"
            value = f"{self.password}\x00{self.session_epoch}"
        return salted_hmac(salt, value, secret=secret, algorithm="sha256").hexdigest()

    @property
    def is_clinician(self) -> bool:
        return self.role in (Role.THERAPIST, Role.ASSISTANT)

    @property
    def credential(self) -> str:
        """PT, PTA, OT, OTA, SLP... for signatures."""
        if self.role == Role.ASSISTANT and self.discipline in ("PT", "OT"):
            return f"{self.discipline}A"
        return self.discipline or self.get_role_display()

    def __str__(self) -> str:
        name = self.get_full_name() or self.username
        return f"{name}, {self.credential}" if self.is_clinician else name


class PayerType(models.TextChoices):
    MEDICARE = "medicare", "Medicare"
    MEDICARE_ADVANTAGE = "medicare-advantage", "Medicare Advantage"
    MEDICAID = "medicaid", "Medicaid"
    COMMERCIAL = "commercial", "Commercial"
    WORKERS_COMP = "workers-comp", "Workers' compensation"
    OTHER = "other", "Other"


class UnitRule(models.TextChoices):
    CMS = "cms", "CMS 8-minute rule (total timed minutes)"
    PER_CODE = "per-code", "Each code on its own (8 minutes per code)"


class DistinctModifier(models.TextChoices):
    M59 = "59", "59"
    XE = "XE", "XE (separate encounter)"
    XS = "XS", "XS (separate structure)"
    XP = "XP", "XP (separate practitioner)"
    XU = "XU", "XU (unusual non-overlapping service)"


class Payer(models.Model):
    clinic = models.ForeignKey(Clinic, on_delete=models.CASCADE, related_name="payers")
    name = models.CharField(max_length=200)
    type = models.CharField(max_length=20, choices=PayerType.choices)
    unit_rule = models.CharField(max_length=10, choices=UnitRule.choices, default=UnitRule.CMS)
    requires_authorization = models.BooleanField(default=False)
    telehealth_allowed = models.BooleanField(default=True)
    distinct_modifier = models.CharField(
        max_length=2, choices=DistinctModifier.choices, default=DistinctModifier.M59
    )
    assistant_cosign_required = models.BooleanField(
        default=False, help_text="An assistant's note needs a therapist's co-signature"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["clinic", "name"], name="payer_unique_name"),
        ]

    def __str__(self) -> str:
        return self.name


class Sex(models.TextChoices):
    FEMALE = "F", "Female"
    MALE = "M", "Male"
    UNKNOWN = "U", "Unknown"


class Patient(models.Model):
    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="patients")
    first_name = models.CharField(max_length=100)
    last_name = models.CharField(max_length=100)
    birth_date = models.DateField()
    sex = models.CharField(max_length=1, choices=Sex.choices, default=Sex.UNKNOWN)
    phone = models.CharField(max_length=30, blank=True)
    email = models.EmailField(blank=True)
    address = models.CharField(max_length=200, blank=True)
    city = models.CharField(max_length=100, blank=True)
    state = models.CharField(max_length=2, blank=True)
    zip = models.CharField("ZIP code", max_length=10, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["last_name", "first_name", "id"]
        # The patient list pages the clinic's patients in this order: the index gives a
        # page without sorting every patient (and serves a last-name search's prefix).
        indexes = [
            models.Index(
                fields=["clinic", "last_name", "first_name", "id"], name="patient_list_order"
            )
        ]

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"

    def __str__(self) -> str:
        return f"{self.last_name}, {self.first_name}"


class CoverageOrder(models.IntegerChoices):
    PRIMARY = 1, "Primary"
    SECONDARY = 2, "Secondary"


class Relationship(models.TextChoices):
    """The patient's relationship to the insured (the subscriber): the X12 individual
    relationship codes of the 837P's SBR02 (18, self) and PAT01 (the others), 005010X222A1
    loops 2000B and 2000C."""

    SELF = "18", "Self"
    SPOUSE = "01", "Spouse"
    CHILD = "19", "Child"
    OTHER = "G8", "Other relationship"


class Coverage(models.Model):
    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="coverages")
    payer = models.ForeignKey(Payer, on_delete=models.PROTECT, related_name="coverages")
    member_id = models.CharField(max_length=40)
    order = models.PositiveSmallIntegerField(
        choices=CoverageOrder.choices, default=CoverageOrder.PRIMARY
    )
    start_date = models.DateField(null=True, blank=True)
    end_date = models.DateField(null=True, blank=True)
    relationship = models.CharField(
        "patient's relationship to the insured",
        max_length=2,
        choices=Relationship.choices,
        default=Relationship.SELF,
    )
    # The insured (subscriber) when it is not the patient; empty for self.
    subscriber_first_name = models.CharField(max_length=100, blank=True)
    subscriber_last_name = models.CharField(max_length=100, blank=True)
    subscriber_birth_date = models.DateField(null=True, blank=True)
    subscriber_sex = models.CharField(max_length=1, choices=Sex.choices, blank=True)

    class Meta:
        ordering = ["order"]
        constraints = [
            models.UniqueConstraint(fields=["patient", "order"], name="coverage_one_per_order"),
            models.CheckConstraint(
                name="coverage_dates_in_order",
                condition=Q(start_date__isnull=True)
                | Q(end_date__isnull=True)
                | Q(end_date__gte=models.F("start_date")),
                violation_error_message="The coverage ends before it starts.",
            ),
            models.CheckConstraint(
                name="coverage_relationship_known",
                condition=Q(relationship__in=["18", "01", "19", "G8"]),
                violation_error_message="The relationship must be self, spouse, child or other.",
            ),
            models.CheckConstraint(
                name="coverage_subscriber_when_not_self",
                condition=Q(
                    relationship="18",
                    subscriber_first_name="",
                    subscriber_last_name="",
                    subscriber_birth_date__isnull=True,
                    subscriber_sex="",
                )
                | (
                    ~Q(relationship="18")
                    & ~Q(subscriber_first_name="")
                    & ~Q(subscriber_last_name="")
                    & Q(subscriber_birth_date__isnull=False)
                    & ~Q(subscriber_sex="")
                ),
                violation_error_message="The insured's name, birth date and sex are needed "
                "when the patient is not the insured (and only then).",
            ),
        ]

    def clean(self) -> None:
        """Name the missing subscriber field (the constraint above only says one is)."""
        if self.relationship == Relationship.SELF:
            return
        labels = {
            "subscriber_first_name": "first name",
            "subscriber_last_name": "last name",
            "subscriber_birth_date": "birth date",
            "subscriber_sex": "sex",
        }
        missing = {
            name: f"The insured's {label} is needed when the patient is not the insured."
            for name, label in labels.items()
            if getattr(self, name) in (None, "")
        }
        if missing:
            raise ValidationError(missing)

    def __str__(self) -> str:
        return f"{self.payer} ({self.get_order_display()})"


class SignInScope(models.TextChoices):
    ACCOUNT = "account", "account"
    ADDRESS = "address", "client address"


class SignInCounter(models.Model):
    """Sign-in attempts of one account or one client address in the current window, and the
    lock they earned; changed only under a row lock (`handrail.web.clinic.throttle`)."""

    scope = models.CharField(max_length=10, choices=SignInScope.choices)
    key = models.CharField(max_length=150)
    failures = models.PositiveIntegerField(default=0)
    window_started_at = models.DateTimeField()
    locked_until = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["scope", "key"], name="signin_counter_unique_key"),
        ]
        indexes = [models.Index(fields=["window_started_at"])]

    def __str__(self) -> str:
        return f"{self.scope} {self.key}: {self.failures}"

"""Home programs: the library of entries, programs built from them for a patient's case,
their immutable issued versions, clinic templates and each user's favourite entries.

Built-in entries are synced from the package data (`handrail.library`, by release) and have no
clinic; a clinic's own entries (new ones, or copies of a built-in it wants to change) belong to
that clinic and are seen by nobody else. A program holds items (an entry and the patient's
dose) in an order, optionally under sections; issuing it freezes the items as a numbered
`ProgramVersion`, which is never changed afterwards.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from handrail.web.care.models import Case
from handrail.web.clinic.models import Clinic, Patient

# The dose fields, in the order `handrail.library.Dose` and the engine's TaughtItem use.
DOSE_FIELDS = ("sets", "reps", "hold_seconds", "times_per_day", "days_per_week", "minutes")


class EntryKind(models.TextChoices):
    SELF_CARE = "self_care", "Self-care / home-management training"
    EXERCISE = "exercise", "Therapeutic exercise"
    EDUCATION = "education", "Education"


class EntrySource(models.TextChoices):
    BUILTIN = "builtin", "Built-in"
    CLINIC = "clinic", "Clinic"
    EVERKINETIC = "everkinetic", "Everkinetic import"


class DoseFields(models.Model):
    """The six dose fields; None means the field does not apply."""

    sets = models.PositiveSmallIntegerField(null=True, blank=True)
    reps = models.PositiveSmallIntegerField(null=True, blank=True)
    hold_seconds = models.PositiveSmallIntegerField(null=True, blank=True)
    times_per_day = models.PositiveSmallIntegerField(null=True, blank=True)
    days_per_week = models.PositiveSmallIntegerField(null=True, blank=True)
    minutes = models.PositiveSmallIntegerField(null=True, blank=True)

    class Meta:
        abstract = True

    def dose_tuple(self) -> tuple[int | None, ...]:
        return tuple(getattr(self, name) for name in DOSE_FIELDS)


class LibraryEntry(DoseFields):
    """One library entry; the dose fields are its default dose."""

    clinic = models.ForeignKey(
        Clinic,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="library_entries",
        help_text="Empty for built-in entries",
    )
    key = models.SlugField(max_length=120)
    source = models.CharField(max_length=12, choices=EntrySource.choices)
    # Built-ins: the package entry's version and the library release it was synced from.
    builtin_version = models.PositiveIntegerField(null=True, blank=True)
    release = models.CharField(max_length=20, blank=True)
    copied_from = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="copies"
    )
    title = models.CharField(max_length=200)
    kind = models.CharField(max_length=10, choices=EntryKind.choices)
    summary = models.TextField(blank=True)
    regions = models.JSONField(default=list, blank=True)
    disciplines = models.JSONField(default=list, blank=True)
    position = models.CharField(max_length=200, blank=True)
    equipment = models.JSONField(default=list, blank=True)
    steps = models.JSONField(default=list, blank=True)
    cues = models.JSONField(default=list, blank=True)
    precautions = models.JSONField(default=list, blank=True)
    billing_code = models.CharField(max_length=5)
    adl = models.CharField(max_length=20, blank=True)
    topics = models.JSONField(default=list, blank=True)
    # Lower-case words of the title, summary, topics, regions, equipment and code: what the
    # library search matches each query word against (one indexed column, not six JSON ones).
    search_text = models.TextField(blank=True)
    # A built-in no longer in the package data, or a clinic entry taken out of use: kept for
    # the programs and versions that hold it, hidden from the search.
    archived = models.BooleanField(default=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["title", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["key"], condition=Q(clinic__isnull=True), name="library_builtin_key"
            ),
            models.UniqueConstraint(fields=["clinic", "key"], name="library_clinic_key"),
            models.CheckConstraint(
                name="library_builtin_has_no_clinic",
                condition=Q(source="builtin", clinic__isnull=True)
                | (~Q(source="builtin") & Q(clinic__isnull=False)),
                violation_error_message="Built-in entries have no clinic; others have one.",
            ),
        ]
        indexes = [models.Index(fields=["clinic", "archived", "kind"])]

    @property
    def is_builtin(self) -> bool:
        return self.source == EntrySource.BUILTIN

    def __str__(self) -> str:
        return self.title


class ProgramStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    ISSUED = "issued", "Issued"


class Program(models.Model):
    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="programs")
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="programs")
    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="programs")
    title = models.CharField(max_length=200)
    status = models.CharField(
        max_length=6, choices=ProgramStatus.choices, default=ProgramStatus.DRAFT
    )
    # The last issued version's number (0: never issued).
    version_number = models.PositiveIntegerField(default=0)
    # Issued with new instruction outside a visit and not yet taught at one: the worklist of
    # untaught programs reads this flag (set and cleared by services.program_issue).
    needs_teaching = models.BooleanField(default=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-updated_at", "-id"]
        indexes = [
            models.Index(fields=["clinic", "needs_teaching"]),
            models.Index(fields=["case", "status"]),
        ]

    def __str__(self) -> str:
        return self.title


class ProgramSection(models.Model):
    program = models.ForeignKey(Program, on_delete=models.CASCADE, related_name="sections")
    title = models.CharField(max_length=120)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["program", "title"], name="section_unique_title"),
        ]

    def __str__(self) -> str:
        return self.title


class ProgramItem(DoseFields):
    program = models.ForeignKey(Program, on_delete=models.CASCADE, related_name="items")
    entry = models.ForeignKey(LibraryEntry, on_delete=models.PROTECT, related_name="+")
    section = models.ForeignKey(
        ProgramSection, on_delete=models.SET_NULL, null=True, blank=True, related_name="items"
    )
    position = models.PositiveSmallIntegerField(default=0)
    notes = models.TextField(blank=True, help_text="Instructions for this patient")
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    added_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["position", "id"]
        constraints = [
            # The engine compares issues item by entry: an entry is in a program once.
            models.UniqueConstraint(fields=["program", "entry"], name="item_one_per_entry"),
        ]

    def __str__(self) -> str:
        return f"{self.entry} in {self.program}"


class TeachingMethod(models.TextChoices):
    DEMONSTRATION = "demonstration", "Demonstration"
    RETURN_DEMONSTRATION = "return_demonstration", "Return demonstration"
    VERBAL = "verbal", "Verbal instruction"
    WRITTEN = "written_handout", "Written handout"
    VIDEO = "video", "Video"


class ProgramVersion(models.Model):
    """One issue of a program, frozen: the items as issued (`items`, a JSON list in program
    order), what changed against the previous version (`changes`), who issued it and when,
    the visit it was taught at (none: sent outside a visit) and the engine's answer on
    whether it was billable instruction. Never updated after it is written."""

    program = models.ForeignKey(Program, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    items = models.JSONField()
    changes = models.JSONField(default=list, blank=True)
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    issued_at = models.DateTimeField()
    visit = models.ForeignKey(
        "visits.Visit",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="program_versions",
    )
    teaching_methods = models.JSONField(default=list, blank=True)
    is_new_instruction = models.BooleanField()
    billable = models.BooleanField()
    billing_code = models.CharField(max_length=5, blank=True)
    billing_reason = models.TextField()
    # {"code": minutes} put on the visit's note, for the lines this issue added or extended.
    billed_minutes = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-number"]
        constraints = [
            models.UniqueConstraint(fields=["program", "number"], name="version_unique_number"),
        ]

    def __str__(self) -> str:
        return f"{self.program} v{self.number}"


class ProgramTemplate(models.Model):
    clinic = models.ForeignKey(Clinic, on_delete=models.CASCADE, related_name="program_templates")
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["title", "id"]
        constraints = [
            models.UniqueConstraint(fields=["clinic", "title"], name="template_unique_title"),
        ]

    def __str__(self) -> str:
        return self.title


class TemplateItem(DoseFields):
    template = models.ForeignKey(ProgramTemplate, on_delete=models.CASCADE, related_name="items")
    entry = models.ForeignKey(LibraryEntry, on_delete=models.PROTECT, related_name="+")
    section = models.CharField(max_length=120, blank=True)
    position = models.PositiveSmallIntegerField(default=0)
    notes = models.TextField(blank=True)

    class Meta:
        ordering = ["position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["template", "entry"], name="template_item_one_entry"),
        ]


class FavouriteEntry(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="favourite_entries"
    )
    entry = models.ForeignKey(LibraryEntry, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["user", "entry"], name="favourite_once"),
        ]


class MediaKind(models.TextChoices):
    IMAGE = "image", "Picture"
    VIDEO = "video", "Video"


def _media_path(instance: EntryMedia, filename: str) -> str:
    # Stored under a random name: the uploaded name is neither trusted nor shown.
    return f"programs/media/{instance.clinic_id}/{filename}"


class EntryMedia(models.Model):
    """A picture or video a clinic attached to a library entry (its own or a built-in).
    Seen by that clinic's users only; `credit` is the line its licence asks for, shown
    wherever the file is shown."""

    entry = models.ForeignKey(LibraryEntry, on_delete=models.CASCADE, related_name="media")
    clinic = models.ForeignKey(Clinic, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=5, choices=MediaKind.choices)
    file = models.FileField(upload_to=_media_path, max_length=300)
    content_type = models.CharField(max_length=40)
    size = models.PositiveBigIntegerField()
    caption = models.CharField(max_length=120, blank=True)
    credit = models.CharField(max_length=200, blank=True)
    position = models.PositiveSmallIntegerField(default=0)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["position", "id"]
        indexes = [models.Index(fields=["clinic", "entry"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} of {self.entry}"

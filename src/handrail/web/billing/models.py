"""Claims out: the clinic's billing identity, charge master and payer contracts, claims built
from signed visits with their lines and audited state changes, and 837P batches.

Claims and batches keep what was sent: a claim's lines, diagnoses and providers are copied
from the visit when the claim is made, and a batch stores its X12 text, so exporting it again
gives the same bytes (005010X222A1; the writer is `handrail.claims.x837p`).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any, TypeVar

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from handrail.web.clinic.models import Clinic, Coverage, Patient, Payer
from handrail.web.visits.models import ServiceLine, Visit


class ClinicBilling(models.Model):
    """How the clinic bills (837P loops 1000A/1000B/2010AA): its legal name, group NPI, tax id,
    taxonomy and pay-to address, and the ids the clearinghouse gave the submitter and itself."""

    clinic = models.OneToOneField(Clinic, on_delete=models.CASCADE, related_name="billing")
    legal_name = models.CharField(max_length=60)
    group_npi = models.CharField("group NPI", max_length=10)
    tax_id = models.CharField("TIN (EIN)", max_length=10, help_text="Nine digits, e.g. 12-3456789")
    taxonomy = models.CharField(max_length=10, help_text="e.g. 225100000X physical therapist")
    address_line1 = models.CharField("pay-to address", max_length=55)
    address_line2 = models.CharField("address line 2", max_length=55, blank=True)
    city = models.CharField(max_length=30)
    state = models.CharField(max_length=2)
    zip_code = models.CharField("ZIP+4", max_length=9, help_text="Nine digits for the 837P")
    submitter_id = models.CharField(max_length=15, help_text="Assigned by the clearinghouse")
    submitter_name = models.CharField(max_length=60)
    contact_name = models.CharField(max_length=60)
    contact_phone = models.CharField(max_length=20)
    contact_email = models.CharField(max_length=80, blank=True)
    receiver_id = models.CharField(max_length=15, help_text="The clearinghouse's id")
    receiver_name = models.CharField(max_length=60)
    production = models.BooleanField(
        default=False, help_text="Send production files (ISA15 P) rather than test files (T)"
    )
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.legal_name} ({self.group_npi})"


class PayerBilling(models.Model):
    """How one payer is billed: its electronic payer id, the claim filing indicator (SBR09)
    and its claim rules beyond those on `Payer` (which holds the co-signature rule)."""

    payer = models.OneToOneField(Payer, on_delete=models.CASCADE, related_name="billing")
    electronic_id = models.CharField("electronic payer id", max_length=20)
    filing_indicator = models.CharField(
        max_length=2, help_text="SBR09: MB Medicare Part B, CI commercial, MC Medicaid, ..."
    )
    requires_referring_provider = models.BooleanField(
        default=True, help_text="Claims must name the certifying physician or NPP (2310A)"
    )
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.payer} ({self.electronic_id})"


class ClinicianBilling(models.Model):
    """A rendering clinician's taxonomy (the NPI is on the user)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="billing"
    )
    taxonomy = models.CharField(max_length=10, blank=True)


class DatedRow(models.Model):
    """A row that applies from a date to a date (open-ended when `effective_to` is empty, both
    days included): a charge, a contract, a contract's rate. Of several rows for the same
    thing, the one in effect on a day is the latest started that has not ended."""

    effective_from = models.DateField()
    effective_to = models.DateField(null=True, blank=True)

    class Meta:
        abstract = True

    def in_effect_on(self, on: date) -> bool:
        return self.effective_from <= on and (self.effective_to is None or self.effective_to >= on)

    @staticmethod
    def in_effect_filter(on: date) -> Q:
        """The rows in effect on `on`, as a filter (order by -effective_from, take the first)."""
        return Q(effective_from__lte=on) & (Q(effective_to__isnull=True) | Q(effective_to__gte=on))

    @staticmethod
    def dates_in_order(*, name: str, thing: str) -> models.CheckConstraint:
        """The constraint every dated row carries: it does not end before it starts."""
        return models.CheckConstraint(
            name=name,
            condition=Q(effective_to__isnull=True) | Q(effective_to__gte=F("effective_from")),
            violation_error_message=f"The {thing} ends before it starts.",
        )


Dated = TypeVar("Dated", bound=DatedRow)


def row_in_effect(rows: Iterable[Dated], on: date) -> Dated | None:
    """Of `rows` (one thing's dated rows: a query, or rows already read), the one in effect
    on `on`: the latest started among those in effect. A query is asked for that one row;
    rows already read are searched without a query."""
    if isinstance(rows, models.QuerySet):
        found: Dated | None = (
            rows.filter(DatedRow.in_effect_filter(on)).order_by("-effective_from").first()
        )
        return found
    best: Dated | None = None
    for row in rows:
        if row.in_effect_on(on) and (best is None or row.effective_from > best.effective_from):
            best = row
    return best


class ChargeEntry(DatedRow):
    """The clinic's charge for one unit of a code from a date (to a date, when set)."""

    clinic = models.ForeignKey(Clinic, on_delete=models.CASCADE, related_name="charges")
    code = models.CharField(max_length=5)
    charge = models.DecimalField(max_digits=9, decimal_places=2)

    class Meta:
        ordering = ["code", "-effective_from"]
        constraints = [
            models.UniqueConstraint(
                fields=["clinic", "code", "effective_from"], name="charge_one_per_code_start"
            ),
            models.CheckConstraint(
                name="charge_positive",
                condition=Q(charge__gt=0),
                violation_error_message="A charge must be more than 0.",
            ),
            DatedRow.dates_in_order(name="charge_dates_in_order", thing="charge"),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.charge} from {self.effective_from.isoformat()}"


class ContractKind(models.TextChoices):
    PERCENT_OF_MEDICARE = "percent", "Percent of the Medicare fee schedule"
    RATE_TABLE = "rates", "Rate per code"


class Contract(DatedRow):
    """What a payer agreed to pay: a percent of the Medicare fee schedule or a rate per code,
    from a date (to a date, when set)."""

    clinic = models.ForeignKey(Clinic, on_delete=models.CASCADE, related_name="contracts")
    payer = models.ForeignKey(Payer, on_delete=models.CASCADE, related_name="contracts")
    kind = models.CharField(max_length=10, choices=ContractKind.choices)
    percent = models.DecimalField(
        max_digits=6, decimal_places=2, null=True, blank=True, help_text="e.g. 110 for 110%"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["payer", "-effective_from"]
        constraints = [
            models.UniqueConstraint(
                fields=["payer", "effective_from"], name="contract_one_per_payer_start"
            ),
            models.CheckConstraint(
                name="contract_percent_when_percent",
                condition=(Q(kind="percent") & Q(percent__gt=0))
                | (Q(kind="rates") & Q(percent__isnull=True)),
                violation_error_message="A percent contract needs a percent above 0.",
            ),
            DatedRow.dates_in_order(name="contract_dates_in_order", thing="contract"),
        ]

    def __str__(self) -> str:
        return f"{self.payer}: {self.get_kind_display()} from {self.effective_from.isoformat()}"


class ContractRate(DatedRow):
    contract = models.ForeignKey(Contract, on_delete=models.CASCADE, related_name="rates")
    code = models.CharField(max_length=5)
    rate = models.DecimalField(max_digits=9, decimal_places=2)

    class Meta:
        ordering = ["code", "-effective_from"]
        constraints = [
            models.UniqueConstraint(
                fields=["contract", "code", "effective_from"], name="rate_one_per_code_start"
            ),
            models.CheckConstraint(
                name="rate_not_negative",
                condition=Q(rate__gte=0),
                violation_error_message="A rate cannot be negative.",
            ),
            DatedRow.dates_in_order(name="rate_dates_in_order", thing="rate"),
        ]


class CounterName(models.TextChoices):
    INTERCHANGE = "isa", "ISA13 interchange"
    GROUP = "gs", "GS06 group"
    TRANSACTION = "st", "ST02 transaction set"
    CLAIM = "claim", "CLM01 claim"


class ControlCounter(models.Model):
    """The last control number of one kind a clinic used; raised only under a row lock, so a
    number is never given twice (`handrail.web.billing.services.next_control`)."""

    clinic = models.ForeignKey(Clinic, on_delete=models.CASCADE, related_name="control_counters")
    name = models.CharField(max_length=5, choices=CounterName.choices)
    value = models.PositiveBigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["clinic", "name"], name="control_counter_unique"),
        ]


class Batch(models.Model):
    """One 837P file for one payer: the claims in it, its envelope control numbers and the
    exact text written."""

    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="batches")
    payer = models.ForeignKey(Payer, on_delete=models.PROTECT, related_name="batches")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    through = models.DateField(help_text="Claims for visits on or before this date")
    isa_control = models.PositiveIntegerField()
    gs_control = models.PositiveIntegerField()
    st_control = models.PositiveIntegerField()
    x12 = models.TextField()
    claim_count = models.PositiveIntegerField(default=0)
    total_charge = models.DecimalField(max_digits=12, decimal_places=2, default=0)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "batches"
        constraints = [
            models.UniqueConstraint(fields=["clinic", "isa_control"], name="batch_unique_isa"),
            models.UniqueConstraint(fields=["clinic", "gs_control"], name="batch_unique_gs"),
            models.UniqueConstraint(fields=["clinic", "st_control"], name="batch_unique_st"),
        ]

    def __str__(self) -> str:
        return f"Batch {self.isa_control:09d} {self.payer}"


class ClaimState(models.TextChoices):
    HELD = "held", "Held"
    READY = "ready", "Ready"
    SENT = "sent", "Sent"
    ACCEPTED = "accepted", "Accepted"
    REJECTED = "rejected", "Rejected"
    PAID = "paid", "Paid"
    PARTLY_PAID = "partly_paid", "Partly paid"
    DENIED = "denied", "Denied"
    APPEALED = "appealed", "Appealed"
    CLOSED = "closed", "Closed"


class ClaimFrequency(models.TextChoices):
    ORIGINAL = "1", "Original"
    REPLACEMENT = "7", "Replacement"
    VOID = "8", "Void"


class Claim(models.Model):
    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="claims")
    visit = models.ForeignKey(Visit, on_delete=models.PROTECT, related_name="claims")
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="claims")
    payer = models.ForeignKey(Payer, on_delete=models.PROTECT, related_name="claims")
    coverage = models.ForeignKey(
        Coverage, on_delete=models.PROTECT, null=True, blank=True, related_name="claims"
    )
    state = models.CharField(max_length=12, choices=ClaimState.choices, default=ClaimState.HELD)
    control_number = models.CharField("CLM01", max_length=20)
    frequency = models.CharField(
        max_length=1, choices=ClaimFrequency.choices, default=ClaimFrequency.ORIGINAL
    )
    replaces = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="replaced_by"
    )
    payer_claim_number = models.CharField(max_length=50, blank=True)
    total_charge = models.DecimalField(max_digits=10, decimal_places=2)
    batch = models.ForeignKey(
        Batch, on_delete=models.PROTECT, null=True, blank=True, related_name="claims"
    )
    # What the claim says, copied from the visit and its plan when the claim was made.
    place_of_service = models.CharField(max_length=2)
    diagnoses = models.JSONField(
        default=list, help_text="ICD-10-CM without the dot, principal first"
    )
    rendering = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="claims_rendered"
    )
    referring_name = models.CharField(max_length=200, blank=True)
    referring_npi = models.CharField(max_length=10, blank=True)
    prior_authorization = models.CharField(max_length=60, blank=True)
    # The scrub: error findings that hold the claim, warnings a biller acknowledges.
    hold_reasons = models.JSONField(default=list, blank=True)
    warnings = models.JSONField(default=list, blank=True)
    warnings_acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    warnings_acknowledged_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["clinic", "state"]), models.Index(fields=["batch"])]
        constraints = [
            models.UniqueConstraint(
                fields=["clinic", "control_number"], name="claim_unique_control_number"
            ),
            models.UniqueConstraint(
                fields=["visit", "payer"],
                condition=Q(frequency="1"),
                name="claim_one_original_per_visit_payer",
                violation_error_message="This visit already has a claim for this payer.",
            ),
            models.CheckConstraint(
                name="claim_replacement_names_payer_claim",
                condition=Q(frequency="1") | ~Q(payer_claim_number=""),
                violation_error_message="A replacement or void needs the payer's claim number.",
            ),
        ]

    def __str__(self) -> str:
        return f"Claim {self.control_number} ({self.get_state_display()})"


class ClaimLine(models.Model):
    claim = models.ForeignKey(Claim, on_delete=models.CASCADE, related_name="lines")
    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="+")
    number = models.PositiveSmallIntegerField()
    code = models.CharField(max_length=5)
    modifiers = models.JSONField(default=list)
    units = models.PositiveSmallIntegerField()
    charge = models.DecimalField(max_digits=10, decimal_places=2)
    service_date = models.DateField()
    diagnosis_pointers = models.JSONField(default=list)
    line_control_number = models.CharField("REF*6R", max_length=30)
    visit_line = models.ForeignKey(
        ServiceLine, on_delete=models.SET_NULL, null=True, blank=True, related_name="claim_lines"
    )

    class Meta:
        ordering = ["claim", "number"]
        constraints = [
            models.UniqueConstraint(fields=["claim", "number"], name="claim_line_unique_number"),
            models.UniqueConstraint(
                fields=["clinic", "line_control_number"], name="claim_line_unique_control"
            ),
            models.CheckConstraint(
                name="claim_line_number_positive",
                condition=Q(number__gte=1),
                violation_error_message="Line numbers start at 1.",
            ),
            models.CheckConstraint(
                name="claim_line_units_positive",
                condition=Q(units__gte=1),
                violation_error_message="A line bills at least 1 unit.",
            ),
            models.CheckConstraint(
                name="claim_line_charge_positive",
                condition=Q(charge__gt=0),
                violation_error_message="A line's charge must be more than 0.",
            ),
        ]

    def __str__(self) -> str:
        mods = ":".join(self.modifiers)
        return f"{self.code}{':' + mods if mods else ''} x{self.units}"


class ClaimEvent(models.Model):
    """One change of a claim's state: append-only (never edited, never deleted)."""

    claim = models.ForeignKey(Claim, on_delete=models.PROTECT, related_name="events")
    from_state = models.CharField(max_length=12, choices=ClaimState.choices, blank=True)
    to_state = models.CharField(max_length=12, choices=ClaimState.choices)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    at = models.DateTimeField(auto_now_add=True)
    reason = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["at", "id"]

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None and not self._state.adding:
            raise ValueError("Claim events are append-only: an event is never changed.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise ValueError("Claim events are append-only: an event is never deleted.")

    def __str__(self) -> str:
        return f"{self.claim_id}: {self.from_state or '-'} -> {self.to_state}"

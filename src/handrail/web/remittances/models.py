"""Posted remittances (835): the file, each payment in it, each claim's and line's payment
and adjustments, and the provider-level adjustments. Rows are written once, by
`services.remittance_post`, in one transaction; a reversal is a new posting with negative
amounts (never an edit), so a claim's ledger is the sum of its postings."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from handrail.web.billing.models import Claim, ClaimLine
from handrail.web.clinic.models import Clinic


class Remittance(models.Model):
    """One posted 835 file. The digest (SHA-256 of the file with surrounding whitespace
    removed) makes posting the same file twice impossible."""

    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="remittances")
    digest = models.CharField(max_length=64)
    filename = models.CharField(max_length=200, blank=True)
    text = models.TextField()
    posted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    posted_at = models.DateTimeField(auto_now_add=True)
    claims_matched = models.PositiveIntegerField()
    lines_posted = models.PositiveIntegerField()
    paid_total = models.DecimalField(max_digits=12, decimal_places=2)
    adjustment_total = models.DecimalField(max_digits=12, decimal_places=2)
    provider_adjustment_total = models.DecimalField(max_digits=12, decimal_places=2)

    class Meta:
        ordering = ["-posted_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["clinic", "digest"], name="remittance_unique_file")
        ]

    def __str__(self) -> str:
        return f"Remittance {self.pk} ({self.paid_total})"


class PaymentAdvice(models.Model):
    """One transaction set of the file (BPR/TRN): a payment and its trace number (the check
    or EFT number), unique per clinic so a re-sent payment is refused."""

    remittance = models.ForeignKey(Remittance, on_delete=models.PROTECT, related_name="advices")
    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="+")
    trace_number = models.CharField(max_length=50)
    payer_name = models.CharField(max_length=60, blank=True)
    payee_npi = models.CharField(max_length=10)
    payment_date = models.DateField(null=True, blank=True)
    payment_method = models.CharField(max_length=3, blank=True)
    total_paid = models.DecimalField(max_digits=12, decimal_places=2)

    class Meta:
        ordering = ["remittance", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["clinic", "trace_number"], name="payment_advice_unique_trace"
            )
        ]

    def __str__(self) -> str:
        return f"Payment {self.trace_number} ({self.total_paid})"


class ClaimPayment(models.Model):
    """One CLP loop posted to a claim. `status` is CLP02 (1 primary, 2 secondary, 4 denied,
    22 reversal of a previous payment, ...)."""

    advice = models.ForeignKey(PaymentAdvice, on_delete=models.PROTECT, related_name="claims")
    claim = models.ForeignKey(Claim, on_delete=models.PROTECT, related_name="payments")
    status = models.CharField(max_length=2)
    charge = models.DecimalField(max_digits=12, decimal_places=2)
    paid = models.DecimalField(max_digits=12, decimal_places=2)
    patient_responsibility = models.DecimalField(max_digits=12, decimal_places=2)
    payer_claim_number = models.CharField(max_length=50, blank=True)
    segment = models.PositiveIntegerField(help_text="Position of the CLP segment in the file")

    class Meta:
        ordering = ["advice", "id"]

    @property
    def is_reversal(self) -> bool:
        return self.status == "22"

    def __str__(self) -> str:
        return f"{self.claim_id}: {self.paid} (CLP02 {self.status})"


class LinePayment(models.Model):
    """One SVC loop posted to a claim line, matched by its line item control number (REF*6R)
    or by code, modifiers and date (`matched_by`)."""

    claim_payment = models.ForeignKey(ClaimPayment, on_delete=models.PROTECT, related_name="lines")
    line = models.ForeignKey(ClaimLine, on_delete=models.PROTECT, related_name="payments")
    charge = models.DecimalField(max_digits=12, decimal_places=2)
    paid = models.DecimalField(max_digits=12, decimal_places=2)
    allowed = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    units = models.DecimalField(max_digits=7, decimal_places=2)
    remarks = models.JSONField(default=list, blank=True)
    matched_by = models.CharField(max_length=10)
    segment = models.PositiveIntegerField()

    class Meta:
        ordering = ["claim_payment", "id"]

    def __str__(self) -> str:
        return f"line {self.line_id}: {self.paid}"


class Adjustment(models.Model):
    """One CAS triplet: at claim level (line_payment empty) or on a line."""

    claim_payment = models.ForeignKey(
        ClaimPayment, on_delete=models.PROTECT, related_name="adjustments"
    )
    line_payment = models.ForeignKey(
        LinePayment, on_delete=models.PROTECT, null=True, blank=True, related_name="adjustments"
    )
    group = models.CharField(max_length=2)
    reason = models.CharField(max_length=5)
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    quantity = models.DecimalField(max_digits=9, decimal_places=2, null=True, blank=True)

    class Meta:
        ordering = ["claim_payment", "id"]

    def __str__(self) -> str:
        return f"{self.group}-{self.reason} {self.amount}"


class ProviderAdjustment(models.Model):
    """One PLB reason/amount pair: positive withholds from the payment (e.g. WO overpayment
    recovery), negative adds to it (e.g. L6 interest)."""

    advice = models.ForeignKey(
        PaymentAdvice, on_delete=models.PROTECT, related_name="provider_adjustments"
    )
    reason = models.CharField(max_length=2)
    reference = models.CharField(max_length=50, blank=True)
    amount = models.DecimalField(max_digits=12, decimal_places=2)

    class Meta:
        ordering = ["advice", "id"]

    def __str__(self) -> str:
        return f"PLB {self.reason} {self.amount}"


class DenialReport(models.Model):
    """An anonymous denial report (handrail.claims.patterns): codes, payer type, reason and
    what fixed it; never patient data, and no link to the claim. The clinic is kept only as a
    keyed hash (HMAC-SHA256 of its group NPI), as is the line it came from (so a line is
    reported once)."""

    clinic_key = models.CharField(max_length=64)
    line_key = models.CharField(max_length=64, unique=True)
    code = models.CharField(max_length=5)
    modifiers = models.JSONField(default=list, blank=True)
    payer_kind = models.CharField(max_length=20)
    group = models.CharField(max_length=2)
    reason = models.CharField(max_length=5)
    remarks = models.JSONField(default=list, blank=True)
    fix = models.CharField(max_length=30)
    reported_on = models.DateField(auto_now_add=True)

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["code", "payer_kind", "reason"])]

    def __str__(self) -> str:
        return f"{self.code} {self.payer_kind} {self.group}-{self.reason}: {self.fix}"


class HubDeliveryStatus(models.TextChoices):
    WAITING = "waiting", "Waiting"
    SENDING = "sending", "Sending"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed"


class HubDelivery(models.Model):
    """A report on its way to the pattern hub (PATTERN_HUB_URL): made in the same transaction
    as the report, so a report is never lost, and sent by the background worker
    (handrail.web.remittances.hub), never in the biller's request."""

    report = models.OneToOneField(
        DenialReport, on_delete=models.CASCADE, related_name="hub_delivery"
    )
    status = models.CharField(
        max_length=10, choices=HubDeliveryStatus.choices, default=HubDeliveryStatus.WAITING
    )
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField()
    last_error = models.CharField(max_length=500, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    sending_started_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["status", "next_attempt_at"])]

    def __str__(self) -> str:
        return f"report #{self.report_id} to the hub: {self.status}"


class HubPatternCache(models.Model):
    """The hub's aggregates as the worker last fetched them, per hub address: the worklist
    reads them from here and never calls the hub itself."""

    hub_url = models.CharField(max_length=300, unique=True)
    patterns = models.JSONField(default=list, blank=True)
    fetched_at = models.DateTimeField(null=True, blank=True)  # last successful fetch
    attempted_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True, default="")

    def __str__(self) -> str:
        return f"{self.hub_url} fetched {self.fetched_at}"

"""The rows of the CSV exports: claims (by date of service), payments and adjustments (by the
payment's date, BPR16, or the day the file was posted when it has none), within the user's
clinic, filtered by payer and claim state.

Cells a spreadsheet would run as a formula (OWASP "CSV Injection") are written with a leading
apostrophe, as the access-history export does (handrail.web.clinic.views); amounts are written
as plain numbers (a negative amount of a reversal stays a number)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date
from decimal import Decimal

from django.db.models import DecimalField, OuterRef, Q, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce

from handrail.claims.reasons import ReasonKind, reason_table
from handrail.web.billing.models import Claim
from handrail.web.clinic.models import Payer
from handrail.web.remittances.models import Adjustment, ClaimPayment

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def text(value: object) -> str:
    shown = "" if value is None else str(value)
    return "'" + shown if shown.startswith(FORMULA_START) else shown


def amount(value: Decimal | None) -> str:
    return "" if value is None else f"{value:.2f}"


def day(value: date | None) -> str:
    return "" if value is None else value.isoformat()


@dataclass(frozen=True)
class Filters:
    clinic_id: int
    start: date | None = None
    end: date | None = None
    payer: Payer | None = None
    state: str = ""


CLAIM_HEADER = (
    "claim_id",
    "control_number",
    "frequency",
    "replaces_payer_claim_number",
    "state",
    "patient_id",
    "patient",
    "date_of_service",
    "payer",
    "rendering_npi",
    "referring_npi",
    "diagnoses",
    "lines",
    "total_charge",
    "paid",
    "adjustments",
    "patient_responsibility",
    "batch_isa_control",
    "created_utc",
)
PAYMENT_HEADER = (
    "payment_id",
    "posted_utc",
    "payment_date",
    "trace_number",
    "payer",
    "claim_id",
    "control_number",
    "payer_claim_number",
    "patient_id",
    "patient",
    "date_of_service",
    "claim_status_code",
    "charge",
    "paid",
    "patient_responsibility",
    "claim_state",
)
ADJUSTMENT_HEADER = (
    "adjustment_id",
    "posted_utc",
    "payment_date",
    "trace_number",
    "claim_id",
    "control_number",
    "patient_id",
    "patient",
    "line_number",
    "code",
    "modifiers",
    "date_of_service",
    "group",
    "reason",
    "reason_meaning",
    "amount",
    "quantity",
)


def _sum_of(queryset: QuerySet[ClaimPayment] | QuerySet[Adjustment], field: str) -> Subquery:
    return Subquery(
        queryset.order_by()
        .values("claim_id" if queryset.model is ClaimPayment else "claim_payment__claim_id")
        .annotate(total=Sum(field))
        .values("total")[:1],
        output_field=DecimalField(max_digits=12, decimal_places=2),
    )


def claim_rows(filters: Filters) -> Iterator[list[str]]:
    claims = Claim.objects.filter(clinic_id=filters.clinic_id)
    if filters.start is not None:
        claims = claims.filter(visit__date__gte=filters.start)
    if filters.end is not None:
        claims = claims.filter(visit__date__lte=filters.end)
    if filters.payer is not None:
        claims = claims.filter(payer=filters.payer)
    if filters.state:
        claims = claims.filter(state=filters.state)
    zero = Value(Decimal("0"), output_field=DecimalField(max_digits=12, decimal_places=2))
    payments = ClaimPayment.objects.filter(claim_id=OuterRef("pk"))
    adjustments = Adjustment.objects.filter(claim_payment__claim_id=OuterRef("pk"))
    claims = (
        claims.annotate(
            paid_sum=Coalesce(_sum_of(payments, "paid"), zero),
            patient_sum=Coalesce(_sum_of(payments, "patient_responsibility"), zero),
            adjusted_sum=Coalesce(_sum_of(adjustments, "amount"), zero),
        )
        .select_related("patient", "payer", "visit", "rendering", "batch")
        .prefetch_related("lines")
        .order_by("visit__date", "pk")
    )
    for c in claims:
        lines = " ".join(
            f"{line.code}{''.join(':' + m for m in line.modifiers)}x{line.units}"
            for line in c.lines.all()
        )
        yield [
            str(c.pk),
            text(c.control_number),
            c.frequency,
            text(c.payer_claim_number),
            c.state,
            str(c.patient_id),
            text(str(c.patient)),
            day(c.visit.date),
            text(c.payer.name),
            text(c.rendering.npi),
            text(c.referring_npi),
            text(" ".join(c.diagnoses)),
            text(lines),
            amount(c.total_charge),
            amount(c.paid_sum),
            amount(c.adjusted_sum),
            amount(c.patient_sum),
            f"{c.batch.isa_control:09d}" if c.batch is not None else "",
            c.created_at.astimezone(UTC).isoformat(timespec="seconds"),
        ]


def _by_payment_date(filters: Filters, prefix: str) -> Q:
    """Payments (or adjustments) in the date range: by the payment's date, or the day the file
    was posted when the file gave none."""
    q = Q()
    paid_on = f"{prefix}advice__payment_date"
    posted_on = f"{prefix}advice__remittance__posted_at__date"
    if filters.start is not None:
        q &= Q(**{f"{paid_on}__gte": filters.start}) | Q(
            **{f"{paid_on}__isnull": True, f"{posted_on}__gte": filters.start}
        )
    if filters.end is not None:
        q &= Q(**{f"{paid_on}__lte": filters.end}) | Q(
            **{f"{paid_on}__isnull": True, f"{posted_on}__lte": filters.end}
        )
    return q


def _claim_filters(filters: Filters, prefix: str) -> Q:
    q = Q(**{f"{prefix}claim__clinic_id": filters.clinic_id})
    if filters.payer is not None:
        q &= Q(**{f"{prefix}claim__payer": filters.payer})
    if filters.state:
        q &= Q(**{f"{prefix}claim__state": filters.state})
    return q


def payment_rows(filters: Filters) -> Iterator[list[str]]:
    payments = (
        ClaimPayment.objects.filter(_claim_filters(filters, ""), _by_payment_date(filters, ""))
        .select_related("advice", "advice__remittance", "claim", "claim__patient", "claim__visit")
        .order_by("advice__remittance__posted_at", "pk")
    )
    for p in payments:
        advice = p.advice
        yield [
            str(p.pk),
            advice.remittance.posted_at.astimezone(UTC).isoformat(timespec="seconds"),
            day(advice.payment_date),
            text(advice.trace_number),
            text(advice.payer_name),
            str(p.claim_id),
            text(p.claim.control_number),
            text(p.payer_claim_number),
            str(p.claim.patient_id),
            text(str(p.claim.patient)),
            day(p.claim.visit.date),
            text(p.status),
            amount(p.charge),
            amount(p.paid),
            amount(p.patient_responsibility),
            p.claim.state,
        ]


def adjustment_rows(filters: Filters) -> Iterator[list[str]]:
    table = reason_table()
    adjustments = (
        Adjustment.objects.filter(
            _claim_filters(filters, "claim_payment__"),
            _by_payment_date(filters, "claim_payment__"),
        )
        .select_related(
            "claim_payment__advice__remittance",
            "claim_payment__claim__patient",
            "claim_payment__claim__visit",
            "line_payment__line",
        )
        .order_by("claim_payment__advice__remittance__posted_at", "claim_payment_id", "pk")
    )
    for a in adjustments:
        payment = a.claim_payment
        advice = payment.advice
        claim = payment.claim
        line = a.line_payment.line if a.line_payment is not None else None
        yield [
            str(a.pk),
            advice.remittance.posted_at.astimezone(UTC).isoformat(timespec="seconds"),
            day(advice.payment_date),
            text(advice.trace_number),
            str(claim.pk),
            text(claim.control_number),
            str(claim.patient_id),
            text(str(claim.patient)),
            str(line.number) if line is not None else "",
            text(line.code) if line is not None else "",
            text(":".join(line.modifiers)) if line is not None else "",
            day(line.service_date if line is not None else claim.visit.date),
            text(a.group),
            text(a.reason),
            text(table.explain(ReasonKind.CARC, a.reason).meaning),
            amount(a.amount),
            "" if a.quantity is None else f"{a.quantity}",
        ]

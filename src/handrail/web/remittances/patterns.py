"""Denial pattern reports on this server: a biller reports a worked denial anonymously, and
the worklist shows the aggregate for a line's code, payer type and reason once it passes the
threshold of handrail.claims.patterns (5 reports from 3 clinics). With a pattern hub
configured (PATTERN_HUB_URL), each report is also queued for the hub and the worklist shows the
hub's aggregates (handrail.web.remittances.hub); with none, or while the hub's figures are
unavailable, the aggregate is over the reports of the clinics on this server, counted the
same way."""

from __future__ import annotations

import hashlib
import hmac

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from handrail.claims import patterns as p
from handrail.web.audit.models import AuditAction
from handrail.web.audit.services import audit_record
from handrail.web.billing.models import ClinicBilling
from handrail.web.clinic.models import PayerType, User
from handrail.web.remittances.hub import hub_delivery_queue
from handrail.web.remittances.models import DenialReport
from handrail.web.remittances.selectors import DenialRow

PAYER_KINDS = {
    PayerType.MEDICARE: p.PayerKind.MEDICARE,
    PayerType.MEDICARE_ADVANTAGE: p.PayerKind.MEDICARE_ADVANTAGE,
    PayerType.MEDICAID: p.PayerKind.MEDICAID,
    PayerType.COMMERCIAL: p.PayerKind.COMMERCIAL,
    PayerType.WORKERS_COMP: p.PayerKind.WORKERS_COMP,
}


def pattern_secret() -> bytes:
    """The server's key for the clinic and line hashes, derived from SECRET_KEY so that it is
    never stored next to the reports."""
    return hashlib.sha256(f"handrail.patterns:{settings.SECRET_KEY}".encode()).digest()


def _clinic_identity(clinic_id: int) -> str:
    billing = ClinicBilling.objects.filter(clinic_id=clinic_id).first()
    return billing.group_npi if billing else f"clinic:{clinic_id}"


def line_key(line_id: int) -> str:
    """The claim line as a report knows it (a line is reported once): a keyed hash, so the
    report cannot be traced back to the claim without the server's secret. Also the report's
    id at the hub."""
    return hmac.new(pattern_secret(), f"line:{line_id}".encode(), hashlib.sha256).hexdigest()


def payer_kind(payer_type: str) -> p.PayerKind:
    return PAYER_KINDS.get(PayerType(payer_type), p.PayerKind.OTHER)


@transaction.atomic
def denial_report_create(*, user: User, row: DenialRow, fix: str) -> DenialReport:
    """Report the worked line; ValidationError names the field (a line is reported once)."""
    secret = pattern_secret()
    reason = row.reason_key
    group = next((g for g, r in row.adjustments if r == reason), "CO")
    try:
        report = p.make_report(
            code=row.line.code,
            modifiers=row.line.modifiers,
            payer_kind=payer_kind(row.claim.payer.type).value,
            group=group,
            reason=reason,
            remarks=row.remarks[:5],
            fix=fix,
            clinic_key=p.clinic_key(secret, _clinic_identity(row.claim.clinic_id)),
        )
    except p.ReportError as error:
        raise ValidationError({error.field_name: error.message}) from None
    try:
        with transaction.atomic():
            saved = DenialReport.objects.create(
                clinic_key=report.clinic_key,
                line_key=line_key(row.line.pk),
                code=report.code,
                modifiers=list(report.modifiers),
                payer_kind=report.payer_kind.value,
                group=report.group,
                reason=report.reason,
                remarks=list(report.remarks),
                fix=report.fix.value,
            )
    except IntegrityError:
        raise ValidationError({"line": "This line was already reported."}) from None
    hub_delivery_queue(report=saved)
    audit_record(
        user=user, action=AuditAction.CREATE, obj=saved, patient=None,
        detail="anonymous denial report",
    )  # fmt: skip
    return saved


def _as_report(row: DenialReport) -> p.DenialReport:
    return p.DenialReport(
        code=row.code,
        modifiers=tuple(row.modifiers),
        payer_kind=p.PayerKind(row.payer_kind),
        group=row.group,
        reason=row.reason,
        remarks=tuple(row.remarks),
        fix=p.Fix(row.fix),
        clinic_key=row.clinic_key,
    )


def reported_lines(line_ids: list[int]) -> dict[int, DenialReport]:
    """The reports made of these claim lines, by line id, with their hub delivery."""
    keys = {line_key(line_id): line_id for line_id in line_ids}
    rows = DenialReport.objects.filter(line_key__in=list(keys)).select_related("hub_delivery")
    return {keys[row.line_key]: row for row in rows}


def visible_patterns() -> list[p.Pattern]:
    """Every aggregate that passes the threshold."""
    return p.aggregate(_as_report(row) for row in DenialReport.objects.all())


def pattern_for(code: str, kind: str, reason: str) -> p.Pattern | None:
    """The shown aggregate for one code, payer type and reason (group-CARC), if any."""
    group, _, carc = reason.partition("-")
    rows = DenialReport.objects.filter(code=code, payer_kind=kind, group=group, reason=carc)
    found = p.aggregate(_as_report(row) for row in rows)
    return found[0] if found else None

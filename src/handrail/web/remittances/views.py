"""The remittance pages: upload an 835, the list of posted files, and the denials worklist
with its corrected-claim and appeal-letter actions."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages as flash
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from handrail.claims.patterns import MIN_CLINICS, MIN_REPORTS, Fix, Pattern
from handrail.web.audit.reads import audit_read
from handrail.web.billing.claims import claim_correct
from handrail.web.billing.models import ClaimFrequency
from handrail.web.clinic.models import User
from handrail.web.clinic.permissions import clinic_id_of
from handrail.web.clinic.views import current_user
from handrail.web.remittances.appeals import appeal_letter_make
from handrail.web.remittances.hub import HubView, hub_view
from handrail.web.remittances.models import (
    DenialReport,
    HubDelivery,
    HubDeliveryStatus,
    Remittance,
)
from handrail.web.remittances.patterns import (
    denial_report_create,
    pattern_for,
    payer_kind,
    reported_lines,
    visible_patterns,
)
from handrail.web.remittances.selectors import (
    AGING_BUCKETS,
    DenialRow,
    can_work_denials,
    denial_row,
    denial_rows,
)
from handrail.web.remittances.services import (
    RemittanceRefusedError,
    can_post_remittances,
    remittance_post,
)


@require_http_methods(["GET", "POST"])
def remittance_list_view(request: HttpRequest) -> HttpResponse:
    """Posted files (totals and trace numbers, no patient data) and the upload form."""
    user = current_user(request)
    if not can_post_remittances(user):
        raise PermissionDenied("Remittances are for billers and clinic admins.")
    refused: RemittanceRefusedError | None = None
    status = 200
    if request.method == "POST":
        upload = request.FILES.get("file")
        if upload is None:
            refused = RemittanceRefusedError(["file: choose the 835 file to upload"])
        elif upload.size is not None and upload.size > settings.REMITTANCE_MAX_BYTES:
            refused = RemittanceRefusedError(
                [
                    f"file: larger than {settings.REMITTANCE_MAX_BYTES:,} bytes "
                    "(REMITTANCE_MAX_BYTES); nothing was posted"
                ],
                status=413,
            )
        else:
            try:
                text = upload.read().decode("utf-8")
                posted = remittance_post(user=user, text=text, filename=upload.name or "")
            except UnicodeDecodeError:
                refused = RemittanceRefusedError(["file: not UTF-8 (or ASCII) text"])
            except RemittanceRefusedError as error:
                refused = error
            else:
                flash.success(
                    request,
                    f"Posted {posted.claims_matched} claim(s), {posted.lines_posted} line(s): "
                    f"paid {posted.paid_total:.2f}, adjustments {posted.adjustment_total:.2f}, "
                    f"provider adjustments {posted.provider_adjustment_total:.2f}.",
                )
                return redirect("remittances:list")
        status = refused.status if refused is not None and refused.status in (409, 413) else 422
    rows = (
        Remittance.objects.filter(clinic_id=clinic_id_of(user))
        .select_related("posted_by")
        .prefetch_related("advices")[:100]
    )
    return render(
        request,
        "remittances/list.html",
        {"nav": "remittances", "rows": rows, "refused": refused},
        status=status,
    )


# --- the denials worklist -------------------------------------------------------------------


def _require_denials(user: User) -> None:
    if not can_work_denials(user):
        raise PermissionDenied("The denials worklist is for billers and clinic admins.")


@audit_read("denials worklist")
@require_GET
def denial_list_view(request: HttpRequest) -> HttpResponse:
    """Denied, short-paid and underpaid lines, oldest first, with the reason codes explained,
    the likely cause read from the visit and the fix; filter by aging bucket."""
    user = current_user(request)
    _require_denials(user)
    bucket = request.GET.get("status", "")
    buckets = [label for _low, _high, label in AGING_BUCKETS]
    if bucket not in buckets:
        bucket = ""
    everything = denial_rows(user=user)
    counts = {label: sum(1 for row in everything if row.bucket == label) for label in buckets}
    shown = [row for row in everything if not bucket or row.bucket == bucket]
    hub = hub_view()
    reports = reported_lines([row.line.pk for row in shown])
    # One pattern lookup per code, payer type and reason shown, not one per line.
    patterns: dict[tuple[str, str, str], Pattern | None] = {}
    rows = []
    for row in shown:
        key = (row.line.code, payer_kind(row.claim.payer.type).value, _reason(row))
        if key not in patterns:
            patterns[key] = _pattern(hub, row)
        rows.append((row, patterns[key], _report_state(reports.get(row.line.pk), hub is not None)))
    return render(
        request,
        "remittances/denials.html",
        {
            "nav": "denials",
            "rows": rows,
            "bucket": bucket,
            "buckets": buckets,
            "counts": counts,
            "total": len(everything),
            "hub": hub,
            "fixes": [(fix.value, fix.value.replace("_", " ")) for fix in Fix],
        },
    )


def _pattern(hub: HubView | None, row: DenialRow) -> Pattern | None:
    """The shown aggregate for the line: the hub's when its figures are available, else this
    server's own reports'."""
    kind = payer_kind(row.claim.payer.type).value
    if hub is not None and hub.available:
        return hub.patterns.get((row.line.code, kind, _reason(row)))
    return pattern_for(row.line.code, kind, _reason(row))


def _report_state(report: DenialReport | None, hub_configured: bool) -> str:
    """What became of the line's anonymous report: empty when it was not reported."""
    if report is None:
        return ""
    fix = report.fix.replace("_", " ")
    try:
        delivery: HubDelivery | None = report.hub_delivery
    except HubDelivery.DoesNotExist:
        delivery = None
    if delivery is None:
        return f"Reported anonymously ({fix})" + (
            "; not sent to the hub (reported before a hub was configured)."
            if hub_configured
            else "."
        )
    if delivery.status == HubDeliveryStatus.SENT:
        return f"Reported anonymously ({fix}); sent to the hub {delivery.sent_at:%Y-%m-%d %H:%M}."
    if delivery.status == HubDeliveryStatus.FAILED:
        why = delivery.last_error.rstrip(".")
        return (
            f"Reported anonymously ({fix}); not sent: {why}. A clinic admin can queue it again "
            "(manage.py pattern_hub retry)."
        )
    waiting = f"Reported anonymously ({fix}); waiting to be sent to the hub"
    if delivery.last_error:
        when = timezone.localtime(delivery.next_attempt_at)
        return f"{waiting} (next try {when:%H:%M}; {delivery.last_error})."
    return f"{waiting}."


def _reason(row: DenialRow) -> str:
    group = next((g for g, r in row.adjustments if r == row.reason_key), "CO")
    return f"{group}-{row.reason_key}"


def _row_or_404(user: User, claim_id: int, line_number: int) -> DenialRow:
    row = denial_row(user=user, claim_id=claim_id, line_number=line_number)
    if row is None:
        raise Http404("No denied or underpaid line here.")
    return row


@require_POST
def denial_correct_view(request: HttpRequest, claim_id: int, line_number: int) -> HttpResponse:
    """One click: the corrected claim (frequency 7) rebuilt from the visit, through billing's
    claim_correct (which closes the original and audits both)."""
    user = current_user(request)
    _require_denials(user)
    row = _row_or_404(user, claim_id, line_number)
    try:
        new = claim_correct(user=user, claim=row.claim, frequency=ClaimFrequency.REPLACEMENT)
    except ValidationError as error:
        flash.error(request, "; ".join(error.messages))
    else:
        flash.success(
            request,
            f"Corrected claim {new.control_number} (replaces {row.claim.control_number}, payer "
            f"claim {new.payer_claim_number}) is {new.get_state_display().lower()}.",
        )
    return redirect("remittances:denials")


@require_POST
def denial_appeal_view(request: HttpRequest, claim_id: int, line_number: int) -> HttpResponse:
    """The appeal letter PDF with the signed note attached; the claim becomes appealed."""
    user = current_user(request)
    _require_denials(user)
    row = _row_or_404(user, claim_id, line_number)
    try:
        pdf = appeal_letter_make(user=user, row=row, argument=request.POST.get("argument", ""))
    except ValidationError as error:
        flash.error(request, "; ".join(error.messages))
        return redirect("remittances:denials")
    response = HttpResponse(pdf, content_type="application/pdf")
    name = f"appeal-{row.claim.control_number}-{row.line.number}.pdf"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@require_POST
def denial_report_view(request: HttpRequest, claim_id: int, line_number: int) -> HttpResponse:
    """Report the line's denial anonymously (codes, payer type, reason, what fixed it)."""
    user = current_user(request)
    _require_denials(user)
    row = _row_or_404(user, claim_id, line_number)
    try:
        denial_report_create(user=user, row=row, fix=request.POST.get("fix", ""))
    except ValidationError as error:
        flash.error(request, "; ".join(error.messages))
    else:
        flash.success(request, "Reported anonymously: no patient or claim data was kept.")
    return redirect("remittances:denials")


@require_GET
def pattern_list_view(request: HttpRequest) -> HttpResponse:
    """Denial patterns with enough reports (no patient data: counts of anonymous reports)."""
    user = current_user(request)
    _require_denials(user)
    hub = hub_view()
    return render(
        request,
        "remittances/patterns.html",
        {"nav": "denials", "patterns": _patterns(hub), "min_reports": MIN_REPORTS,
         "min_clinics": MIN_CLINICS, "hub": hub},
    )  # fmt: skip


def _patterns(hub: HubView | None) -> list[Pattern]:
    if hub is not None and hub.available:
        return sorted(
            hub.patterns.values(), key=lambda p: (-p.reports, p.code, p.payer_kind, p.reason)
        )
    return visible_patterns()

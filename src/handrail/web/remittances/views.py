"""The remittance pages: upload an 835 and the list of posted files."""

from __future__ import annotations

from django.contrib import messages as flash
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from handrail.web.clinic.permissions import clinic_id_of
from handrail.web.clinic.views import current_user
from handrail.web.remittances.models import Remittance
from handrail.web.remittances.services import (
    MAX_FILE_CHARS,
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
        elif upload.size is not None and upload.size > MAX_FILE_CHARS:
            refused = RemittanceRefusedError([f"file: larger than {MAX_FILE_CHARS:,} bytes"])
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
                    f"paid {posted.paid_total}, adjustments {posted.adjustment_total}, "
                    f"provider adjustments {posted.provider_adjustment_total}.",
                )
                return redirect("remittances:list")
        status = 409 if refused is not None and refused.status == 409 else 422
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

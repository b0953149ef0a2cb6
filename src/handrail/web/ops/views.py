"""The data status page (clinic admins only; 403 for every other role): the official-data
releases the rules read, and imports of new ones. Thin: parse, call one service, render."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from handrail.web.clinic.permissions import can_administer, require
from handrail.web.clinic.views import current_user
from handrail.web.forms import form_apply_errors
from handrail.web.ops.data_services import (
    NOT_ADMIN,
    data_release_list,
    official_data_import,
)
from handrail.web.ops.forms import DataImportForm

INVALID_STATUS = 422
_POST_FIELDS = {"csrfmiddlewaretoken", "kind", "release", "effective"}
_FILE_FIELDS = {"file"}


@require_http_methods(["GET", "POST"])
def data_status_view(request: HttpRequest) -> HttpResponse:
    user = current_user(request)
    require(can_administer(user), NOT_ADMIN)
    form = DataImportForm(request.POST, request.FILES) if request.method == "POST" else None
    form = form or DataImportForm()
    status = 200
    if request.method == "POST":
        unknown = sorted((set(request.POST) - _POST_FIELDS) | (set(request.FILES) - _FILE_FIELDS))
        if unknown:
            form.add_error(
                None, f"{unknown[0]}: unknown field; send kind, file, release and effective."
            )
        elif form.is_valid():
            try:
                summary = official_data_import(
                    user=user,
                    kind=form.cleaned_data["kind"],
                    uploads=form.cleaned_data["file"],
                    release=form.cleaned_data["release"].strip(),
                    effective=form.cleaned_data["effective"],
                )
            except ValidationError as exc:
                form_apply_errors(form, exc)
            else:
                verb = "Replaced" if summary.replaced else "Imported"
                until = summary.effective_to.isoformat() if summary.effective_to else None
                messages.success(
                    request,
                    f"{verb} {summary.kind} release {summary.label}: {summary.rows:,} rows from "
                    f"{summary.file_name}, effective {summary.effective_from.isoformat()} to "
                    f"{until or 'further notice'}.",
                )
                for note in summary.messages[1:]:
                    messages.info(request, note)
                return redirect("ops:data-status")
        status = INVALID_STATUS
    return render(
        request,
        "ops/data_status.html",
        {"releases": data_release_list(user=user), "form": form, "nav": "data"},
        status=status,
    )

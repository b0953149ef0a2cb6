"""Visit pages: start a note, read it, sign it, add an addendum.

The visit-note editing page (per-code timers, live panel) builds on these services; this
module keeps the read-only note, the sign action and addenda.
"""

from __future__ import annotations

from collections.abc import Callable

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from handrail.web.audit.models import AuditAction
from handrail.web.audit.services import audit_record
from handrail.web.care.selectors import case_get
from handrail.web.clinic.permissions import can_document, can_sign, require
from handrail.web.clinic.views import current_user
from handrail.web.forms import form_apply_errors
from handrail.web.visits.forms import AddendumForm, VisitStartForm
from handrail.web.visits.models import Visit
from handrail.web.visits.selectors import visit_get, visit_needs_cosign
from handrail.web.visits.services import visit_add_addendum, visit_cosign, visit_create, visit_sign


@require_http_methods(["GET", "POST"])
def visit_start_view(request: HttpRequest, case_id: int) -> HttpResponse:
    user = current_user(request)
    case = case_get(user=user, case_id=case_id)
    require(can_document(user), "Your role cannot document visits.")
    form = VisitStartForm(request.POST or None, initial={"date": timezone.localdate()})
    if request.method == "POST" and form.is_valid():
        try:
            visit = visit_create(
                user=user,
                case=case,
                date=form.cleaned_data["date"],
                visit_type=form.cleaned_data["visit_type"],
            )
        except ValidationError as exc:
            form_apply_errors(form, exc)
        else:
            return redirect("notes:note", visit_id=visit.pk)  # straight to documenting
    return render(
        request, "handrail/visit_start.html", {"form": form, "case": case, "patient": case.patient}
    )


def visit_detail_view(request: HttpRequest, visit_id: int) -> HttpResponse:
    user = current_user(request)
    visit = visit_get(user=user, visit_id=visit_id)
    audit_record(user=user, action=AuditAction.VIEW, obj=visit, patient=visit.case.patient)
    return render(
        request,
        "handrail/visit_detail.html",
        {
            "visit": visit,
            "case": visit.case,
            "patient": visit.case.patient,
            "lines": visit.lines.all(),
            "addenda": visit.addenda.select_related("author"),
            "needs_cosign": visit.is_signed and visit_needs_cosign(visit=visit),
            "can_sign": can_sign(user) and not visit.is_signed,
            "can_addendum": can_document(user) and visit.is_signed,
            "addendum_form": AddendumForm(),
        },
    )


def _visit_action(
    request: HttpRequest, visit_id: int, action: Callable[..., Visit], done: str
) -> HttpResponse:
    """Run a signing service on the visit; its refusal becomes a message, never a 500."""
    user = current_user(request)
    visit = visit_get(user=user, visit_id=visit_id)
    try:
        action(user=user, visit=visit)
    except ValidationError as exc:
        for text in exc.messages:
            messages.error(request, text)
    else:
        messages.success(request, done)
    return redirect("visit-detail", visit_id=visit_id)


@require_POST
def visit_sign_view(request: HttpRequest, visit_id: int) -> HttpResponse:
    done = "Signed. The note is locked; changes go in addenda."
    return _visit_action(request, visit_id, visit_sign, done)


@require_POST
def visit_cosign_view(request: HttpRequest, visit_id: int) -> HttpResponse:
    return _visit_action(request, visit_id, visit_cosign, "Co-signed.")


@require_POST
def visit_addendum_view(request: HttpRequest, visit_id: int) -> HttpResponse:
    user = current_user(request)
    visit = visit_get(user=user, visit_id=visit_id)
    form = AddendumForm(request.POST)
    if form.is_valid():
        try:
            visit_add_addendum(user=user, visit=visit, **form.cleaned_data)
        except ValidationError as exc:
            form_apply_errors(form, exc)
    if form.errors:
        for error in form.errors.values():
            messages.error(request, " ".join(str(item) for item in error))
    else:
        messages.success(request, "Addendum added.")
    return redirect("visit-detail", visit_id=visit_id)

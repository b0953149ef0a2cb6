"""Visit pages: start a note. The note itself (documenting, signing, co-signing and
addenda) is the notes app's page, /visits/<id>/note/ (handrail.web.notes.views).
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from handrail.web.audit.reads import audit_read
from handrail.web.care.selectors import authorization_warnings, case_get
from handrail.web.clinic.permissions import can_document, require
from handrail.web.clinic.views import current_user
from handrail.web.forms import form_apply_errors
from handrail.web.visits.forms import VisitStartForm
from handrail.web.visits.services import visit_create


@audit_read("new visit form")
@require_http_methods(["GET", "POST"])
def visit_start_view(request: HttpRequest, case_id: int) -> HttpResponse:
    """Start a note. An expired or used-up authorization (or none where the payer requires
    one) is warned about here for the chosen day, and again on the new note."""
    user = current_user(request)
    case = case_get(user=user, case_id=case_id)
    require(can_document(user), "Your role cannot document visits.")
    form = VisitStartForm(request.POST or None, initial={"date": timezone.localdate()})
    day = timezone.localdate()
    if request.method == "POST" and form.is_valid():
        day = form.cleaned_data["date"]
        warnings = authorization_warnings(case=case, on=day)
        try:
            visit = visit_create(
                user=user,
                case=case,
                date=day,
                visit_type=form.cleaned_data["visit_type"],
            )
        except ValidationError as exc:
            form_apply_errors(form, exc)
        else:
            for warning in warnings:
                messages.warning(request, warning)
            return redirect("notes:note", visit_id=visit.pk)  # straight to documenting
    return render(
        request,
        "handrail/visit_start.html",
        {
            "form": form,
            "case": case,
            "patient": case.patient,
            "warnings": authorization_warnings(case=case, on=day),
        },
    )


@require_GET
def visit_detail_view(request: HttpRequest, visit_id: int) -> HttpResponse:
    """/visits/<id>/, the old read-only visit page, kept for bookmarks: the note page
    (handrail.web.notes) is the one place that shows a note and signs, co-signs and takes
    addenda. Access is checked there (404 for another clinic, 403 for front desk)."""
    return redirect("notes:note", visit_id=visit_id, permanent=True)

"""Pages for signing in and for patients. Thin: parse, call a service or selector, render."""

from __future__ import annotations

import csv
from datetime import UTC
from typing import cast

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.decorators import method_decorator
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from handrail.web.audit.reads import audit_read
from handrail.web.audit.selectors import audit_event_list
from handrail.web.care.selectors import case_list, plan_latest
from handrail.web.clinic.forms import CoverageForm, PatientForm, ThrottledLoginForm
from handrail.web.clinic.models import Patient, Role, User
from handrail.web.clinic.permissions import can_edit_patient, can_view_clinical, require
from handrail.web.clinic.selectors import coverage_list, patient_get, patient_list, payer_list
from handrail.web.clinic.services import (
    PATIENT_FIELDS,
    DuplicatePatientError,
    coverage_set,
    patient_create,
    patient_update,
)
from handrail.web.forms import form_apply_errors
from handrail.web.portal.selectors import issued_programs, program_progress
from handrail.web.remittances.selectors import patient_threshold_remitted
from handrail.web.worklists.selectors import patient_threshold


def current_user(request: HttpRequest) -> User:
    return cast(User, request.user)


@method_decorator(login_not_required, name="dispatch")
class LoginView(auth_views.LoginView):
    template_name = "handrail/login.html"
    authentication_form = ThrottledLoginForm
    redirect_authenticated_user = True

    def form_invalid(self, form: ThrottledLoginForm) -> HttpResponse:  # type: ignore[override]
        response = super().form_invalid(form)
        if form.lockout is not None:
            # 429 Too Many Requests (RFC 6585 section 4), with when to try again.
            response.status_code = 429
            response["Retry-After"] = str(
                max(1, int((form.lockout.until - timezone.now()).total_seconds()))
            )
        return response


PATIENT_PAGE_SIZE = 50  # patients per page of the list


def home(request: HttpRequest) -> HttpResponse:
    return redirect("patient-list")


@audit_read("patient list")
def patient_list_view(request: HttpRequest) -> HttpResponse:
    user = current_user(request)
    query = request.GET.get("q", "").replace("\x00", "")[:100]
    # A page at a time (issue 10: a clinic of thousands of patients); an out-of-range or
    # malformed page number shows the nearest page, never an error.
    page = Paginator(patient_list(user=user, query=query), PATIENT_PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "handrail/patient_list.html",
        {
            "patients": page.object_list,
            "page": page,
            "q": query,
            "can_add": can_edit_patient(user),
            "nav": "patients",
        },
    )


@require_http_methods(["GET", "POST"])
def patient_create_view(request: HttpRequest) -> HttpResponse:
    """Add a patient. A likely duplicate (same name and birth date) is shown with a link to
    it and a "Save anyway" button; nothing is saved until the user chooses."""
    user = current_user(request)
    require(can_edit_patient(user), "Your role cannot add patients.")
    form = PatientForm(request.POST or None)
    duplicates: list[Patient] = []
    if request.method == "POST" and form.is_valid():
        data = {name: form.cleaned_data[name] for name in PATIENT_FIELDS}
        try:
            patient = patient_create(
                user=user, allow_duplicate=request.POST.get("save_anyway") == "1", **data
            )
        except DuplicatePatientError as exc:
            duplicates = exc.duplicates
        except ValidationError as exc:
            form_apply_errors(form, exc)
        else:
            messages.success(request, f"Added {patient.full_name}.")
            return redirect("patient-detail", patient_id=patient.pk)
    return render(
        request,
        "handrail/patient_form.html",
        {"form": form, "patient": None, "duplicates": duplicates},
    )


@audit_read("patient page")
def patient_detail_view(request: HttpRequest, patient_id: int) -> HttpResponse:
    user = current_user(request)
    patient = patient_get(user=user, patient_id=patient_id)
    clinical = can_view_clinical(user)
    cases = [(case, plan_latest(case=case)) for case in case_list(user=user, patient=patient)]
    today = timezone.localdate()
    return render(
        request,
        "handrail/patient_detail.html",
        {
            "patient": patient,
            "coverages": coverage_list(patient=patient),
            "cases": cases if clinical else [],
            # Front desk manages authorizations: the episodes without clinical content.
            "episodes": [case for case, _plan in cases] if not clinical else [],
            "clinical": clinical,
            "today": today,
            "threshold": patient_threshold(user=user, patient=patient, today=today)
            if clinical
            else [],
            "threshold_remitted": patient_threshold_remitted(
                user=user, patient=patient, today=today
            )
            if clinical
            else [],
            "program_progress": [
                program_progress(program=program, today=today)
                for program in issued_programs(user=user, patient=patient)
            ]
            if clinical
            else [],
            "can_edit": can_edit_patient(user),
            "can_audit": user.role == Role.ADMIN,
            "coverage_form": CoverageForm(payers=payer_list(user=user)),
        },
    )


@audit_read("patient edit form")
@require_http_methods(["GET", "POST"])
def patient_edit_view(request: HttpRequest, patient_id: int) -> HttpResponse:
    user = current_user(request)
    patient = patient_get(user=user, patient_id=patient_id)
    require(can_edit_patient(user), "Your role cannot change patients.")
    form = PatientForm(request.POST or None, instance=patient)
    duplicates: list[Patient] = []
    if request.method == "POST" and form.is_valid():
        data = {name: form.cleaned_data[name] for name in PATIENT_FIELDS}
        try:
            # A fresh copy: the form has already written its values onto `patient`.
            patient_update(
                user=user,
                patient=patient_get(user=user, patient_id=patient_id),
                allow_duplicate=request.POST.get("save_anyway") == "1",
                **data,
            )
        except DuplicatePatientError as exc:
            duplicates = exc.duplicates
        except ValidationError as exc:
            form_apply_errors(form, exc)
        else:
            messages.success(request, "Saved.")
            return redirect("patient-detail", patient_id=patient_id)
    return render(
        request,
        "handrail/patient_form.html",
        {"form": form, "patient": patient, "duplicates": duplicates},
    )


@audit_read("patient audit log")
def patient_audit_view(request: HttpRequest, patient_id: int) -> HttpResponse:
    """Who viewed and changed this patient's records (clinic admins only)."""
    user = current_user(request)
    require(user.role == Role.ADMIN, "Only a clinic admin can read the audit log.")
    patient = patient_get(user=user, patient_id=patient_id)
    events = audit_event_list(user=user, patient=patient)[:500]
    return render(request, "handrail/patient_audit.html", {"patient": patient, "events": events})


# Cells a spreadsheet would run as a formula (OWASP, "CSV Injection"): such a cell is
# written with a leading apostrophe so it shows as text.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
AUDIT_CSV_HEADER = ("when_utc", "user", "username", "action", "record", "record_id", "detail")


def _csv_cell(value: str) -> str:
    return "'" + value if value.startswith(FORMULA_START) else value


@audit_read("access history export")
@require_GET
def patient_audit_export_view(request: HttpRequest, patient_id: int) -> HttpResponse:
    """The patient's access history as CSV: who saw or changed what, when (clinic admins
    only). The export itself is audited (by the decorator, after it is built)."""
    user = current_user(request)
    require(user.role == Role.ADMIN, "Only a clinic admin can export the audit log.")
    patient = patient_get(user=user, patient_id=patient_id)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = (
        f'attachment; filename="access-history-patient-{patient.pk}.csv"'
    )
    writer = csv.writer(response)
    writer.writerow(AUDIT_CSV_HEADER)
    for event in audit_event_list(user=user, patient=patient).order_by("at", "id").iterator():
        writer.writerow(
            [
                event.at.astimezone(UTC).isoformat(timespec="seconds"),
                _csv_cell(str(event.user)),
                event.user.username,
                event.action,
                event.object_type,
                event.object_id,
                _csv_cell(event.detail),
            ]
        )
    return response


@require_POST
def coverage_set_view(request: HttpRequest, patient_id: int) -> HttpResponse:
    """Add or replace the patient's primary or secondary coverage."""
    user = current_user(request)
    patient = patient_get(user=user, patient_id=patient_id)
    require(can_edit_patient(user), "Your role cannot change coverage.")
    form = CoverageForm(request.POST, payers=payer_list(user=user))
    if form.is_valid():
        try:
            coverage_set(user=user, patient=patient, **form.cleaned_data)
        except ValidationError as exc:
            form_apply_errors(form, exc)
    if form.errors:
        for name, errors in form.errors.items():
            messages.error(request, f"{name}: " + " ".join(str(e) for e in errors))
    else:
        messages.success(request, "Coverage saved.")
    return redirect("patient-detail", patient_id=patient_id)

"""Pages for cases and plans of care (clinical roles only)."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from handrail.web.audit.models import AuditAction
from handrail.web.audit.services import audit_record
from handrail.web.care.forms import CaseForm, CertifyForm, PlanOfCareForm
from handrail.web.care.icd10 import icd10_description
from handrail.web.care.selectors import case_get, plan_get, plan_latest
from handrail.web.care.services import case_create, plan_of_care_certify, plan_of_care_create
from handrail.web.clinic.permissions import can_manage_plan, can_view_clinical, require
from handrail.web.clinic.selectors import patient_get
from handrail.web.clinic.views import current_user
from handrail.web.forms import form_apply_errors
from handrail.web.visits.selectors import case_counters, visit_list


def case_detail_view(request: HttpRequest, case_id: int) -> HttpResponse:
    user = current_user(request)
    require(can_view_clinical(user), "Your role cannot see clinical records.")
    case = case_get(user=user, case_id=case_id)
    audit_record(user=user, action=AuditAction.VIEW, obj=case, patient=case.patient)
    plan = plan_latest(case=case)
    return render(
        request,
        "handrail/case_detail.html",
        {
            "case": case,
            "patient": case.patient,
            "plan": plan,
            "plans": case.plans.select_related("established_by"),
            "diagnoses": [
                (code, icd10_description(code, plan.start_date)) for code in plan.diagnoses
            ]
            if plan
            else [],
            "counters": case_counters(case=case),
            "visits": visit_list(user=user, case=case),
            "authorizations": case.authorizations.select_related("payer"),
            "can_plan": can_manage_plan(user) and user.discipline == case.discipline,
            "certify_form": CertifyForm(),
        },
    )


@require_http_methods(["GET", "POST"])
def case_create_view(request: HttpRequest, patient_id: int) -> HttpResponse:
    user = current_user(request)
    patient = patient_get(user=user, patient_id=patient_id)
    require(can_view_clinical(user), "Your role cannot open cases.")
    form = CaseForm(request.POST or None, initial={"discipline": user.discipline or "PT"})
    if request.method == "POST" and form.is_valid():
        try:
            case = case_create(user=user, patient=patient, **form.cleaned_data)
        except ValidationError as exc:
            form_apply_errors(form, exc)
        else:
            return redirect("case-detail", case_id=case.pk)
    return render(request, "handrail/case_form.html", {"form": form, "patient": patient})


@require_http_methods(["GET", "POST"])
def plan_create_view(request: HttpRequest, case_id: int) -> HttpResponse:
    user = current_user(request)
    case = case_get(user=user, case_id=case_id)
    require(can_manage_plan(user), "Only a therapist can establish a plan of care.")
    form = PlanOfCareForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            plan_of_care_create(user=user, case=case, **form.cleaned_data)
        except ValidationError as exc:
            form_apply_errors(form, exc)
        else:
            messages.success(request, "Plan of care saved.")
            return redirect("case-detail", case_id=case.pk)
    return render(
        request, "handrail/plan_form.html", {"form": form, "case": case, "patient": case.patient}
    )


@require_POST
def plan_certify_view(request: HttpRequest, plan_id: int) -> HttpResponse:
    user = current_user(request)
    plan = plan_get(user=user, plan_id=plan_id)
    require(can_manage_plan(user), "Only a therapist can record a certification.")
    form = CertifyForm(request.POST)
    if form.is_valid():
        try:
            plan_of_care_certify(user=user, plan=plan, **form.cleaned_data)
        except ValidationError as exc:
            form_apply_errors(form, exc)
    if form.errors:
        for error in form.errors.values():
            messages.error(request, " ".join(str(item) for item in error))
    else:
        messages.success(request, "Certification recorded.")
    return redirect("case-detail", case_id=plan.case_id)

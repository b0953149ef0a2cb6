"""Pages for cases and plans of care (clinical roles only)."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from handrail.web.audit.reads import audit_read
from handrail.web.care.forms import (
    AuthorizationEndForm,
    AuthorizationForm,
    CaseForm,
    CertifyForm,
    DischargeForm,
    PlanOfCareForm,
)
from handrail.web.care.icd10 import icd10_description
from handrail.web.care.selectors import (
    authorization_get,
    authorization_list,
    authorization_usage,
    case_get,
    plan_get,
    plan_latest,
)
from handrail.web.care.services import (
    AUTHORIZATION_ROLES,
    authorization_create,
    authorization_end,
    authorization_update,
    case_close,
    case_create,
    plan_of_care_certify,
    plan_of_care_create,
)
from handrail.web.clinic.models import Role, User
from handrail.web.clinic.permissions import can_manage_plan, can_view_clinical, require
from handrail.web.clinic.selectors import patient_get, payer_list
from handrail.web.clinic.views import current_user
from handrail.web.forms import form_apply_errors
from handrail.web.visits.selectors import case_counters, visit_list


@audit_read("case page")
def case_detail_view(request: HttpRequest, case_id: int) -> HttpResponse:
    user = current_user(request)
    require(can_view_clinical(user), "Your role cannot see clinical records.")
    case = case_get(user=user, case_id=case_id)
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
            "authorizations": [
                authorization_usage(authorization=a, on=timezone.localdate())
                for a in authorization_list(case=case)
            ],
            "can_plan": can_manage_plan(user) and user.discipline == case.discipline,
            "certify_form": CertifyForm(),
            "can_discharge": case.closed_on is None and _can_discharge(user),
            "discharge_form": DischargeForm(initial={"closed_on": timezone.localdate()}),
        },
    )


@audit_read("new case form")
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


@audit_read("plan of care form")
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


def _can_discharge(user: User) -> bool:
    return can_view_clinical(user) and user.role != Role.BILLER


@require_POST
def case_discharge_view(request: HttpRequest, case_id: int) -> HttpResponse:
    """Discharge the case: the day and the reason. Later visits are then refused."""
    user = current_user(request)
    case = case_get(user=user, case_id=case_id)
    require(_can_discharge(user), "Your role cannot discharge cases.")
    form = DischargeForm(request.POST)
    if form.is_valid():
        try:
            case_close(user=user, case=case, **form.cleaned_data)
        except ValidationError as exc:
            form_apply_errors(form, exc)
    if form.errors:
        for name, errors in form.errors.items():
            label = form.fields[name].label if name in form.fields else ""
            prefix = f"{label}: " if label else ""
            messages.error(request, prefix + " ".join(str(e) for e in errors))
    else:
        messages.success(request, f"Discharged on {form.cleaned_data['closed_on']:%Y-%m-%d}.")
    return redirect("case-detail", case_id=case.pk)


def _can_change_authorizations(user: User) -> bool:
    return user.role in AUTHORIZATION_ROLES


@audit_read("authorizations")
@require_http_methods(["GET", "POST"])
def authorization_list_view(request: HttpRequest, case_id: int) -> HttpResponse:
    """A case's authorizations with what each has used, and a form to add one. Front desk
    and billers manage them too, so the page shows no clinical content."""
    user = current_user(request)
    case = case_get(user=user, case_id=case_id)
    can_change = _can_change_authorizations(user)
    form = AuthorizationForm(request.POST or None, payers=payer_list(user=user))
    if request.method == "POST":
        require(can_change, "Your role cannot change authorizations.")
        if form.is_valid():
            try:
                authorization_create(user=user, case=case, **form.cleaned_data)
            except ValidationError as exc:
                form_apply_errors(form, exc)
            else:
                messages.success(request, "Authorization added.")
                return redirect("authorization-list", case_id=case.pk)
    today = timezone.localdate()
    return render(
        request,
        "handrail/authorization_list.html",
        {
            "case": case,
            "patient": case.patient,
            "usages": [
                authorization_usage(authorization=a, on=today)
                for a in authorization_list(case=case)
            ],
            "form": form,
            "end_form": AuthorizationEndForm(initial={"ended_on": today}),
            "can_change": can_change,
            "clinical": can_view_clinical(user),
            "today": today,
        },
    )


@audit_read("authorization edit form")
@require_http_methods(["GET", "POST"])
def authorization_edit_view(request: HttpRequest, authorization_id: int) -> HttpResponse:
    user = current_user(request)
    authorization = authorization_get(user=user, authorization_id=authorization_id)
    require(_can_change_authorizations(user), "Your role cannot change authorizations.")
    initial = {
        "payer": authorization.payer,
        "number": authorization.number,
        "visits_authorized": authorization.visits_authorized,
        "units_authorized": authorization.units_authorized,
        "start_date": authorization.start_date,
        "end_date": authorization.end_date,
    }
    form = AuthorizationForm(request.POST or None, initial=initial, payers=payer_list(user=user))
    if request.method == "POST" and form.is_valid():
        try:
            authorization_update(user=user, authorization=authorization, **form.cleaned_data)
        except ValidationError as exc:
            form_apply_errors(form, exc)
        else:
            messages.success(request, "Authorization saved.")
            return redirect("authorization-list", case_id=authorization.case_id)
    return render(
        request,
        "handrail/authorization_form.html",
        {
            "form": form,
            "authorization": authorization,
            "case": authorization.case,
            "patient": authorization.case.patient,
        },
    )


@require_POST
def authorization_end_view(request: HttpRequest, authorization_id: int) -> HttpResponse:
    user = current_user(request)
    authorization = authorization_get(user=user, authorization_id=authorization_id)
    require(_can_change_authorizations(user), "Your role cannot change authorizations.")
    form = AuthorizationEndForm(request.POST)
    if form.is_valid():
        try:
            authorization_end(
                user=user, authorization=authorization, ended_on=form.cleaned_data["ended_on"]
            )
        except ValidationError as exc:
            form_apply_errors(form, exc)
    if form.errors:
        for errors in form.errors.values():
            messages.error(request, "Last covered day: " + " ".join(str(e) for e in errors))
    else:
        messages.success(
            request, f"Authorization ended on {form.cleaned_data['ended_on']:%Y-%m-%d}."
        )
    return redirect("authorization-list", case_id=authorization.case_id)

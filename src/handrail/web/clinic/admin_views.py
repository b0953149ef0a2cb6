"""Clinic admin pages: staff accounts and payers (clinic admins only; 403 for other roles,
404 for another clinic's records). Thin: parse a form, call one service, render."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from handrail.web.clinic.admin_selectors import (
    admin_event_list,
    payer_admin_get,
    payer_admin_list,
    staff_get,
    staff_list,
    staff_sign_in_locked_until,
)
from handrail.web.clinic.admin_services import (
    NOT_ADMIN,
    PAYER_FIELDS,
    STAFF_FIELDS,
    payer_add,
    payer_delete,
    payer_update,
    staff_create,
    staff_password_set,
    staff_set_active,
    staff_sign_in_unlock,
    staff_two_factor_reset,
    staff_update,
)
from handrail.web.clinic.forms import (
    PayerForm,
    StaffCreateForm,
    StaffEditForm,
    StaffPasswordForm,
)
from handrail.web.clinic.models import User
from handrail.web.clinic.passkeys import passkey_count
from handrail.web.clinic.permissions import can_administer, require
from handrail.web.clinic.two_factor import two_factor_enrolled, two_factor_required
from handrail.web.clinic.views import current_user
from handrail.web.forms import form_apply_errors

INVALID_STATUS = 422


def _messages_from(request: HttpRequest, exc: ValidationError) -> None:
    for text in exc.messages:
        messages.error(request, text)


def staff_list_view(request: HttpRequest) -> HttpResponse:
    user = current_user(request)
    require(can_administer(user), NOT_ADMIN)
    return render(
        request, "clinic_admin/staff_list.html", {"staff": staff_list(user=user), "nav": "staff"}
    )


@require_http_methods(["GET", "POST"])
def staff_create_view(request: HttpRequest) -> HttpResponse:
    user = current_user(request)
    require(can_administer(user), NOT_ADMIN)
    form = StaffCreateForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            data = {name: form.cleaned_data[name] for name in STAFF_FIELDS}
            try:
                staff = staff_create(
                    user=user,
                    username=form.cleaned_data["username"],
                    password=form.cleaned_data["password"],
                    **data,
                )
            except ValidationError as exc:
                form_apply_errors(form, exc)
            else:
                messages.success(request, f"Added {staff.username} ({staff.credential}).")
                return redirect("clinic_admin:staff-list")
        status = INVALID_STATUS
    return render(
        request,
        "clinic_admin/staff_form.html",
        {"form": form, "staff": None, "nav": "staff"},
        status=status,
    )


@require_http_methods(["GET", "POST"])
def staff_edit_view(request: HttpRequest, staff_id: int) -> HttpResponse:
    user = current_user(request)
    staff = staff_get(user=user, staff_id=staff_id)
    initial = {name: getattr(staff, name) for name in STAFF_FIELDS}
    form = StaffEditForm(request.POST or None, initial=initial)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            data = {name: form.cleaned_data[name] for name in STAFF_FIELDS}
            try:
                staff_update(user=user, staff=staff, **data)
            except ValidationError as exc:
                form_apply_errors(form, exc)
                staff = staff_get(user=user, staff_id=staff_id)
            else:
                messages.success(request, f"Saved {staff.username}.")
                return redirect("clinic_admin:staff-list")
        status = INVALID_STATUS
    return _staff_page(request, user, staff, form, status=status)


def _staff_page(
    request: HttpRequest,
    user: User,
    staff: User,
    form: StaffEditForm,
    *,
    status: int,
    password_form: StaffPasswordForm | None = None,
) -> HttpResponse:
    return render(
        request,
        "clinic_admin/staff_form.html",
        {
            "form": form,
            "password_form": password_form or StaffPasswordForm(staff=staff),
            "staff": staff,
            "is_self": staff.pk == user.pk,
            "two_factor_on": two_factor_enrolled(staff),
            "passkeys": passkey_count(user=staff),
            "two_factor_required": two_factor_required(staff),
            "locked_until": staff_sign_in_locked_until(user=user, staff=staff),
            "events": admin_event_list(user=user, object_type="user", object_id=staff.pk)[:50],
            "nav": "staff",
        },
        status=status,
    )


@require_POST
def staff_active_view(request: HttpRequest, staff_id: int) -> HttpResponse:
    """POST active=1 to reactivate, active=0 to deactivate."""
    user = current_user(request)
    staff = staff_get(user=user, staff_id=staff_id)
    active = request.POST.get("active") == "1"
    try:
        staff_set_active(user=user, staff=staff, active=active)
    except ValidationError as exc:
        _messages_from(request, exc)
    else:
        done = "Reactivated" if active else "Deactivated; they can no longer sign in"
        messages.success(request, f"{done}: {staff.username}.")
    return redirect("clinic_admin:staff-list")


@require_POST
def staff_password_view(request: HttpRequest, staff_id: int) -> HttpResponse:
    """Set a colleague's password (they change it at their next sign-in)."""
    user = current_user(request)
    staff = staff_get(user=user, staff_id=staff_id)
    form = StaffPasswordForm(request.POST, staff=staff)
    if form.is_valid():
        try:
            staff_password_set(user=user, staff=staff, password=form.cleaned_data["password"])
        except ValidationError as exc:
            form_apply_errors(form, exc)
        else:
            messages.success(
                request, f"New password set for {staff.username}; they change it at sign-in."
            )
            return redirect("clinic_admin:staff-edit", staff_id=staff.pk)
    initial = {name: getattr(staff, name) for name in STAFF_FIELDS}
    return _staff_page(
        request, user, staff, StaffEditForm(initial=initial), status=422, password_form=form
    )


@require_POST
def staff_two_factor_reset_view(request: HttpRequest, staff_id: int) -> HttpResponse:
    """Remove a colleague's second factor (a lost phone); their sessions end."""
    user = current_user(request)
    staff = staff_get(user=user, staff_id=staff_id)
    try:
        removed = staff_two_factor_reset(user=user, staff=staff)
    except ValidationError as exc:
        _messages_from(request, exc)
    else:
        if removed:
            messages.success(
                request,
                f"Two-factor sign-in removed for {staff.username}; they are signed out "
                "and set it up again when they next sign in.",
            )
        else:
            messages.info(request, f"{staff.username} had no two-factor sign-in to remove.")
    return redirect("clinic_admin:staff-edit", staff_id=staff.pk)


@require_POST
def staff_unlock_view(request: HttpRequest, staff_id: int) -> HttpResponse:
    """Lift the colleague's sign-in lock after too many failed sign-ins."""
    user = current_user(request)
    staff = staff_get(user=user, staff_id=staff_id)
    try:
        unlocked = staff_sign_in_unlock(user=user, staff=staff)
    except ValidationError as exc:  # the counters' Redis cannot be reached
        messages.error(request, " ".join(exc.messages))
    else:
        if unlocked:
            messages.success(request, f"{staff.username} can sign in again.")
        else:
            messages.info(request, f"{staff.username} was not locked out.")
    return redirect("clinic_admin:staff-edit", staff_id=staff.pk)


def payer_list_view(request: HttpRequest) -> HttpResponse:
    user = current_user(request)
    require(can_administer(user), NOT_ADMIN)
    return render(
        request,
        "clinic_admin/payer_list.html",
        {"payers": payer_admin_list(user=user), "nav": "payers"},
    )


@require_http_methods(["GET", "POST"])
def payer_create_view(request: HttpRequest) -> HttpResponse:
    user = current_user(request)
    require(can_administer(user), NOT_ADMIN)
    form = PayerForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            data = {name: form.cleaned_data[name] for name in PAYER_FIELDS}
            try:
                payer = payer_add(user=user, **data)
            except ValidationError as exc:
                form_apply_errors(form, exc)
            else:
                messages.success(request, f"Added {payer.name}.")
                return redirect("clinic_admin:payer-list")
        status = INVALID_STATUS
    return render(
        request,
        "clinic_admin/payer_form.html",
        {"form": form, "payer": None, "nav": "payers"},
        status=status,
    )


@require_http_methods(["GET", "POST"])
def payer_edit_view(request: HttpRequest, payer_id: int) -> HttpResponse:
    user = current_user(request)
    payer = payer_admin_get(user=user, payer_id=payer_id)
    form = PayerForm(request.POST or None, instance=payer)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            data = {name: form.cleaned_data[name] for name in PAYER_FIELDS}
            # A fresh copy: the form has already written its values onto `payer`.
            payer = payer_admin_get(user=user, payer_id=payer_id)
            try:
                payer_update(user=user, payer=payer, **data)
            except ValidationError as exc:
                form_apply_errors(form, exc)
                payer = payer_admin_get(user=user, payer_id=payer_id)
            else:
                messages.success(request, f"Saved {payer.name}.")
                return redirect("clinic_admin:payer-list")
        else:
            payer = payer_admin_get(user=user, payer_id=payer_id)
        status = INVALID_STATUS
    return render(
        request,
        "clinic_admin/payer_form.html",
        {
            "form": form,
            "payer": payer,
            "events": admin_event_list(user=user, object_type="payer", object_id=payer.pk)[:50],
            "nav": "payers",
        },
        status=status,
    )


@require_POST
def payer_delete_view(request: HttpRequest, payer_id: int) -> HttpResponse:
    user = current_user(request)
    payer = payer_admin_get(user=user, payer_id=payer_id)
    name = payer.name
    try:
        payer_delete(user=user, payer=payer)
    except ValidationError as exc:
        _messages_from(request, exc)
        return redirect("clinic_admin:payer-edit", payer_id=payer_id)
    messages.success(request, f"Deleted {name}.")
    return redirect("clinic_admin:payer-list")

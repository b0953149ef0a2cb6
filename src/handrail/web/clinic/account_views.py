"""The signed-in user's own account: change the password. Thin: parse, call a service,
render."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods

from handrail.web.clinic.account_services import account_password_change
from handrail.web.clinic.forms import AccountPasswordForm
from handrail.web.clinic.throttle import client_address
from handrail.web.clinic.views import current_user
from handrail.web.forms import form_apply_errors

INVALID_STATUS = 422


def safe_next(request: HttpRequest, default: str = "home") -> str:
    """Where to go after a sign-in step: `next` when it is a path on this site."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    allowed = url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )
    return target if target and allowed else default


@require_http_methods(["GET", "POST"])
def password_change_view(request: HttpRequest) -> HttpResponse:
    user = current_user(request)
    form = AccountPasswordForm(user, request.POST or None, address=client_address(request))
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                account_password_change(user=user, password=form.cleaned_data["new_password1"])
            except ValidationError as exc:
                form_apply_errors(form, exc)
            else:
                # This session stays signed in; the user's other sessions end.
                update_session_auth_hash(request, user)
                messages.success(request, "Password changed. Other sessions were signed out.")
                return redirect(safe_next(request))
        status = INVALID_STATUS
    return render(
        request,
        "handrail/password_change.html",
        {"form": form, "next": safe_next(request, ""), "forced": user.must_change_password},
        status=status,
    )

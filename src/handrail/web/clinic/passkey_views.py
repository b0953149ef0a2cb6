"""Passkey pages and the JSON endpoints django-otp-webauthn's browser script talks to.

The endpoints are the library's views with our rules in its hooks: registering needs a
session that gave its second factor (and a name chosen on the page first); using a passkey
is only the code step after the password, for the signed-in user's own passkeys, and
finishes the sign-in the way a code does (new session id, audited). Errors are the
library's JSON answers: {"detail": ..., "code": ...} with a 4xx status.
"""

from __future__ import annotations

from typing import Any, cast

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST
from django_otp_webauthn import exceptions
from django_otp_webauthn.utils import rewrite_exceptions
from django_otp_webauthn.views import (
    BeginCredentialAuthenticationView,
    BeginCredentialRegistrationView,
    CompleteCredentialAuthenticationView,
    CompleteCredentialRegistrationView,
    _get_pywebauthn_logger,
)

from handrail.web.clinic.account_views import INVALID_STATUS, safe_next
from handrail.web.clinic.forms import PasskeyNameForm, PasskeyRemoveForm
from handrail.web.clinic.models import User
from handrail.web.clinic.passkeys import (
    passkey_list,
    passkey_name_check,
    passkey_page_origin_ok,
    passkey_register,
    passkey_remove,
    passkey_script_config,
    passkey_signed_in,
    passkeys_enabled,
)
from handrail.web.clinic.throttle import client_address
from handrail.web.clinic.two_factor import (
    PENDING,
    VERIFIED,
    session_mark_verified,
    session_state,
    two_factor_enrolled,
)
from handrail.web.clinic.views import current_user
from handrail.web.forms import form_apply_errors

PENDING_NAME_KEY = "handrail_passkey_name"  # the name typed before the browser asks


class PasskeysOff(exceptions.OTPWebAuthnApiError):  # type: ignore[misc]
    status_code = 403
    default_detail = "Passkeys are off on this server."
    default_code = "passkeys_off"


class NameFirst(exceptions.OTPWebAuthnApiError):  # type: ignore[misc]
    status_code = 400
    default_detail = "Name the passkey on the passkeys page first, then add it."
    default_code = "name_first"


class NotAtCodeStep(exceptions.OTPWebAuthnApiError):  # type: ignore[misc]
    status_code = 403
    default_detail = "A passkey is used at the sign-in code step, after the password."
    default_code = "not_at_code_step"


class NameRefused(exceptions.OTPWebAuthnApiError):  # type: ignore[misc]
    status_code = 422
    default_code = "name_refused"


def _require_can_register(request: HttpRequest) -> None:
    if not passkeys_enabled():
        raise PasskeysOff()
    user = cast(User, request.user)
    if not two_factor_enrolled(user) or session_state(request) != VERIFIED:
        raise exceptions.NotVerified(
            detail="Set up two-factor sign-in and give its code before adding a passkey."
        )
    if not request.session.get(PENDING_NAME_KEY):
        raise NameFirst()


class PasskeyRegisterBeginView(BeginCredentialRegistrationView):  # type: ignore[misc]
    def _check_user_verified(self, user: User) -> None:
        _require_can_register(self.request)


class PasskeyRegisterCompleteView(CompleteCredentialRegistrationView):  # type: ignore[misc]
    def _check_user_verified(self, user: User) -> None:
        _require_can_register(self.request)

    def post(self, *args: Any, **kwargs: Any) -> JsonResponse:
        request = self.request
        state = self.get_state()  # popped: a challenge answers once
        name = str(request.session.pop(PENDING_NAME_KEY, ""))
        with rewrite_exceptions(logger=_get_pywebauthn_logger()):
            try:
                device = passkey_register(
                    user=current_user(request),
                    helper=self.get_helper(),
                    state=state,
                    data=request.data,
                    name=name,
                )
            except ValidationError as exc:
                raise NameRefused(detail=" ".join(exc.messages)) from exc
        messages.success(request, f"Passkey '{device.name}' added.")
        return JsonResponse({"id": device.pk, "redirect_url": reverse("passkeys")})


def _require_code_step(request: HttpRequest) -> None:
    if not passkeys_enabled():
        raise PasskeysOff()
    if not request.user.is_authenticated:
        raise exceptions.NotAuthenticated()
    if not request.user.is_active:
        raise exceptions.UserDisabled()
    if session_state(request) != PENDING:
        raise NotAtCodeStep()


class PasskeyAuthBeginView(BeginCredentialAuthenticationView):  # type: ignore[misc]
    def check_can_authenticate(self) -> None:
        _require_code_step(self.request)


class PasskeyAuthCompleteView(CompleteCredentialAuthenticationView):  # type: ignore[misc]
    def check_can_authenticate(self) -> None:
        _require_code_step(self.request)

    def complete_auth(self, device: Any) -> User:
        request = self.request
        user = current_user(request)
        request.session.cycle_key()  # a new session id for the now full sign-in
        session_mark_verified(request, device)
        passkey_signed_in(user=user, device=device)
        return user

    def get_success_url(self) -> str:
        return safe_next(self.request, reverse("home"))


@require_http_methods(["GET", "POST"])
def passkeys_view(request: HttpRequest) -> HttpResponse:
    """The user's passkeys (name, added, last used); name a new one, then the browser
    makes it (the library's script)."""
    user = current_user(request)
    form = PasskeyNameForm(request.POST or None)
    status = 200
    ready_name = ""
    if request.method == "POST":
        if form.is_valid():
            try:
                ready_name = passkey_name_check(user=user, name=form.cleaned_data["name"])
            except ValidationError as exc:
                form_apply_errors(form, exc)
            else:
                request.session[PENDING_NAME_KEY] = ready_name
        if not ready_name:
            status = INVALID_STATUS
    return render(
        request,
        "handrail/passkeys.html",
        {
            "enabled": passkeys_enabled(),
            "enrolled": two_factor_enrolled(user),
            "origin_ok": passkey_page_origin_ok(request),
            "origins": settings.OTP_WEBAUTHN_ALLOWED_ORIGINS,
            "passkeys": passkey_list(user=user),
            "form": form,
            "ready_name": ready_name,
            "remove_form": PasskeyRemoveForm(user),
            "passkey_config": passkey_script_config(request),
        },
        status=status,
    )


@require_POST
def passkey_remove_view(request: HttpRequest, passkey_id: int) -> HttpResponse:
    """Remove one passkey after the password is given again."""
    user = current_user(request)
    form = PasskeyRemoveForm(user, request.POST, address=client_address(request))
    if form.is_valid():
        try:
            name = passkey_remove(user=user, passkey_id=passkey_id)
        except ValidationError as exc:
            for text in exc.messages:
                messages.error(request, text)
        else:
            update_session_auth_hash(request, user)  # this session stays; others end
            messages.success(request, f"Passkey '{name}' removed. Other sessions were signed out.")
        return redirect("passkeys")
    return render(
        request,
        "handrail/passkeys.html",
        {
            "enabled": passkeys_enabled(),
            "enrolled": two_factor_enrolled(user),
            "origin_ok": passkey_page_origin_ok(request),
            "origins": settings.OTP_WEBAUTHN_ALLOWED_ORIGINS,
            "passkeys": passkey_list(user=user),
            "form": PasskeyNameForm(),
            "ready_name": "",
            "remove_form": form,
            "remove_id": passkey_id,
            "passkey_config": passkey_script_config(request),
        },
        status=INVALID_STATUS,
    )

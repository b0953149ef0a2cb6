"""The signed-in user's own account: change the password, set up two-factor sign-in and
give the sign-in code. Thin: parse, call a service, render."""

from __future__ import annotations

import segno
from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_http_methods, require_POST

from handrail.web.clinic.account_services import account_password_change
from handrail.web.clinic.forms import AccountPasswordForm, TokenForm
from handrail.web.clinic.passkeys import (
    passkey_count,
    passkey_page_origin_ok,
    passkey_script_config,
    passkeys_enabled,
)
from handrail.web.clinic.throttle import client_address
from handrail.web.clinic.two_factor import (
    PENDING,
    recovery_codes_left,
    recovery_codes_regenerate,
    session_mark_verified,
    session_state,
    totp_enrolment_confirm,
    totp_enrolment_start,
    two_factor_enrolled,
    two_factor_required,
    two_factor_verify,
)
from handrail.web.clinic.views import current_user
from handrail.web.forms import form_apply_errors

INVALID_STATUS = 422


def safe_next(request: HttpRequest, default: str = "home") -> str:
    """Where to go after a sign-in step: `next` when it is a path on this site, else
    `default` (a URL name, a path, or "" for none). Only a path is taken: `redirect()` reads
    any other word as a URL name, and `next=abc` would raise NoReverseMatch (a 500)."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    allowed = target.startswith("/") and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )
    if allowed:
        return target
    return reverse(default) if default and not default.startswith("/") else default


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


def _qr_svg(config_url: str) -> str:
    """The otpauth:// address as an inline SVG QR code (no image request, no CDN; the
    SVG uses presentation attributes only, so the CSP's style-src 'self' holds)."""
    return segno.make(config_url, error="m").svg_inline(scale=4, title="Authenticator set-up")


@require_http_methods(["GET", "POST"])
def two_factor_view(request: HttpRequest) -> HttpResponse:
    """Set up two-factor sign-in (scan, then type a code to prove it works); once on, how
    many recovery codes are left."""
    user = current_user(request)
    if two_factor_enrolled(user):
        return render(
            request,
            "handrail/two_factor.html",
            {
                "enrolled": True,
                "codes_left": recovery_codes_left(user=user),
                "passkey_count": passkey_count(user=user),
            },
        )
    form = TokenForm(request.POST or None, numeric=True)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                device, codes = totp_enrolment_confirm(user=user, token=form.cleaned_data["token"])
            except ValidationError as exc:
                form_apply_errors(form, exc)
            else:
                # Other sessions ended with the new epoch; this one is verified by the code.
                update_session_auth_hash(request, user)
                session_mark_verified(request, device)
                return _recovery_codes_page(request, codes, enrolled_now=True)
        status = INVALID_STATUS
    enrolment = totp_enrolment_start(user=user)
    return render(
        request,
        "handrail/two_factor.html",
        {
            "enrolled": False,
            "required": two_factor_required(user),
            "form": form,
            "qr_svg": mark_safe(_qr_svg(enrolment.config_url)),  # noqa: S308 - segno's SVG
            "secret": enrolment.secret,
            "next": safe_next(request, ""),
        },
        status=status,
    )


def _recovery_codes_page(
    request: HttpRequest, codes: list[str], *, enrolled_now: bool
) -> HttpResponse:
    default = reverse("home") if enrolled_now else reverse("two-factor")
    return render(
        request,
        "handrail/recovery_codes.html",
        {"codes": codes, "enrolled_now": enrolled_now, "next": safe_next(request, default)},
    )


@require_POST
def two_factor_recovery_view(request: HttpRequest) -> HttpResponse:
    """Ten new recovery codes (the old ones stop working), shown once."""
    user = current_user(request)
    try:
        codes = recovery_codes_regenerate(user=user)
    except ValidationError as exc:
        for text in exc.messages:
            messages.error(request, text)
        return redirect("two-factor")
    return _recovery_codes_page(request, codes, enrolled_now=False)


@require_http_methods(["GET", "POST"])
def two_factor_verify_view(request: HttpRequest) -> HttpResponse:
    """The step after the password: a code from the authenticator, or a recovery code; or
    a passkey (the library's script and handrail.web.clinic.passkey_views)."""
    user = current_user(request)
    if session_state(request) != PENDING:
        return redirect(safe_next(request))
    form = TokenForm(request.POST or None, numeric=False)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                device = two_factor_verify(user=user, token=form.cleaned_data["token"])
            except ValidationError as exc:
                form_apply_errors(form, exc)
            else:
                request.session.cycle_key()  # a new session id for the now full sign-in
                session_mark_verified(request, device)
                return redirect(safe_next(request))
        status = INVALID_STATUS
    return render(
        request,
        "handrail/two_factor_verify.html",
        {
            "form": form,
            "next": safe_next(request, ""),
            "passkey_config": (
                passkey_script_config(request)
                if passkeys_enabled()
                and passkey_page_origin_ok(request)
                and passkey_count(user=user)
                else None
            ),
        },
        status=status,
    )

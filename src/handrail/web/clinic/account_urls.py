"""URLs of the signed-in user's own account, under /account/."""

from __future__ import annotations

from django.contrib.auth.decorators import login_not_required
from django.urls import path
from django.views.i18n import JavaScriptCatalog

from handrail.web.clinic import account_views as views
from handrail.web.clinic import passkey_views

urlpatterns = [
    path("password/", views.password_change_view, name="password-change"),
    path("two-factor/", views.two_factor_view, name="two-factor"),
    path("two-factor/verify/", views.two_factor_verify_view, name="two-factor-verify"),
    path("two-factor/recovery-codes/", views.two_factor_recovery_view, name="two-factor-recovery"),
    path("two-factor/passkeys/", passkey_views.passkeys_view, name="passkeys"),
    path(
        "two-factor/passkeys/<int:passkey_id>/remove/",
        passkey_views.passkey_remove_view,
        name="passkey-remove",
    ),
    # The JSON endpoints of django-otp-webauthn's script (handrail.web.clinic.passkey_views).
    path(
        "two-factor/passkeys/register/begin/",
        passkey_views.PasskeyRegisterBeginView.as_view(),
        name="passkey-register-begin",
    ),
    path(
        "two-factor/passkeys/register/complete/",
        passkey_views.PasskeyRegisterCompleteView.as_view(),
        name="passkey-register-complete",
    ),
    path(
        "two-factor/passkeys/verify/begin/",
        passkey_views.PasskeyAuthBeginView.as_view(),
        name="passkey-auth-begin",
    ),
    path(
        "two-factor/passkeys/verify/complete/",
        passkey_views.PasskeyAuthCompleteView.as_view(),
        name="passkey-auth-complete",
    ),
    # The script's messages (gettext); static text, open like the static files.
    path(
        "two-factor/passkeys/messages.js",
        login_not_required(JavaScriptCatalog.as_view(packages=["django_otp_webauthn"])),
        name="passkey-messages",
    ),
]

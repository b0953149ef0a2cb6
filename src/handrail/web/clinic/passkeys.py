"""Passkeys (WebAuthn, through django-otp-webauthn) as a second factor, next to the
authenticator app and the recovery codes (handrail.web.clinic.two_factor).

- A user adds passkeys once two-factor sign-in is on (the authenticator app and its
  recovery codes stay the way back in when a passkey is lost), from a session that gave a
  code: a passkey is never added on the strength of the password alone. Each is named.
- At the code step after the password the user may use a passkey instead of a code. The
  server offers only that user's passkeys and checks the signature, the challenge it
  issued (once), the RP ID and the page's origin (settings: handrail.web.passkey_settings).
- Removing one asks for the password again; an admin's reset of two-factor sign-in
  removes the passkeys too. Adding, using and removing are audited.
- Passkeys are never a first factor here: the password always comes first.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.middleware import csrf
from django.urls import reverse
from django_otp_webauthn.models import WebAuthnCredential

from handrail.web.clinic.models import User
from handrail.web.clinic.two_factor import audit_two_factor, two_factor_enrolled

NAME_MAX = 64
PASSKEY_LIMIT = 10  # per user; enough for a phone, a laptop and a few keys


def passkeys_enabled() -> bool:
    """Passkeys need a relying party (a domain name); without one they are off."""
    return bool(settings.OTP_WEBAUTHN_RP_ID)


def passkey_list(*, user: User) -> list[Any]:
    """The user's passkeys, oldest first, with when each was added and last used."""
    return list(WebAuthnCredential.objects.filter(user=user).order_by("created_at", "pk"))


def passkey_page_origin_ok(request: HttpRequest) -> bool:
    """Is this page at an origin passkeys work on? Browsers refuse them elsewhere (an IP
    address, another host name), so the pages send users to the right address instead."""
    origin = f"{request.scheme}://{request.get_host()}"
    return origin in settings.OTP_WEBAUTHN_ALLOWED_ORIGINS


def passkey_script_config(request: HttpRequest) -> dict[str, Any]:
    """What django-otp-webauthn's browser script reads from the page (through json_script,
    so the CSP's script-src 'self' holds): our endpoints and the CSRF token."""
    return {
        "autocompleteLoginFieldSelector": None,
        "nextFieldSelector": "input[name='next']",
        "csrfToken": csrf.get_token(request),
        "beginAuthenticationUrl": reverse("passkey-auth-begin"),
        "completeAuthenticationUrl": reverse("passkey-auth-complete"),
        "beginRegistrationUrl": reverse("passkey-register-begin"),
        "completeRegistrationUrl": reverse("passkey-register-complete"),
    }


def passkey_count(*, user: User) -> int:
    count: int = WebAuthnCredential.objects.filter(user=user).count()
    return count


def passkey_name_check(*, user: User, name: str) -> str:
    """The cleaned name of a passkey about to be added; refused when the user cannot add
    one or already has a passkey of that name."""
    if not passkeys_enabled():
        raise ValidationError({"name": f"Passkeys are off on this server: {_off_reason()}."})
    if not two_factor_enrolled(user):
        raise ValidationError(
            {"name": "Set up two-factor sign-in with an authenticator app first."}
        )
    cleaned = " ".join(name.split())
    if not cleaned:
        raise ValidationError({"name": "Name the passkey, e.g. 'Front desk laptop'."})
    if len(cleaned) > NAME_MAX:
        raise ValidationError({"name": f"Keep the name to {NAME_MAX} characters."})
    mine = WebAuthnCredential.objects.filter(user=user)
    if mine.filter(name__iexact=cleaned).exists():
        raise ValidationError({"name": f"You already have a passkey named '{cleaned}'."})
    if mine.count() >= PASSKEY_LIMIT:
        raise ValidationError(
            {"name": f"You have {PASSKEY_LIMIT} passkeys; remove one before adding another."}
        )
    return cleaned


def _off_reason() -> str:
    return str(settings.PASSKEYS_OFF_REASON or "no relying party is configured")


@transaction.atomic
def passkey_register(
    *, user: User, helper: Any, state: dict[str, Any], data: Any, name: str
) -> Any:
    """Check the authenticator's answer to the registration challenge (django-otp-webauthn's
    helper: challenge, RP ID, origin, signature algorithm) and keep the new passkey under
    `name`, audited. All or nothing: a name refused after the check keeps no passkey."""
    locked = User.objects.select_for_update().get(pk=user.pk)
    cleaned = passkey_name_check(user=locked, name=name)
    try:
        with transaction.atomic():
            device = helper.register_complete(user=locked, state=state, data=data)
    except IntegrityError as exc:  # the credential id is unique across all users
        raise ValidationError({"passkey": "This passkey is already registered."}) from exc
    device.name = cleaned
    device.confirmed = True
    device.full_clean()
    device.save(update_fields=["name", "confirmed"])
    audit_two_factor(locked, locked, f"{locked.username}: passkey '{cleaned}' added")
    return device


def passkey_signed_in(*, user: User, device: Any) -> None:
    """Audit a sign-in whose second factor was this passkey."""
    audit_two_factor(user, user, f"{user.username}: signed in with passkey '{device.name}'")


@transaction.atomic
def passkey_remove(*, user: User, passkey_id: int) -> str:
    """Remove one of the user's own passkeys (the caller checked the password again); its
    name. The user's other sessions end: one of them may have been verified with it."""
    locked = User.objects.select_for_update().get(pk=user.pk)
    device = WebAuthnCredential.objects.filter(user=locked, pk=passkey_id).first()
    if device is None:
        raise ValidationError({"passkey": "No such passkey of yours; reload the page."})
    name = str(device.name)
    device.delete()
    locked.session_epoch += 1
    locked.save()
    user.session_epoch = locked.session_epoch
    audit_two_factor(locked, locked, f"{locked.username}: passkey '{name}' removed")
    return name

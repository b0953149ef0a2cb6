"""Two-factor sign-in: TOTP authenticator apps (RFC 6238, through django-otp) and single-use
recovery codes (django-otp static tokens); passkeys once these are on
(handrail.web.clinic.passkeys).

Who needs it: the roles in OTP_REQUIRED_ROLES (admins and billers by default: they reach
every patient's record and the clinic's money) must enrol before they can use the app;
everyone else may enrol from their account page. Once enrolled, every sign-in asks for a
code after the password.

Where the state lives: the session records, at sign-in, whether this session still owes a
code (`SESSION_KEY`), so no request pays a query to ask django-otp. Anything that changes
a user's devices behind a session's back (an admin's reset) also ends the user's sessions
(`User.session_epoch`), so a session never outlives the devices it was verified with.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.auth.signals import user_logged_in
from django.core.exceptions import ValidationError
from django.db import transaction
from django.dispatch import receiver
from django.http import HttpRequest
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_otp_webauthn.models import WebAuthnCredential

from handrail.web.audit.models import AuditAction
from handrail.web.audit.services import audit_record
from handrail.web.clinic.models import User

SESSION_KEY = "handrail_2fa"
VERIFIED = "verified"  # the session gave a code after the password
PENDING = "pending"  # the user has a device; this session has not given a code yet
NONE = "none"  # the user had no device when this session signed in

RECOVERY_CODE_COUNT = 10
AUTHENTICATOR = "Authenticator app"
RECOVERY = "Recovery codes"


def two_factor_required(user: User) -> bool:
    """Must this user have a second factor (OTP_REQUIRED_ROLES)?"""
    return user.role in settings.OTP_REQUIRED_ROLES


def two_factor_enrolled(user: User) -> bool:
    enrolled: bool = TOTPDevice.objects.filter(user=user, confirmed=True).exists()
    return enrolled


def session_state(request: HttpRequest) -> str:
    return str(request.session.get(SESSION_KEY, NONE))


def session_mark_verified(request: HttpRequest, device: Any) -> None:
    """This session has given a code (django-otp's session key names the device)."""
    request.session[SESSION_KEY] = VERIFIED
    request.session[DEVICE_ID_SESSION_KEY] = device.persistent_id


@receiver(user_logged_in)
def _session_start(sender: Any, request: HttpRequest | None, user: User, **kwargs: Any) -> None:
    """At each sign-in (after the password): does this session owe a code?"""
    if request is not None and hasattr(request, "session"):
        request.session[SESSION_KEY] = PENDING if two_factor_enrolled(user) else NONE


@dataclass(frozen=True)
class Enrolment:
    device: TOTPDevice
    secret: str  # base32, for typing into an app that cannot scan
    config_url: str  # otpauth://totp/... for the QR code


def _secret(device: TOTPDevice) -> str:
    from base64 import b32encode

    return b32encode(device.bin_key).decode()


@transaction.atomic
def totp_enrolment_start(*, user: User) -> Enrolment:
    """The user's unconfirmed authenticator (made once, so reloading the page keeps the same
    QR code until they confirm it). Refused when one is already confirmed."""
    locked = User.objects.select_for_update().get(pk=user.pk)
    if two_factor_enrolled(locked):
        raise ValidationError({"token": "Two-factor sign-in is already set up."})
    device = TOTPDevice.objects.filter(user=locked, confirmed=False).order_by("pk").first()
    if device is None:
        device = TOTPDevice.objects.create(user=locked, name=AUTHENTICATOR, confirmed=False)
    return Enrolment(device=device, secret=_secret(device), config_url=device.config_url)


def _clean_token(token: str) -> str:
    return "".join(token.split()).replace("-", "").lower()


@transaction.atomic
def totp_enrolment_confirm(*, user: User, token: str) -> tuple[TOTPDevice, list[str]]:
    """The user typed a code from the app they just set up: the authenticator is confirmed
    and 10 new recovery codes are made, returned to be shown this once (the pages never
    show them again). The user's other sessions end: they signed in without the factor."""
    locked = User.objects.select_for_update().get(pk=user.pk)
    if two_factor_enrolled(locked):
        raise ValidationError({"token": "Two-factor sign-in is already set up."})
    device = TOTPDevice.objects.filter(user=locked, confirmed=False).order_by("pk").first()
    if device is None:
        raise ValidationError({"token": "Start again: scan the new QR code first."})
    if not device.verify_token(_clean_token(token)):
        raise ValidationError(
            {"token": "That code does not match; type the 6 digits the app shows now."}
        )
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    TOTPDevice.objects.filter(user=locked, confirmed=False).delete()
    codes = _recovery_codes_replace(locked)
    locked.session_epoch += 1
    locked.save()
    audit_two_factor(locked, locked, f"{locked.username}: two-factor sign-in set up")
    user.session_epoch = locked.session_epoch
    return device, codes


def _recovery_codes_replace(user: User) -> list[str]:
    StaticDevice.objects.filter(user=user).delete()
    device = StaticDevice.objects.create(user=user, name=RECOVERY, confirmed=True)
    codes = [StaticToken.random_token() for _ in range(RECOVERY_CODE_COUNT)]
    StaticToken.objects.bulk_create([StaticToken(device=device, token=c) for c in codes])
    return codes


@transaction.atomic
def recovery_codes_regenerate(*, user: User) -> list[str]:
    """Ten new recovery codes; the old ones stop working. Only for an enrolled user."""
    locked = User.objects.select_for_update().get(pk=user.pk)
    if not two_factor_enrolled(locked):
        raise ValidationError({"token": "Set up two-factor sign-in first."})
    codes = _recovery_codes_replace(locked)
    audit_two_factor(locked, locked, f"{locked.username}: new recovery codes made")
    return codes


def recovery_codes_left(*, user: User) -> int:
    left: int = StaticToken.objects.filter(device__user=user, device__confirmed=True).count()
    return left


THROTTLED = "throttled"


def two_factor_verify(*, user: User, token: str) -> TOTPDevice | StaticDevice:
    """Check a code from the authenticator, or a recovery code (used up by this check).
    Each device slows down guessing on its own (django-otp's throttling: 1, 2, 4, 8...
    seconds after consecutive failures), and a TOTP code is refused a second time. The
    check commits before any error is raised, so a failure is always counted."""
    cleaned = _clean_token(token)
    if not cleaned:
        raise ValidationError({"token": "Type the code from your authenticator app."})
    result = _verify_locked(user, cleaned)
    if result == THROTTLED:
        raise ValidationError({"token": "Too many wrong codes; wait a few seconds and try again."})
    if result is None:
        raise ValidationError({"token": "That code is not right; check the app and try again."})
    assert not isinstance(result, str)
    if isinstance(result, StaticDevice):
        left = recovery_codes_left(user=user)
        detail = f"{user.username}: signed in with a recovery code ({left} left)"
        audit_two_factor(user, user, detail)
    return result


@transaction.atomic
def _verify_locked(user: User, cleaned: str) -> TOTPDevice | StaticDevice | str | None:
    """The device that accepts the code, None, or THROTTLED; the devices are locked, so
    two requests cannot both spend one code or both pass a throttle."""
    totp = list(TOTPDevice.objects.select_for_update().filter(user=user, confirmed=True))
    static = list(StaticDevice.objects.select_for_update().filter(user=user, confirmed=True))
    devices: list[TOTPDevice | StaticDevice] = [*totp, *static] if cleaned.isdigit() else static
    if any(not device.verify_is_allowed()[0] for device in devices):
        return THROTTLED
    for device in devices:
        if device.verify_token(cleaned):
            return device
    return None


def two_factor_devices_delete(*, user: User) -> int:
    """Delete all the user's devices (authenticator, recovery codes and passkeys); how
    many."""
    removed: int = TOTPDevice.objects.filter(user=user).delete()[0]
    removed += StaticDevice.objects.filter(user=user).delete()[0]
    passkeys = WebAuthnCredential.objects.filter(user=user)
    count: int = passkeys.count()
    passkeys.delete()  # with their attestations
    return removed + count


def audit_two_factor(user: User, staff: User, detail: str) -> None:
    if user.clinic_id is not None:  # a bare superuser has no clinic's audit log
        audit_record(user=user, action=AuditAction.UPDATE, obj=staff, patient=None, detail=detail)

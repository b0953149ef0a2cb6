"""Login throttling: lock a username, and separately a client address, after too many
failed sign-ins within a window (OWASP Authentication Cheat Sheet, "Account lockout").

A lock lasts until the failures age out of the window (LOGIN_LOCKOUT_MINUTES). A successful
sign-in clears the username's failures. The address lock uses a limit 4x the username one,
so one office behind a NAT does not lock itself out on a few typos.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone

from handrail.web.clinic.models import LoginFailure

ADDRESS_LIMIT_FACTOR = 4


def _window_start() -> datetime:
    return timezone.now() - timedelta(minutes=settings.LOGIN_LOCKOUT_MINUTES)


def login_is_locked(*, username: str, ip: str) -> bool:
    recent = LoginFailure.objects.filter(at__gte=_window_start())
    limit = settings.LOGIN_FAILURE_LIMIT
    if recent.filter(username=username.lower()).count() >= limit:
        return True
    return bool(ip) and recent.filter(ip=ip).count() >= limit * ADDRESS_LIMIT_FACTOR


def login_failure_record(*, username: str, ip: str) -> None:
    LoginFailure.objects.create(username=username.lower()[:150], ip=ip[:45])


def login_failures_clear(*, username: str) -> None:
    LoginFailure.objects.filter(username=username.lower()).delete()


def login_failures_prune() -> int:
    deleted, _ = LoginFailure.objects.filter(at__lt=_window_start()).delete()
    return deleted

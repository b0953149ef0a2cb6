"""Sign-in throttling that holds under parallel attack (OWASP Authentication Cheat Sheet,
"Account lockout"; OWASP Credential Stuffing Prevention Cheat Sheet).

Two counters guard every sign-in: one per account (the username as typed, lower-cased, so
unknown usernames are counted like real ones) and one per client address. Each is a row
locked with SELECT ... FOR UPDATE while it is read and changed (on SQLite the IMMEDIATE
transaction mode serialises writers), and an attempt is counted *before* its password is
checked. So a burst of parallel guesses cannot all pass the check while none has been
recorded yet: the limit-th attempt in a window is the last one whose password is even
checked. A success proves that attempt was not a failure: it clears the account's counter
and gives the address back its one attempt.

Reaching the limit locks the counter for LOGIN_LOCKOUT_MINUTES; attempts while locked are
refused without checking the password. The address limit is LOGIN_ADDRESS_FAILURE_LIMIT
(default 4x the account limit) so one office behind one NAT does not lock itself out on a
few typos; behind a reverse proxy, list it in TRUSTED_PROXIES so each client is counted on
its own address (`client_address`).
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.db.models.functions import Greatest
from django.http import HttpRequest
from django.utils import timezone

from handrail.web.clinic.models import SignInCounter, SignInScope

KEY_LENGTH = 150


def client_address(request: HttpRequest) -> str:
    """The client's address: REMOTE_ADDR, unless that is a trusted proxy (TRUSTED_PROXIES);
    then the right-most X-Forwarded-For entry that is not a trusted proxy. Entries left of
    it were written by the client and prove nothing, so they are never used."""
    remote = str(request.META.get("REMOTE_ADDR", ""))
    if not _is_trusted(remote):
        return remote
    forwarded = str(request.META.get("HTTP_X_FORWARDED_FOR", ""))
    hops = [hop.strip() for hop in forwarded.split(",")]
    hops = [hop for hop in hops if hop]
    for hop in reversed(hops):
        if not _is_trusted(hop):
            return hop[:45]
    # Every hop is one of ours (a request from inside): the furthest one is the client.
    return hops[0][:45] if hops else remote


def _is_trusted(address: str) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in settings.TRUSTED_PROXY_NETWORKS)


@dataclass(frozen=True)
class Lockout:
    """Why a sign-in was refused unchecked, and when it may be tried again."""

    scope: SignInScope
    until: datetime

    @property
    def minutes_left(self) -> int:
        seconds = (self.until - timezone.now()).total_seconds()
        return max(1, -(-int(seconds) // 60))


@dataclass(frozen=True)
class Attempt:
    """A sign-in attempt that has been counted and may check its password."""

    username: str
    address: str
    counts: dict[SignInScope, int]


def _keys(*, username: str, address: str) -> list[tuple[SignInScope, str, int]]:
    limit = settings.LOGIN_FAILURE_LIMIT
    keys = [(SignInScope.ACCOUNT, username.strip().lower()[:KEY_LENGTH], limit)]
    if address:
        keys.append((SignInScope.ADDRESS, address[:KEY_LENGTH], _address_limit()))
    return keys


def _address_limit() -> int:
    configured: int | None = settings.LOGIN_ADDRESS_FAILURE_LIMIT
    return configured if configured else settings.LOGIN_FAILURE_LIMIT * 4


@transaction.atomic
def sign_in_attempt_begin(*, username: str, address: str) -> Attempt | Lockout:
    """Count one attempt against the account and the address, atomically; a `Lockout` when
    either is locked (or this attempt is past a limit, which locks it), else the `Attempt`
    whose password may now be checked. Rows are locked account first, then address, in
    every caller, so two attempts cannot deadlock."""
    now = timezone.now()
    window = timedelta(minutes=settings.LOGIN_LOCKOUT_MINUTES)
    keys = _keys(username=username, address=address)
    SignInCounter.objects.bulk_create(
        [SignInCounter(scope=scope, key=key, window_started_at=now) for scope, key, _ in keys],
        ignore_conflicts=True,
    )
    counts: dict[SignInScope, int] = {}
    refused: Lockout | None = None
    for scope, key, limit in keys:
        row = SignInCounter.objects.select_for_update().get(scope=scope, key=key)
        if row.locked_until is not None and row.locked_until > now:
            refused = refused or Lockout(scope=SignInScope(scope), until=row.locked_until)
            continue
        if row.locked_until is not None or row.window_started_at <= now - window:
            row.failures, row.window_started_at, row.locked_until = 0, now, None
        row.failures += 1
        if row.failures > limit:
            # Earlier attempts of this window still in flight (or failed) used the allowance.
            row.locked_until = now + window
            refused = refused or Lockout(scope=SignInScope(scope), until=row.locked_until)
        counts[SignInScope(scope)] = row.failures
        row.save(update_fields=["failures", "window_started_at", "locked_until"])
    return refused or Attempt(username=username, address=address, counts=counts)


@transaction.atomic
def sign_in_attempt_failed(*, attempt: Attempt) -> None:
    """The password was wrong: the attempt stays counted, and the limit-th failure of a
    window locks its counter at once (the next attempt is refused unchecked)."""
    now = timezone.now()
    until = now + timedelta(minutes=settings.LOGIN_LOCKOUT_MINUTES)
    for scope, key, limit in _keys(username=attempt.username, address=attempt.address):
        if attempt.counts.get(scope, 0) >= limit:
            SignInCounter.objects.filter(scope=scope, key=key, locked_until__isnull=True).update(
                locked_until=until
            )


@transaction.atomic
def sign_in_attempt_succeeded(*, attempt: Attempt) -> None:
    """The password was right: the account starts afresh and the address gets this one
    attempt back (so a clinic's many daily sign-ins never add up to a lock)."""
    for scope, key, _limit in _keys(username=attempt.username, address=attempt.address):
        rows = SignInCounter.objects.filter(scope=scope, key=key)
        if scope == SignInScope.ACCOUNT:
            rows.update(failures=0, locked_until=None)
        else:
            rows.filter(locked_until__isnull=True).update(failures=Greatest(F("failures") - 1, 0))


@transaction.atomic
def sign_in_lock_clear(*, username: str) -> int:
    """Lift an account's lock and forget its failures (a clinic admin, once the person is
    known to be who they say); the number of rows changed."""
    return SignInCounter.objects.filter(
        scope=SignInScope.ACCOUNT, key=username.strip().lower()[:KEY_LENGTH]
    ).update(failures=0, locked_until=None)


def sign_in_counters_prune() -> int:
    """Delete counters whose window and lock have both passed; the number deleted."""
    now = timezone.now()
    window_start = now - timedelta(minutes=settings.LOGIN_LOCKOUT_MINUTES)
    deleted, _ = (
        SignInCounter.objects.filter(window_started_at__lt=window_start)
        .filter(Q(locked_until__isnull=True) | Q(locked_until__lt=now))
        .delete()
    )
    return deleted

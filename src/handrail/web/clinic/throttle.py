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

Where the counters live: with REDIS_URL (several web nodes) in Redis, one hash per counter
(failures, window start, lock end) changed only by a Lua script, which Redis runs atomically
(the read, increment and lock of both of an attempt's counters are one step for every node;
both keys are on one Redis, as in the topology the README draws), with an expiry that
forgets it once its window and lock have passed; without REDIS_URL in the database
(SignInCounter rows). The same rules either way, on the app's clock. A Redis that cannot be
reached refuses the sign-in with a message (never a password checked uncounted).
"""

from __future__ import annotations

import ipaddress
import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, Q
from django.db.models.functions import Greatest
from django.http import HttpRequest
from django.utils import timezone
from redis import Redis, RedisError

from handrail.web.clinic.models import SignInCounter, SignInScope
from handrail.web.shared_redis import KEY_PREFIX, redis_client

logger = logging.getLogger(__name__)

KEY_LENGTH = 150
UNAVAILABLE = (
    "Signing in is unavailable for a moment (the server cannot reach its sign-in counters). "
    "Try again in a minute; if it goes on, tell your clinic admin."
)
LOCKS_UNAVAILABLE = (
    "The sign-in lock could not be lifted: the server cannot reach its sign-in counters. "
    "Try again in a minute."
)


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


def sign_in_attempt_begin(*, username: str, address: str) -> Attempt | Lockout:
    """Count one attempt against the account and the address, atomically; a `Lockout` when
    either is locked (or this attempt is past a limit, which locks it), else the `Attempt`
    whose password may now be checked. A ValidationError when Redis cannot be reached."""
    client = redis_client()
    if client is None:
        return _db_attempt_begin(username=username, address=address)
    try:
        return _redis_attempt_begin(client, username=username, address=address)
    except RedisError:
        logger.exception("sign-in counters: Redis unreachable; the sign-in is refused")
        raise ValidationError(UNAVAILABLE, code="unavailable") from None


def sign_in_attempt_failed(*, attempt: Attempt) -> None:
    """The password was wrong: the attempt stays counted, and the limit-th failure of a
    window locks its counter at once (the next attempt is refused unchecked)."""
    client = redis_client()
    if client is None:
        _db_attempt_failed(attempt=attempt)
        return
    try:
        _redis_attempt_failed(client, attempt=attempt)
    except RedisError:  # counted already: the next attempt past the limit still locks
        logger.exception("sign-in counters: Redis unreachable while recording a failure")


def sign_in_attempt_succeeded(*, attempt: Attempt) -> None:
    """The password was right: the account starts afresh and the address gets this one
    attempt back (so a clinic's many daily sign-ins never add up to a lock)."""
    client = redis_client()
    if client is None:
        _db_attempt_succeeded(attempt=attempt)
        return
    try:
        _redis_attempt_succeeded(client, attempt=attempt)
    except RedisError:
        logger.exception("sign-in counters: Redis unreachable while recording a success")


def sign_in_lock_clear(*, username: str) -> int:
    """Lift an account's lock and forget its failures (a clinic admin, once the person is
    known to be who they say); the number of counters changed (0 or 1)."""
    client = redis_client()
    if client is None:
        return _db_lock_clear(username=username)
    try:
        return _redis_lock_clear(client, username=username)
    except RedisError:
        logger.exception("sign-in counters: Redis unreachable; the lock was not lifted")
        raise ValidationError(LOCKS_UNAVAILABLE, code="unavailable") from None


def sign_in_locked_until(*, username: str) -> datetime | None:
    """When the account's sign-in lock ends, or None when it is not locked."""
    key = username.strip().lower()[:KEY_LENGTH]
    client = redis_client()
    now = timezone.now()
    if client is None:
        return (
            SignInCounter.objects.filter(scope=SignInScope.ACCOUNT, key=key, locked_until__gt=now)
            .values_list("locked_until", flat=True)
            .first()
        )
    try:
        raw = client.hget(_redis_key(SignInScope.ACCOUNT, key), "locked_until")
    except RedisError:
        logger.exception("sign-in counters: Redis unreachable; a lock cannot be shown")
        return None
    until = _from_epoch(float(raw or 0))
    return until if until is not None and until > now else None


# --- In the database (one machine) --------------------------------------------------------


@transaction.atomic
def _db_attempt_begin(*, username: str, address: str) -> Attempt | Lockout:
    """Rows are locked account first, then address, in every caller, so two attempts
    cannot deadlock."""
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
def _db_attempt_failed(*, attempt: Attempt) -> None:
    now = timezone.now()
    until = now + timedelta(minutes=settings.LOGIN_LOCKOUT_MINUTES)
    for scope, key, limit in _keys(username=attempt.username, address=attempt.address):
        if attempt.counts.get(scope, 0) >= limit:
            SignInCounter.objects.filter(scope=scope, key=key, locked_until__isnull=True).update(
                locked_until=until
            )


@transaction.atomic
def _db_attempt_succeeded(*, attempt: Attempt) -> None:
    for scope, key, _limit in _keys(username=attempt.username, address=attempt.address):
        rows = SignInCounter.objects.filter(scope=scope, key=key)
        if scope == SignInScope.ACCOUNT:
            rows.update(failures=0, locked_until=None)
        else:
            rows.filter(locked_until__isnull=True).update(failures=Greatest(F("failures") - 1, 0))


@transaction.atomic
def _db_lock_clear(*, username: str) -> int:
    return SignInCounter.objects.filter(
        scope=SignInScope.ACCOUNT, key=username.strip().lower()[:KEY_LENGTH]
    ).update(failures=0, locked_until=None)


def sign_in_counters_prune() -> int:
    """Delete counters whose window and lock have both passed; the number deleted. (The
    counters in Redis expire on their own.)"""
    now = timezone.now()
    window_start = now - timedelta(minutes=settings.LOGIN_LOCKOUT_MINUTES)
    deleted, _ = (
        SignInCounter.objects.filter(window_started_at__lt=window_start)
        .filter(Q(locked_until__isnull=True) | Q(locked_until__lt=now))
        .delete()
    )
    return deleted


# --- In Redis (several web nodes) --------------------------------------------------------
# One hash per counter: failures, started (window start) and locked_until (0: not locked),
# times as epoch seconds of the app's clock (passed in, so every node and the tests agree).
# Each script runs atomically in Redis: no other attempt runs between its read and write.

# KEYS: every counter of the attempt (account, address); ARGV: now, window seconds, expiry
# seconds, then each counter's limit in KEYS order. One script for all of an attempt's
# counters, so no other attempt runs between counting the account and counting the address:
# otherwise an attempt counted 5th on its account could find its address locked by twenty
# others in between, and fewer than the limit's worth of passwords would be checked.
# Returns {failures, locked_until} per counter: failures 0 when refused unchecked (locked).
_BEGIN = """
local now = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local result = {}
for i, key in ipairs(KEYS) do
  local locked = tonumber(redis.call('HGET', key, 'locked_until') or '0')
  if locked > now then
    table.insert(result, 0)
    table.insert(result, tostring(locked))
  else
    local started = tonumber(redis.call('HGET', key, 'started') or '0')
    if locked > 0 or started <= now - window then
      redis.call('HSET', key, 'failures', 0, 'started', ARGV[1], 'locked_until', 0)
    end
    local failures = redis.call('HINCRBY', key, 'failures', 1)
    local locked_until = 0
    if failures > tonumber(ARGV[3 + i]) then
      locked_until = now + window
      redis.call('HSET', key, 'locked_until', tostring(locked_until))
    end
    redis.call('EXPIRE', key, ARGV[3])
    table.insert(result, failures)
    table.insert(result, tostring(locked_until))
  end
end
return result
"""
# KEYS[1] counter; ARGV lock end. Locks a counter not locked yet.
_LOCK = """
if redis.call('EXISTS', KEYS[1]) == 1
   and tonumber(redis.call('HGET', KEYS[1], 'locked_until') or '0') == 0 then
  redis.call('HSET', KEYS[1], 'locked_until', ARGV[1])
end
return 0
"""
# KEYS[1] counter; ARGV "account" or "address". Account: afresh; address: one failure back.
_SUCCEEDED = """
if redis.call('EXISTS', KEYS[1]) == 0 then
  return 0
end
if ARGV[1] == 'account' then
  redis.call('HSET', KEYS[1], 'failures', 0, 'locked_until', 0)
elseif tonumber(redis.call('HGET', KEYS[1], 'locked_until') or '0') == 0
       and tonumber(redis.call('HGET', KEYS[1], 'failures') or '0') > 0 then
  redis.call('HINCRBY', KEYS[1], 'failures', -1)
end
return 1
"""


def _redis_key(scope: str, key: str) -> str:
    return f"{KEY_PREFIX}signin:{scope}:{key}"


def _epoch(moment: datetime) -> float:
    return moment.timestamp()


def _from_epoch(seconds: float) -> datetime | None:
    return datetime.fromtimestamp(seconds, tz=UTC) if seconds > 0 else None


def _expiry_seconds() -> int:
    """Kept until its window and a lock from its last attempt have both passed."""
    return 2 * settings.LOGIN_LOCKOUT_MINUTES * 60 + 60


def _redis_attempt_begin(client: Redis, *, username: str, address: str) -> Attempt | Lockout:
    now = timezone.now()
    window = settings.LOGIN_LOCKOUT_MINUTES * 60
    keys = _keys(username=username, address=address)
    begin = client.register_script(_BEGIN)
    answer = begin(
        keys=[_redis_key(scope, key) for scope, key, _limit in keys],
        args=[repr(_epoch(now)), window, _expiry_seconds(), *(limit for *_, limit in keys)],
    )
    counts: dict[SignInScope, int] = {}
    refused: Lockout | None = None
    for (scope, _key, _limit), failures, locked in zip(
        keys, answer[0::2], answer[1::2], strict=True
    ):
        until = _from_epoch(float(locked))
        if until is not None:
            refused = refused or Lockout(scope=SignInScope(scope), until=until)
        if int(failures):
            counts[SignInScope(scope)] = int(failures)
    return refused or Attempt(username=username, address=address, counts=counts)


def _redis_attempt_failed(client: Redis, *, attempt: Attempt) -> None:
    until = timezone.now() + timedelta(minutes=settings.LOGIN_LOCKOUT_MINUTES)
    lock = client.register_script(_LOCK)
    for scope, key, limit in _keys(username=attempt.username, address=attempt.address):
        if attempt.counts.get(scope, 0) >= limit:
            lock(keys=[_redis_key(scope, key)], args=[repr(_epoch(until))])


def _redis_attempt_succeeded(client: Redis, *, attempt: Attempt) -> None:
    succeeded = client.register_script(_SUCCEEDED)
    for scope, key, _limit in _keys(username=attempt.username, address=attempt.address):
        succeeded(keys=[_redis_key(scope, key)], args=[str(scope)])


def _redis_lock_clear(client: Redis, *, username: str) -> int:
    succeeded = client.register_script(_SUCCEEDED)
    key = _redis_key(SignInScope.ACCOUNT, username.strip().lower()[:KEY_LENGTH])
    return int(succeeded(keys=[key], args=[str(SignInScope.ACCOUNT)]))

"""The sender role of the denial-pattern hub (docs/patterns.md): with PATTERN_HUB_URL and
PATTERN_HUB_KEY set, each anonymous report made here is also sent to that hub, and the
denials worklist shows the hub's aggregates instead of this server's own.

Sending. A report gets a HubDelivery row in the same transaction that saves it, so it is
never lost, and the background worker sends it (task send_hub_report), never the biller's
request. The hub stores a report once per report id (the line key), so delivery may safely
be at least once: a network failure, a 429 or a 5xx leaves the row waiting with a back-off
(30 s doubling to an hour, without end: a hub that is down for a week gets the reports when
it is back), and a row left "sending" by a worker that stopped goes back to waiting after
STALE_SENDING. Only the hub's refusal of the report or the key (another 4xx) fails a row,
with the hub's reason; `manage.py pattern_hub retry` queues failed rows again.

Figures. The worker fetches the hub's aggregates every PATTERN_HUB_SYNC_SECONDS (task
hub_sync) and keeps them in the database with their fetch time (HubPatternCache). Pages
read only that row, so a hub that is slow or down never makes a page wait or fail: the page
says when the figures are from, or that they are unavailable and shows this server's own
reports instead. (The other choice, a fetch with a short timeout in the request, would still
add that timeout to every page view while the hub is down, and each web node would fetch.)

Outside calls go only to the configured hub, over TLS with the certificate verified (http://
is accepted only for a hub on this machine: settings), without following redirects.
"""

from __future__ import annotations

import json
import logging
import ssl
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Count, F
from django.utils import timezone

from handrail.claims import patterns as p
from handrail.web.remittances.models import (
    DenialReport,
    HubDelivery,
    HubDeliveryStatus,
    HubPatternCache,
)

logger = logging.getLogger(__name__)

BACKOFF_FIRST = timedelta(seconds=30)
BACKOFF_MAX = timedelta(hours=1)
STALE_SENDING = timedelta(minutes=10)
MAX_ANSWER = 5 * 1024 * 1024  # the hub's aggregates: a few KB in practice


class HubError(Exception):
    """A call to the hub that did not work; `temporary`: worth trying again later."""

    def __init__(self, message: str, *, temporary: bool) -> None:
        super().__init__(message)
        self.temporary = temporary


def hub_configured() -> bool:
    return bool(settings.PATTERN_HUB_URL and settings.PATTERN_HUB_KEY)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None  # a redirect is answered as the error it is: the key goes nowhere else


def _opener() -> urllib.request.OpenerDirector:
    context = ssl.create_default_context()  # verifies the certificate and the host name
    return urllib.request.build_opener(_NoRedirect(), urllib.request.HTTPSHandler(context=context))


def hub_call(method: str, path: str, body: dict[str, Any] | None = None) -> tuple[int, Any]:
    """Call the configured hub's API; the status and the decoded JSON answer, or HubError."""
    url = settings.PATTERN_HUB_URL.rstrip("/") + path
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method)
    request.add_header("Authorization", f"Bearer {settings.PATTERN_HUB_KEY}")
    request.add_header("Accept", "application/json")
    if data is not None:
        request.add_header("Content-Type", "application/json")
    try:
        with _opener().open(request, timeout=settings.PATTERN_HUB_TIMEOUT_SECONDS) as answer:
            status, raw = answer.status, answer.read(MAX_ANSWER + 1)
    except urllib.error.HTTPError as error:
        status, raw = error.code, error.read(MAX_ANSWER + 1)
        error.close()
        detail = _detail(raw) or error.reason
        temporary = status == 429 or status >= 500
        raise HubError(f"the hub answered {status}: {detail}"[:400], temporary=temporary) from None
    except (urllib.error.URLError, OSError) as error:  # refused, reset, timed out, TLS
        reason = getattr(error, "reason", None) or error or type(error).__name__
        raise HubError(f"the hub is unreachable: {reason}"[:400], temporary=True) from None
    if len(raw) > MAX_ANSWER:
        raise HubError("the hub's answer is too large", temporary=True)
    try:
        return status, json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise HubError(f"the hub answered {status} without JSON", temporary=True) from None


def _detail(raw: bytes) -> str:
    try:
        answer = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError):
        return ""
    return str(answer.get("detail", "")) if isinstance(answer, dict) else ""


def backoff(attempts: int) -> timedelta:
    """Wait before the next try after `attempts` failed ones: 30 s, 1 min, 2 min... 1 h."""
    wait: timedelta = BACKOFF_FIRST * (2 ** min(max(0, attempts - 1), 12))
    return min(BACKOFF_MAX, wait)


# --- Sending -----------------------------------------------------------------------------


def hub_delivery_queue(*, report: DenialReport, now: datetime | None = None) -> HubDelivery | None:
    """Queue the report for the hub when one is configured (inside the caller's transaction:
    the row commits with the report); the worker sends it once the transaction commits."""
    if not hub_configured():
        return None
    delivery = HubDelivery(report=report, next_attempt_at=now or timezone.now())
    delivery.full_clean()
    delivery.save()
    transaction.on_commit(lambda: enqueue_delivery(delivery.pk))
    return delivery


def enqueue_delivery(delivery_id: int, run_after: datetime | None = None) -> None:
    """Hand the row to the background worker. A queue that refuses (Redis down) only leaves
    the row to the periodic sweep (hub_sync): the biller's request never fails for it."""
    from handrail.web.remittances.tasks import send_hub_report

    try:
        if run_after is None:
            send_hub_report.enqueue(delivery_id)
        elif send_hub_report.get_backend().supports_defer:
            send_hub_report.using(run_after=run_after).enqueue(delivery_id)
    except Exception as exc:  # noqa: BLE001 (any queue failure: the sweep sends it later)
        logger.warning("hub delivery %s left to the sweep: %s", delivery_id, exc)


def _payload(report: DenialReport) -> dict[str, Any]:
    return {
        "report_id": report.line_key,
        "code": report.code,
        "modifiers": list(report.modifiers),
        "payer_kind": report.payer_kind,
        "group": report.group,
        "reason": report.reason,
        "remarks": list(report.remarks),
        "fix": report.fix,
    }


def hub_delivery_send(*, delivery_id: int, now: datetime | None = None) -> str:
    """Send one waiting, due report to the hub; what happened: sent, retry, failed, or
    skipped (no hub configured, not waiting, not due, or another worker has it).

    Not one transaction: the claim (waiting -> sending) commits before the hub is called, so
    no database lock is held while the network is."""
    if not hub_configured():
        return "skipped"
    now = now or timezone.now()
    claimed = HubDelivery.objects.filter(
        pk=delivery_id, status=HubDeliveryStatus.WAITING, next_attempt_at__lte=now
    ).update(status=HubDeliveryStatus.SENDING, attempts=F("attempts") + 1, sending_started_at=now)
    if claimed != 1:
        return "skipped"
    delivery = HubDelivery.objects.select_related("report").get(pk=delivery_id)
    try:
        hub_call("POST", "/api/hub/reports", _payload(delivery.report))
    except HubError as error:
        if error.temporary:
            retry_at = now + backoff(delivery.attempts)
            HubDelivery.objects.filter(pk=delivery_id, status=HubDeliveryStatus.SENDING).update(
                status=HubDeliveryStatus.WAITING,
                next_attempt_at=retry_at,
                last_error=f"Attempt {delivery.attempts}: {error}"[:500],
            )
            enqueue_delivery(delivery_id, run_after=retry_at)
            return "retry"
        HubDelivery.objects.filter(pk=delivery_id, status=HubDeliveryStatus.SENDING).update(
            status=HubDeliveryStatus.FAILED, last_error=str(error)[:500]
        )
        return "failed"
    HubDelivery.objects.filter(pk=delivery_id, status=HubDeliveryStatus.SENDING).update(
        status=HubDeliveryStatus.SENT, sent_at=timezone.now(), last_error=""
    )
    return "sent"


def hub_deliveries_send_due(*, now: datetime | None = None, limit: int = 200) -> dict[str, int]:
    """The sweep behind the per-report tasks: rows a stopped worker left "sending" wait
    again (the hub counts a report id once), then every due row is sent, stopping at the
    first temporary failure (a hub that is down is not called 200 times in a row)."""
    if not hub_configured():
        return {}
    now = now or timezone.now()
    counts = {
        "stale": HubDelivery.objects.filter(
            status=HubDeliveryStatus.SENDING, sending_started_at__lt=now - STALE_SENDING
        ).update(status=HubDeliveryStatus.WAITING, next_attempt_at=now)
    }
    due = HubDelivery.objects.filter(
        status=HubDeliveryStatus.WAITING, next_attempt_at__lte=now
    ).order_by("next_attempt_at", "pk")
    for delivery_id in list(due.values_list("pk", flat=True)[:limit]):
        outcome = hub_delivery_send(delivery_id=delivery_id, now=now)
        counts[outcome] = counts.get(outcome, 0) + 1
        if outcome == "retry":
            break
    return counts


def hub_deliveries_retry_failed(*, now: datetime | None = None) -> int:
    """Failed rows wait again, due now (e.g. after the admin fixed PATTERN_HUB_KEY)."""
    now = now or timezone.now()
    ids = list(
        HubDelivery.objects.filter(status=HubDeliveryStatus.FAILED).values_list("pk", flat=True)
    )
    HubDelivery.objects.filter(pk__in=ids, status=HubDeliveryStatus.FAILED).update(
        status=HubDeliveryStatus.WAITING, attempts=0, next_attempt_at=now
    )
    for delivery_id in ids:
        enqueue_delivery(delivery_id)
    return len(ids)


def hub_delivery_counts() -> dict[str, int]:
    rows = HubDelivery.objects.values("status").annotate(n=Count("pk")).order_by()
    return {row["status"]: row["n"] for row in rows}


# --- The hub's figures -------------------------------------------------------------------


def _counted(items: Any, name: str) -> list[list[Any]]:
    if not isinstance(items, list):
        raise ValueError(name)
    out = []
    for item in items:
        if not isinstance(item, dict) or not isinstance(item.get("value"), str):
            raise ValueError(name)
        if not isinstance(item.get("count"), int):
            raise ValueError(name)
        out.append([item["value"][:40], item["count"]])
    return out


def _patterns_from(answer: Any) -> list[dict[str, Any]]:
    """The hub's answer checked field by field; ValueError names the part that is wrong."""
    if not isinstance(answer, dict) or not isinstance(answer.get("patterns"), list):
        raise ValueError("patterns")
    patterns = []
    for item in answer["patterns"]:
        if not isinstance(item, dict):
            raise ValueError("patterns")
        for name in ("code", "payer_kind", "reason"):
            if not isinstance(item.get(name), str) or len(item[name]) > 20:
                raise ValueError(name)
        for name in ("reports", "clinics"):
            if not isinstance(item.get(name), int):
                raise ValueError(name)
        if not p.is_shown(item["reports"], item["clinics"]):
            continue  # below the threshold: never shown, whatever the hub sent
        patterns.append(
            {
                "code": item["code"],
                "payer_kind": item["payer_kind"],
                "reason": item["reason"],
                "reports": item["reports"],
                "clinics": item["clinics"],
                **{k: _counted(item.get(k), k) for k in ("modifiers", "remarks", "fixes")},
            }
        )
    return patterns


def hub_patterns_fetch(*, now: datetime | None = None) -> int | None:
    """Fetch the hub's aggregates into HubPatternCache; how many, or None when the fetch
    failed (the reason is kept with the time of the try; the last figures stay)."""
    if not hub_configured():
        return None
    now = now or timezone.now()
    cache, _ = HubPatternCache.objects.get_or_create(hub_url=settings.PATTERN_HUB_URL)
    try:
        _status, answer = hub_call("GET", "/api/hub/patterns")
        patterns = _patterns_from(answer)
    except HubError as error:
        cache.attempted_at, cache.last_error = now, str(error)[:500]
        cache.save(update_fields=["attempted_at", "last_error"])
        return None
    except ValueError as error:
        cache.attempted_at = now
        cache.last_error = f"the hub's answer was not understood ({error})"
        cache.save(update_fields=["attempted_at", "last_error"])
        return None
    cache.patterns, cache.fetched_at, cache.attempted_at, cache.last_error = (
        patterns, now, now, ""
    )  # fmt: skip
    cache.save()
    return len(patterns)


def hub_sync(*, now: datetime | None = None) -> dict[str, int]:
    """The worker's periodic task: send what is due, then fetch the figures (nothing without
    a hub)."""
    if not hub_configured():
        return {}
    counts = hub_deliveries_send_due(now=now)
    fetched = hub_patterns_fetch(now=now)
    if fetched is None:
        counts["fetch_failed"] = 1
    else:
        counts["patterns"] = fetched
    return counts


@dataclass(frozen=True)
class HubView:
    """What the pages show of the hub: its figures when a fetch ever worked, and a note."""

    available: bool
    fetched_at: datetime | None
    attempted_at: datetime | None
    error: str
    patterns: dict[tuple[str, str, str], p.Pattern]

    @property
    def note(self) -> str:
        if not self.available:
            why = self.error or "not fetched yet; the background worker fetches them"
            return f"The hub's figures are unavailable ({why}); shown: this server's own reports."
        assert self.fetched_at is not None
        note = f"Figures from the pattern hub as of {_when(self.fetched_at)}."
        if self.error and self.attempted_at and self.attempted_at > self.fetched_at:
            note += f" The last fetch, at {_when(self.attempted_at)}, failed: {self.error}."
        return note


def _when(moment: datetime) -> str:
    return f"{timezone.localtime(moment):%Y-%m-%d %H:%M %Z}"


def _pattern(item: dict[str, Any]) -> p.Pattern:
    def pairs(name: str) -> tuple[tuple[str, int], ...]:
        return tuple((str(v), int(n)) for v, n in item[name])

    return p.Pattern(
        code=item["code"],
        payer_kind=item["payer_kind"],
        reason=item["reason"],
        reports=item["reports"],
        clinics=item["clinics"],
        modifiers=pairs("modifiers"),
        remarks=pairs("remarks"),
        fixes=pairs("fixes"),
    )


def hub_view() -> HubView | None:
    """The hub's figures as last fetched; None when no hub is configured."""
    if not hub_configured():
        return None
    cache = HubPatternCache.objects.filter(hub_url=settings.PATTERN_HUB_URL).first()
    if cache is None:
        return HubView(False, None, None, "", {})
    try:
        patterns = [_pattern(item) for item in cache.patterns] if cache.fetched_at else []
    except (KeyError, TypeError, ValueError):
        # Only hub_patterns_fetch writes the row, checked; a row from an older Handrail that
        # cannot be read is as good as none: the page falls back, never fails.
        return HubView(False, None, cache.attempted_at, "the stored figures are unreadable", {})
    return HubView(
        available=cache.fetched_at is not None,
        fetched_at=cache.fetched_at,
        attempted_at=cache.attempted_at,
        error=cache.last_error,
        patterns={(pt.code, pt.payer_kind, pt.reason): pt for pt in patterns},
    )

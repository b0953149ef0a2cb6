"""Rate limits of the patient-link pages: one counter per token (its hash) and one per client
address, each a row locked while it is read and changed (the pattern of
handrail.web.clinic.throttle), so parallel requests cannot all slip under the limit.

The address counter also counts requests with unknown tokens: guessing tokens from one
address is stopped by it even though each guess names a different token. Limits and the
window are settings (PORTAL_RATE_LIMIT, PORTAL_ADDRESS_RATE_LIMIT, PORTAL_RATE_WINDOW_SECONDS).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from handrail.web.portal.models import LimitScope, LinkCounter


@transaction.atomic
def link_hit(*, token_hash: str, address: str, now: datetime | None = None) -> datetime | None:
    """Count one request; None when it may go on, else when the caller may try again."""
    now = now or timezone.now()
    window = timedelta(seconds=settings.PORTAL_RATE_WINDOW_SECONDS)
    keys = [(LimitScope.TOKEN, token_hash[:64], settings.PORTAL_RATE_LIMIT)]
    if address:
        keys.append((LimitScope.ADDRESS, address[:64], settings.PORTAL_ADDRESS_RATE_LIMIT))
    LinkCounter.objects.bulk_create(
        [LinkCounter(scope=scope, key=key, window_started_at=now) for scope, key, _ in keys],
        ignore_conflicts=True,
    )
    retry_at: datetime | None = None
    # Locked in one order (token, then address) by every caller: no deadlock.
    for scope, key, limit in keys:
        row = LinkCounter.objects.select_for_update().get(scope=scope, key=key)
        if row.window_started_at <= now - window:
            row.hits, row.window_started_at = 0, now
        row.hits += 1
        row.save(update_fields=["hits", "window_started_at"])
        if row.hits > limit:
            until = row.window_started_at + window
            retry_at = until if retry_at is None else max(retry_at, until)
    return retry_at


def link_counters_prune(*, now: datetime | None = None) -> int:
    now = now or timezone.now()
    window = timedelta(seconds=settings.PORTAL_RATE_WINDOW_SECONDS)
    deleted, _ = LinkCounter.objects.filter(window_started_at__lt=now - window).delete()
    return deleted

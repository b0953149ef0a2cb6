"""Reads of the operations app: is a background worker alive for every queue?"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone

from handrail.web.ops.models import WorkerHeartbeat

START_HINT = "start one with: manage.py worker"


def worker_readiness(*, now: datetime | None = None) -> str:
    """ "ok" when a worker wrote its heartbeat within WORKER_STALE_SECONDS for every
    configured queue; else why not, in words an operator can act on."""
    now = now or timezone.now()
    stale_after = timedelta(seconds=settings.WORKER_STALE_SECONDS)
    beats = list(WorkerHeartbeat.objects.order_by("-beat_at"))
    live = [beat for beat in beats if beat.beat_at >= now - stale_after]
    if not live:
        if not beats:
            return f"no worker has reported; queued tasks (emails) wait: {START_HINT}"
        age = int((now - beats[0].beat_at).total_seconds())
        return (
            f"no worker heartbeat for {age} s (stale after {settings.WORKER_STALE_SECONDS} s; "
            f"last: {beats[0]}); queued tasks (emails) wait: {START_HINT}"
        )
    served: set[str] = set().union(*(beat.queue_names for beat in live))
    if "*" in served:
        return "ok"
    missing = [name for name in settings.TASK_QUEUES if name not in served]
    if missing:
        return (
            f"no live worker serves the queue(s) {', '.join(missing)}; "
            f"{START_HINT} --queue {','.join(missing)}"
        )
    return "ok"

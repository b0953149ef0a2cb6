"""Writes of the operations app: the background workers' heartbeats."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from handrail.web.ops.models import WorkerHeartbeat

# A row whose worker died without removing it is forgotten after a day (a restart under a
# new id otherwise leaves one row per crash).
FORGET_AFTER = timedelta(days=1)


@transaction.atomic
def heartbeat_beat(
    *,
    worker_id: str,
    hostname: str,
    pid: int,
    backend: str,
    queues: str,
    started_at: datetime,
    tasks_run: int,
    now: datetime | None = None,
) -> WorkerHeartbeat:
    """Record that this worker is alive now (insert on its first beat, update after)."""
    now = now or timezone.now()
    beat, _ = WorkerHeartbeat.objects.update_or_create(
        worker_id=worker_id,
        defaults={
            "hostname": hostname[:255],
            "pid": pid,
            "backend": backend[:100],
            "queues": queues[:255],
            "started_at": started_at,
            "beat_at": now,
            "tasks_run": tasks_run,
        },
    )
    return beat


def heartbeat_end(*, worker_id: str) -> None:
    """A worker that stops cleanly takes its row away: it is not a dead worker."""
    WorkerHeartbeat.objects.filter(worker_id=worker_id).delete()


def heartbeats_forget_dead(*, now: datetime | None = None) -> int:
    now = now or timezone.now()
    deleted, _ = WorkerHeartbeat.objects.filter(beat_at__lt=now - FORGET_AFTER).delete()
    return deleted

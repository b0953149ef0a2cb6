"""Operations records: the background workers' heartbeats (read by /readyz)."""

from __future__ import annotations

from django.db import models


class WorkerHeartbeat(models.Model):
    """One row per running `manage.py worker` process, rewritten every
    WORKER_HEARTBEAT_SECONDS while it waits for or between tasks; removed when it stops
    cleanly. A row that stops moving is a worker that died or hangs."""

    worker_id = models.CharField(max_length=64, unique=True)
    hostname = models.CharField(max_length=255)
    pid = models.PositiveIntegerField()
    backend = models.CharField(max_length=100)
    # Comma-separated queue names, or "*" for every queue.
    queues = models.CharField(max_length=255)
    started_at = models.DateTimeField()
    beat_at = models.DateTimeField(db_index=True)
    tasks_run = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"worker {self.worker_id} on {self.hostname} (pid {self.pid})"

    @property
    def queue_names(self) -> set[str]:
        return set(self.queues.split(","))

"""The background worker for the database task backend, with a heartbeat.

django-tasks-db's own `db_worker` loop claims and runs tasks but leaves no trace of being
alive, so /readyz could not tell a worker that died from an empty queue. This worker reuses
its claiming and running (`Worker.run_task`, `DBTaskResult.objects.ready().get_locked()`)
and writes a heartbeat row (handrail.web.ops.models.WorkerHeartbeat) between tasks and
while it waits. Between tasks it also enqueues the periodic tasks that are due
(handrail.web.ops.schedule: the reminders, the outbox's safety net), so nothing needs cron.
"""

from __future__ import annotations

import logging
import os
import socket
import time

from django.conf import settings
from django.db import close_old_connections
from django.db.utils import OperationalError
from django.utils import timezone
from django_tasks import task_backends
from django_tasks_db import DatabaseBackend
from django_tasks_db.management.commands.db_worker import Worker
from django_tasks_db.models import DBTaskResult
from django_tasks_db.utils import exclusive_transaction

from handrail.web.ops.schedule import periodic_enqueue, periodic_prune
from handrail.web.ops.services import heartbeat_beat, heartbeat_end, heartbeats_forget_dead

logger = logging.getLogger(__name__)


def default_worker_id() -> str:
    """Unique across the pool and readable in /readyz: host and process id."""
    return f"{socket.gethostname()[:40]}-{os.getpid()}"


class HeartbeatWorker(Worker):
    """Runs ready tasks of its queues (oldest, highest priority first), one at a time."""

    def __init__(
        self,
        *,
        queue_names: list[str],
        backend_name: str = "default",
        interval: float = 1.0,
        max_tasks: int | None = None,
        worker_id: str | None = None,
    ) -> None:
        super().__init__(
            queue_names=queue_names,
            interval=interval,
            batch=False,
            backend_name=backend_name,
            startup_delay=False,
            max_tasks=max_tasks,
            worker_id=worker_id or default_worker_id(),
        )
        self.started_at = timezone.now()
        self._last_beat = 0.0
        self._last_schedule: float | None = None

    def beat(self, *, force: bool = False) -> None:
        """Write the heartbeat, at most every WORKER_HEARTBEAT_SECONDS unless forced."""
        if not force and time.monotonic() - self._last_beat < settings.WORKER_HEARTBEAT_SECONDS:
            return
        heartbeat_beat(
            worker_id=self.worker_id,
            hostname=socket.gethostname(),
            pid=os.getpid(),
            backend=f"{self.backend_name} (database)",
            queues=",".join(self.queue_names),
            started_at=self.started_at,
            tasks_run=self._run_tasks,
        )
        self._last_beat = time.monotonic()

    def schedule(self, *, force: bool = False) -> list[str]:
        """Enqueue the periodic tasks that are due, at most every WORKER_SCHEDULE_SECONDS
        unless forced; the paths enqueued. A database busy for a moment (SQLite's lock) only
        puts it off to the next look."""
        now = time.monotonic()
        if (
            not force
            and self._last_schedule is not None
            and now - self._last_schedule < settings.WORKER_SCHEDULE_SECONDS
        ):
            return []
        self._last_schedule = now
        if not isinstance(task_backends[self.backend_name], DatabaseBackend):
            return []  # the RQ worker keeps the schedule on that backend (worker_rq)
        try:
            enqueued = periodic_enqueue(
                queue_names=self.queue_names, backend_name=self.backend_name
            )
            periodic_prune(backend_name=self.backend_name)
        except OperationalError as exc:
            logger.warning("worker %s: periodic tasks put off: %s", self.worker_id, exc)
            return []
        for path in enqueued:
            logger.info("worker %s enqueued periodic task %s", self.worker_id, path)
        return enqueued

    def run_one(self) -> bool:
        """Claim the next ready task and run it; False when there is none."""
        tasks = DBTaskResult.objects.ready().filter(backend_name=self.backend_name)
        if not self.process_all_queues:
            tasks = tasks.filter(queue_name__in=self.queue_names)
        # The ready rows stay locked for this short transaction only: claim, then run outside.
        with exclusive_transaction(tasks.db):
            try:
                task_result = tasks.get_locked()
            except OperationalError as exc:
                # SQLite answers "database is locked" while another writer commits: try again.
                if "is locked" not in str(exc):
                    raise
                task_result = None
            if task_result is not None:
                task_result.claim(self.worker_id)
        if task_result is None:
            return False
        self.run_task(task_result)
        return True

    def run_available(self) -> int:
        """Run every task that is ready now, then return how many ran (batch mode)."""
        ran = 0
        while self.running and self.run_one():
            ran += 1
            if self.max_tasks is not None and self._run_tasks >= self.max_tasks:
                break
        return ran

    def run(self) -> None:
        """Run tasks until stopped (SIGINT/SIGTERM: the running task finishes first)."""
        logger.info(
            "worker %s serving queues %s of backend %s",
            self.worker_id,
            ",".join(self.queue_names),
            self.backend_name,
        )
        heartbeats_forget_dead()
        try:
            while self.running:
                self.beat()
                self.schedule()
                ran = self.run_one()
                if self.max_tasks is not None and self._run_tasks >= self.max_tasks:
                    return
                # As a request would: drop connections that are too old or broken.
                close_old_connections()
                if self.running and not ran:
                    time.sleep(self.interval)
        finally:
            heartbeat_end(worker_id=self.worker_id)
            logger.info("worker %s stopped after %d task(s)", self.worker_id, self._run_tasks)

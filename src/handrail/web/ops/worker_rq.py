"""The background worker for the RQ task backend (TASK_BACKEND=rq, with REDIS_URL), with the
same heartbeat as the database worker (handrail.web.ops.worker).

`manage.py worker` runs this when the task backend is django-tasks-rq's: an RQ worker of the
task queues (RQ_QUEUES, one per TASK_QUEUES name) that runs each task in the worker process
itself (rq's SimpleWorker: no fork per task, so the Django database connection is never
shared with a child) and runs RQ's scheduler for tasks put off to later (a message's retry). It
writes the heartbeat row /readyz reads (ops.WorkerHeartbeat) while it waits and between
tasks, as the database worker does: RQ's own heartbeat lives in Redis, which /readyz does
not read. With each beat a running worker (not a batch) enqueues the periodic tasks that are
due (handrail.web.ops.schedule.periodic_enqueue_rq).
"""

from __future__ import annotations

import logging
import os
import socket
import time
from typing import Any

from django.conf import settings
from django.db import close_old_connections, connections
from django.utils import timezone
from django_rq.queues import get_queues
from django_tasks_rq.backend import Job
from rq.job import Job as RQJob
from rq.queue import Queue
from rq.worker import SimpleWorker

from handrail.web.ops.schedule import periodic_enqueue_rq
from handrail.web.ops.services import heartbeat_beat, heartbeat_end, heartbeats_forget_dead

logger = logging.getLogger(__name__)


class RQHeartbeatWorker(SimpleWorker):
    """An RQ worker that writes the heartbeat row of handrail's /readyz."""

    backend_name = "default"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # RQ waits for a job at most worker_ttl - 15 s before it beats again: make that the
        # heartbeat interval, so an idle worker still beats every WORKER_HEARTBEAT_SECONDS.
        kwargs.setdefault("worker_ttl", settings.WORKER_HEARTBEAT_SECONDS + 15)
        super().__init__(*args, **kwargs)
        self.started_at = timezone.now()
        self.tasks_run = 0
        self._last_beat = 0.0
        self.schedules = False  # a running worker enqueues the periodic tasks; a batch does not

    def beat(self, *, force: bool = False) -> None:
        """Write the heartbeat row, at most every WORKER_HEARTBEAT_SECONDS unless forced."""
        if not force and time.monotonic() - self._last_beat < settings.WORKER_HEARTBEAT_SECONDS:
            return
        heartbeat_beat(
            worker_id=self.name,
            hostname=socket.gethostname(),
            pid=os.getpid(),
            backend=f"{self.backend_name} (rq)",
            queues=",".join(self.queue_names()),
            started_at=self.started_at,
            tasks_run=self.tasks_run,
        )
        self._last_beat = time.monotonic()
        if self.schedules:
            self.schedule()

    def schedule(self) -> list[str]:
        """Enqueue the periodic tasks (reminders, the outbox's safety net) that are due, as
        the database worker does between tasks; the paths enqueued."""
        enqueued = periodic_enqueue_rq(
            self.connection, queue_names=self.queue_names(), backend_name=self.backend_name
        )
        for path in enqueued:
            logger.info("worker %s enqueued periodic task %s", self.name, path)
        return enqueued

    def work(self, burst: bool = False, *args: Any, **kwargs: Any) -> bool:
        self.schedules = not burst
        return super().work(burst, *args, **kwargs)

    def heartbeat(self, timeout: int | None = None, pipeline: Any = None) -> None:
        super().heartbeat(timeout, pipeline)
        if pipeline is None:  # not from inside a job's bookkeeping
            self.beat()

    def bootstrap(self, *args: Any, **kwargs: Any) -> None:
        heartbeats_forget_dead()
        super().bootstrap(*args, **kwargs)
        self.beat(force=True)

    def _start_scheduler(self, burst: bool = False, *args: Any, **kwargs: Any) -> None:
        if not burst:
            # RQ's scheduler then runs in a forked process: it must not inherit this
            # process's database connections (it only talks to Redis; this process
            # reconnects on demand). In burst mode it runs here, once, and forks nothing.
            connections.close_all()
        super()._start_scheduler(burst, *args, **kwargs)

    def subscribe(self) -> None:
        """RQ's subscription to its command channel (`rq` stop/kill commands), with the
        listening thread waking every second: redis-py 8's PubSubWorkerThread.stop() waits
        for the thread, which RQ starts with a 60 s wait, so a stop could take a minute."""
        self.pubsub = self.connection.pubsub()
        self.pubsub.subscribe(**{self.pubsub_channel_name: self.handle_payload})
        self.pubsub_thread = self.pubsub.run_in_thread(  # type: ignore[assignment]
            sleep_time=1, daemon=True, exception_handler=self._pubsub_exception_handler
        )

    def execute_job(self, job: RQJob, queue: Queue) -> None:
        try:
            super().execute_job(job, queue)
        finally:
            self.tasks_run += 1
            # As a request would: drop database connections that are too old or broken.
            close_old_connections()

    def teardown(self) -> None:
        try:
            super().teardown()  # type: ignore[no-untyped-call]
        finally:
            heartbeat_end(worker_id=self.name)


def rq_worker(*, queue_names: list[str], worker_id: str) -> RQHeartbeatWorker:
    """An RQ worker of these task queues (every one for ["*"])."""
    names = list(settings.TASK_QUEUES) if queue_names == ["*"] else queue_names
    # django-tasks-rq's Job runs the task function of a queued task (its own RQ job class).
    queues = get_queues(*names, job_class=Job)  # type: ignore[no-untyped-call]
    return RQHeartbeatWorker(
        queues,
        connection=queues[0].connection,
        job_class=Job,
        queue_class=type(queues[0]),
        name=worker_id,
    )


def rq_run(
    worker: RQHeartbeatWorker, *, burst: bool, max_tasks: int | None, log_level: str = "INFO"
) -> int:
    """Run the worker (until stopped; `burst`: what is ready now) and return how many tasks
    it ran. SIGINT/SIGTERM stop it after the running task (RQ's warm shutdown)."""
    worker.work(
        burst=burst,
        max_jobs=max_tasks,
        with_scheduler=True,
        logging_level=log_level,
    )
    return worker.tasks_run

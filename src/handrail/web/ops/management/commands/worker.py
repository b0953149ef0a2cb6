"""`manage.py worker`: run background tasks (patients' emails) until stopped.

Run one or more per deployment (docs/deploy.md); each writes a heartbeat that /readyz reads.
`--batch` runs what is ready now and exits (cron, tests). With the database task backend
(the default) it runs handrail.web.ops.worker's loop; with the RQ backend (TASK_BACKEND=rq,
the default with REDIS_URL) an RQ worker of the same queues (handrail.web.ops.worker_rq).
"""

from __future__ import annotations

import logging
from argparse import ArgumentParser
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django_tasks import DEFAULT_TASK_BACKEND_ALIAS, task_backends
from django_tasks_db import DatabaseBackend

from handrail.web.ops.worker import HeartbeatWorker, default_worker_id


class Command(BaseCommand):
    help = "Run the background worker: send queued emails and run other tasks until stopped."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "--queue",
            default=",".join(settings.TASK_QUEUES),
            help="comma-separated queues to serve, or * for all (default: %(default)s)",
        )
        parser.add_argument(
            "--interval",
            type=float,
            default=1.0,
            help="seconds to wait between looks at an empty queue (default: %(default)s)",
        )
        parser.add_argument(
            "--batch", action="store_true", help="run the tasks that are ready now, then exit"
        )
        parser.add_argument(
            "--max-tasks", type=int, default=None, help="exit after running this many tasks"
        )
        parser.add_argument(
            "--worker-id",
            default=None,
            help="unique name of this worker in the pool, up to 64 characters "
            "(default: host name and process id)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        queues = _queues(options["queue"])
        interval = options["interval"]
        if not 0 < interval <= 60:
            raise CommandError(f"--interval={interval}: write a number of seconds from 0.1 to 60")
        max_tasks = options["max_tasks"]
        if max_tasks is not None and max_tasks < 1:
            raise CommandError(f"--max-tasks={max_tasks}: write 1 or more")
        worker_id = options["worker_id"] or default_worker_id()
        if not 0 < len(worker_id) <= 64:
            raise CommandError("--worker-id: write 1 to 64 characters")
        if options["verbosity"] >= 1:
            logging.getLogger("handrail.web.ops.worker").setLevel(logging.INFO)
        backend = task_backends[DEFAULT_TASK_BACKEND_ALIAS]
        if type(backend).__name__ == "RQBackend":
            self._run_rq(queues, worker_id, options)
            return
        if not isinstance(backend, DatabaseBackend):
            raise CommandError(
                f"The task backend {type(backend).__name__} has no worker here: set "
                "TASK_BACKEND to database or rq (settings.py)"
            )
        worker = HeartbeatWorker(
            queue_names=queues,
            backend_name=DEFAULT_TASK_BACKEND_ALIAS,
            interval=interval,
            max_tasks=max_tasks,
            worker_id=worker_id,
        )
        if options["batch"]:
            ran = worker.run_available()
            self.stdout.write(f"ran {ran} task(s)")
            return
        worker.configure_signals()
        worker.run()

    def _run_rq(self, queues: list[str], worker_id: str, options: dict[str, Any]) -> None:
        # Imported here: rq and django-rq load only where the RQ backend is configured.
        from handrail.web.ops.worker_rq import rq_run, rq_worker

        worker = rq_worker(queue_names=queues, worker_id=worker_id)
        level = "INFO" if options["verbosity"] >= 1 else "WARNING"
        ran = rq_run(
            worker, burst=options["batch"], max_tasks=options["max_tasks"], log_level=level
        )
        if options["batch"]:
            self.stdout.write(f"ran {ran} task(s)")


def _queues(value: str) -> list[str]:
    names = [name.strip() for name in value.split(",") if name.strip()]
    if names == ["*"]:
        return names
    unknown = [name for name in names if name not in settings.TASK_QUEUES]
    if not names or unknown:
        raise CommandError(
            f"--queue={value!r}: write some of {', '.join(settings.TASK_QUEUES)} "
            "(comma-separated) or *"
        )
    return names

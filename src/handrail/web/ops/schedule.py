"""Periodic tasks the worker enqueues by itself, so no cron line is needed.

`settings.WORKER_PERIODIC_TASKS` maps a task's dotted path to its period in seconds. A
running worker (`manage.py worker`, and the one `make run` starts) calls `periodic_enqueue`
between tasks: each periodic task of a queue it serves is enqueued when no copy of it is
waiting in the queue and none was enqueued within its period. So a pool of workers enqueues
it about once per period, not once per worker; two workers looking at the same instant may
both enqueue it, which is harmless because every periodic task is idempotent (reminders are
keyed by program and local day, and an email is claimed by one conditional UPDATE before it
is sent: handrail.web.portal.reminders, handrail.web.messaging.services).

A copy that is running is not counted as waiting: a worker killed mid-task leaves its row
"running" for ever, and that must not stop the schedule.

Finished runs of periodic tasks are deleted after WORKER_PERIODIC_KEEP_SECONDS (failed ones
are kept for a person to read), so a run a minute does not grow the queue table. They are
enqueued below the default priority: an email a clinician just caused goes first.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db.models import Q
from django.utils import timezone
from django.utils.module_loading import import_string
from django_tasks import DEFAULT_TASK_BACKEND_ALIAS, TaskResultStatus
from django_tasks_db.models import DBTaskResult

PERIODIC_PRIORITY = -10  # below django-tasks' default of 0
PERIODIC_KEY_PREFIX = "handrail:periodic:"  # RQ backend: one key per task while it is not due


def periodic_tasks() -> dict[str, int]:
    """The configured periodic tasks: dotted path -> period in seconds."""
    return dict(getattr(settings, "WORKER_PERIODIC_TASKS", {}))


def _task(path: str) -> Any:
    task = import_string(path)
    if not hasattr(task, "enqueue") or not hasattr(task, "queue_name"):
        raise TypeError(f"WORKER_PERIODIC_TASKS: {path} is not a task")
    return task


def _served_tasks(queue_names: Sequence[str]) -> Iterator[tuple[str, int, Any]]:
    """The periodic tasks of the queues a worker serves ("*": all): path, period, task."""
    for path, seconds in periodic_tasks().items():
        task = _task(path)
        if "*" in queue_names or task.queue_name in queue_names:
            yield path, seconds, task


def periodic_enqueue(
    *,
    queue_names: Sequence[str],
    backend_name: str = DEFAULT_TASK_BACKEND_ALIAS,
    now: datetime | None = None,
) -> list[str]:
    """Enqueue each periodic task of the served queues ("*": all) that is due; the paths
    enqueued."""
    now = now or timezone.now()
    enqueued: list[str] = []
    for path, seconds, task in _served_tasks(queue_names):
        pending = DBTaskResult.objects.filter(task_path=path, backend_name=backend_name).filter(
            Q(status=TaskResultStatus.READY) | Q(enqueued_at__gt=now - timedelta(seconds=seconds))
        )
        if pending.exists():
            continue
        task.using(backend=backend_name, priority=PERIODIC_PRIORITY).enqueue()
        enqueued.append(path)
    return enqueued


def periodic_enqueue_rq(
    connection: Any,
    *,
    queue_names: Sequence[str],
    backend_name: str = DEFAULT_TASK_BACKEND_ALIAS,
) -> list[str]:
    """The RQ backend's version of `periodic_enqueue`: RQ keeps no table of past runs to look
    in, so a Redis key per task, set only when absent and expiring after the task's period,
    lets one worker of the whole pool enqueue it once per period. RQ has no priorities: the
    periodic tasks queue at the default one."""
    enqueued: list[str] = []
    for path, seconds, task in _served_tasks(queue_names):
        if not connection.set(f"{PERIODIC_KEY_PREFIX}{path}", "1", nx=True, ex=seconds):
            continue
        task.using(backend=backend_name).enqueue()
        enqueued.append(path)
    return enqueued


def periodic_prune(
    *, backend_name: str = DEFAULT_TASK_BACKEND_ALIAS, now: datetime | None = None
) -> int:
    """Delete the successful runs of periodic tasks finished before the keep period."""
    now = now or timezone.now()
    keep = timedelta(seconds=settings.WORKER_PERIODIC_KEEP_SECONDS)
    deleted, _ = DBTaskResult.objects.filter(
        backend_name=backend_name,
        task_path__in=list(periodic_tasks()),
        status=TaskResultStatus.SUCCESSFUL,
        finished_at__lt=now - keep,
    ).delete()
    return deleted

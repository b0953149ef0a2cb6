"""Background task of the portal: queue the reminders that are due. The worker enqueues it
every minute by itself (settings.WORKER_PERIODIC_TASKS, handrail.web.ops.schedule)."""

from __future__ import annotations

from django_tasks import task

from handrail.web.portal.reminders import reminders_queue_due


@task(queue_name="email")
def queue_due_reminders() -> int:
    return reminders_queue_due()

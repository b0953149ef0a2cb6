"""Background task of the portal: queue the reminders that are due (run it every few
minutes: `manage.py queue_reminders` from cron, or enqueue this task)."""

from __future__ import annotations

from django_tasks import task

from handrail.web.portal.reminders import reminders_queue_due


@task(queue_name="email")
def queue_due_reminders() -> int:
    return reminders_queue_due()

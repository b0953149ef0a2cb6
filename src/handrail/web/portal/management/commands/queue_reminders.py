"""`manage.py queue_reminders`: queue the patients' reminder emails that are due (idempotent).
A running `manage.py worker` does this every minute by itself (WORKER_PERIODIC_TASKS); the
command is for a one-off run or a deployment without a long-running worker."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from handrail.web.portal.reminders import reminders_queue_due


class Command(BaseCommand):
    help = "Queue home-program reminder emails that are due."

    def handle(self, *args: Any, **options: Any) -> None:
        self.stdout.write(f"queued: {reminders_queue_due()}")

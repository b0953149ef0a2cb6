"""`manage.py queue_reminders`: queue the patients' reminder emails that are due (idempotent;
run it from cron every few minutes beside `send_messages`)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from handrail.web.portal.reminders import reminders_queue_due


class Command(BaseCommand):
    help = "Queue home-program reminder emails that are due."

    def handle(self, *args: Any, **options: Any) -> None:
        self.stdout.write(f"queued: {reminders_queue_due()}")

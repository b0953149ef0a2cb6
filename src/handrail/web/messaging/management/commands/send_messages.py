"""`manage.py send_messages`: send every queued email that is due and fail the ones a
stopped worker left "sending". The safety net behind the per-message tasks; a running
`manage.py worker` runs it every 5 minutes by itself (WORKER_PERIODIC_TASKS), so this command
is for a one-off run (docs/deploy.md)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from handrail.web.messaging.services import messages_send_due


class Command(BaseCommand):
    help = "Send queued patient emails that are due (and mark stale 'sending' rows failed)."

    def handle(self, *args: Any, **options: Any) -> None:
        counts = messages_send_due()
        self.stdout.write(", ".join(f"{k}: {v}" for k, v in sorted(counts.items())))

"""`manage.py pattern_hub`: the denial-pattern hub from the command line (docs/patterns.md).

On the hub (a server other clinics' servers send reports to):
  enrol LABEL     enrol a clinic server; prints its key once (only its hash is kept)
  revoke ID       refuse that enrolment's key from now on (its reports still count)
  list            enrolments with their state and the reports received from each

On a clinic server that sends to a hub (PATTERN_HUB_URL and PATTERN_HUB_KEY set):
  status          reports sent / waiting / failed, and when the hub's figures were fetched
  sync            send what is due and fetch the hub's figures now (the worker does it by
                  itself every PATTERN_HUB_SYNC_SECONDS)
  retry           put failed reports back in the queue (after the key was fixed)
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from handrail.web.patternhub.models import Enrolment
from handrail.web.patternhub.selectors import enrolment_report_counts
from handrail.web.patternhub.services import enrolment_create, enrolment_revoke
from handrail.web.remittances import hub


class Command(BaseCommand):
    help = "Enrol, revoke and list clinic servers of the denial-pattern hub; or, as a sender, "
    "show, sync and retry the reports sent to the hub."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        enrol = sub.add_parser("enrol", help="enrol a clinic server and print its key once")
        enrol.add_argument("label", help="your name for it, e.g. 'Riverside Rehab server'")
        revoke = sub.add_parser("revoke", help="refuse an enrolment's key from now on")
        revoke.add_argument("enrolment_id", type=int)
        sub.add_parser("list", help="the enrolments")
        sub.add_parser("status", help="this server's reports to the hub")
        sub.add_parser("sync", help="send what is due and fetch the hub's figures now")
        sub.add_parser("retry", help="queue failed reports again")

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        try:
            getattr(self, f"_{action}")(options)
        except ValidationError as error:
            raise CommandError("; ".join(error.messages)) from None

    def _enrol(self, options: dict[str, Any]) -> None:
        enrolment, key = enrolment_create(label=options["label"])
        self.stdout.write(f"Enrolment #{enrolment.pk} ({enrolment.label}). Its key, shown once:")
        self.stdout.write(key)
        self.stdout.write(
            "Set it as PATTERN_HUB_KEY on that server, with PATTERN_HUB_URL the address of "
            "this one."
        )

    def _revoke(self, options: dict[str, Any]) -> None:
        enrolment = enrolment_revoke(enrolment_id=options["enrolment_id"])
        self.stdout.write(f"Revoked enrolment #{enrolment.pk} ({enrolment.label}).")

    def _list(self, options: dict[str, Any]) -> None:
        counts = enrolment_report_counts()
        for enrolment in Enrolment.objects.all():
            state = (
                f"revoked {enrolment.revoked_at:%Y-%m-%d %H:%M}"
                if enrolment.revoked_at
                else "active"
            )
            self.stdout.write(
                f"#{enrolment.pk}\t{enrolment.label}\tenrolled {enrolment.created_at:%Y-%m-%d}"
                f"\t{state}\t{counts.get(enrolment.pk, 0)} report(s)"
            )

    def _require_hub(self) -> None:
        if not hub.hub_configured():
            raise CommandError(
                "No hub is configured: set PATTERN_HUB_URL and PATTERN_HUB_KEY (docs/patterns.md)."
            )

    def _status(self, options: dict[str, Any]) -> None:
        self._require_hub()
        counts = hub.hub_delivery_counts()
        self.stdout.write(", ".join(f"{k}: {v}" for k, v in sorted(counts.items())) or "none")
        view = hub.hub_view()
        if view is not None:
            self.stdout.write(view.note)

    def _sync(self, options: dict[str, Any]) -> None:
        self._require_hub()
        counts = hub.hub_sync()
        self.stdout.write(", ".join(f"{k}: {v}" for k, v in sorted(counts.items())))

    def _retry(self, options: dict[str, Any]) -> None:
        self._require_hub()
        self.stdout.write(f"Queued again: {hub.hub_deliveries_retry_failed()}")

"""`manage.py threshold_accrual_check [--repair]`: compare every stored yearly threshold
accrual (ThresholdAccrual, kept by database triggers) with the sums of its signed visits,
to the cent and the visit, and report each difference (exit status 1 when any).
`--repair` rewrites the differing rows from the visits (threshold_accrual_repair)."""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from handrail.web.visits.selectors import threshold_accrual_drift
from handrail.web.visits.services import threshold_accrual_repair


def _accruals(count: int) -> str:
    return f"{count:,} stored threshold accrual{'' if count == 1 else 's'}"


class Command(BaseCommand):
    help = (
        "Check the stored yearly therapy threshold accruals against the signed visits; "
        "--repair rewrites those that differ."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "--repair",
            action="store_true",
            help="rewrite the accruals that differ from their signed visits",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["repair"]:
            repaired = threshold_accrual_repair()
            for row in repaired:
                self.stdout.write(f"rewrote {row.describe()}")
            self.stdout.write(
                f"Repaired {len(repaired)} threshold accrual{'' if len(repaired) == 1 else 's'}"
                " from the signed visits."
            )
            return
        checked, drift = threshold_accrual_drift()
        for row in drift:
            self.stdout.write(row.describe())
        if drift:
            raise CommandError(
                f"{len(drift)} of the threshold accruals differ from their signed visits "
                f"({_accruals(checked)} checked); run `manage.py threshold_accrual_check "
                "--repair` to rewrite them from the visits."
            )
        self.stdout.write(f"Checked {_accruals(checked)} against the signed visits: no drift.")

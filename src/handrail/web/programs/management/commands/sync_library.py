"""`manage.py sync_library`: bring the built-in library entries in step with the package data.

`migrate` runs the same sync after every migration, so this is for checking or for a database
restored from an older backup; running it twice changes nothing the second time.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from handrail.library import LIBRARY_RELEASE
from handrail.web.programs.services import library_sync


class Command(BaseCommand):
    help = "Sync the built-in home-program library from the package data (idempotent)."

    def handle(self, *args: Any, **options: Any) -> None:
        result = library_sync()
        self.stdout.write(
            f"Library release {LIBRARY_RELEASE}: {result.created} added, {result.updated} "
            f"updated, {result.archived} archived, {result.unchanged} unchanged."
        )

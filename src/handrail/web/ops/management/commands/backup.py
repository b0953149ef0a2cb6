"""`manage.py backup <folder>`: the database and the media files (docs/deploy.md)."""

from __future__ import annotations

from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.db import DEFAULT_DB_ALIAS, connections
from django.utils import timezone

from handrail.web.ops.backup import BackupError, Target, backup
from handrail.web.ops.management.commands.restore import filesystem_media_root


class Command(BaseCommand):
    help = "Back up the database and the media folder into a new or empty folder."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("folder", type=Path, help="a new or empty folder")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            target = Target.from_settings(connections[DEFAULT_DB_ALIAS].settings_dict)
            manifest = backup(
                target=target,
                folder=options["folder"],
                media_root=filesystem_media_root(),
                now=timezone.now(),
            )
        except BackupError as exc:
            raise CommandError(str(exc)) from None
        rows = sum(table["rows"] for table in manifest["tables"].values())
        media = "with the media folder" if manifest["media"] else "without media (object storage)"
        self.stdout.write(
            f"backed up {len(manifest['tables'])} tables ({rows} rows) {media} "
            f"to {options['folder']}"
        )

"""`manage.py restore FOLDER`: a backup into an empty database, checked table by table."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from handrail.web.ops.backup import BackupError, backup_restore, read_manifest


class Command(BaseCommand):
    help = (
        "Restore a backup folder into an empty database, then check every table's row count "
        "and checksum against the backup."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("folder", type=Path, help="a folder `manage.py backup` wrote")

    def handle(self, *args: Any, **options: Any) -> None:
        folder: Path = options["folder"]
        try:
            tables = read_manifest(folder)["tables"]
            problems = backup_restore(folder)
        except BackupError as exc:
            raise CommandError(str(exc)) from None
        if problems:
            raise CommandError(
                "the restored database differs from the backup:\n  " + "\n  ".join(problems)
            )
        self.stdout.write(
            f"Restored {len(tables)} tables from {folder}; every row count and checksum "
            "matches the backup."
        )

"""`manage.py backup FOLDER`: the database, media and official data (handrail.web.ops.backup)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from handrail.web.ops.backup import BackupError, backup_create


class Command(BaseCommand):
    help = "Back up the database (SQLite online backup or pg_dump), media and official data."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("folder", type=Path, help="a new folder to write the backup into")

    def handle(self, *args: Any, **options: Any) -> None:
        folder: Path = options["folder"]
        try:
            manifest = backup_create(folder)
        except BackupError as exc:
            raise CommandError(str(exc)) from None
        tables = manifest["tables"]
        rows = sum(table["rows"] for table in tables.values())
        self.stdout.write(
            f"Backed up {manifest['engine']} database: {len(tables)} tables, {rows:,} rows"
            f"{', media' if manifest['media'] else ''}"
            f"{', official data' if manifest['official_data'] else ''} -> {folder}"
        )

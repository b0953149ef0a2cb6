"""`manage.py restore <folder>`: load a backup into an empty database (docs/deploy.md)."""

from __future__ import annotations

from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.core.files.storage import FileSystemStorage, default_storage
from django.core.management.base import BaseCommand, CommandError
from django.db import DEFAULT_DB_ALIAS, connections

from handrail.web.ops.backup import BackupError, Target, restore


def filesystem_media_root() -> Path | None:
    """The media folder when media are files here; None on object storage (S3), whose
    files are kept by the bucket's own versioning, not by this backup."""
    if isinstance(default_storage, FileSystemStorage):
        return Path(default_storage.location)
    return None


class Command(BaseCommand):
    help = (
        "Restore a backup folder into an empty database (and media folder); --force "
        "replaces what is there."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("folder", type=Path, help="a folder written by manage.py backup")
        parser.add_argument(
            "--force", action="store_true", help="replace a database that already has tables"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        connection = connections[DEFAULT_DB_ALIAS]
        target = Target.from_settings(connection.settings_dict)
        connection.close()  # the restore works outside Django's connection
        try:
            manifest = restore(
                target=target,
                folder=options["folder"],
                media_root=filesystem_media_root(),
                force=options["force"],
            )
        except BackupError as exc:
            raise CommandError(str(exc)) from None
        rows = sum(table["rows"] for table in manifest["tables"].values())
        self.stdout.write(
            f"restored {len(manifest['tables'])} tables ({rows} rows) from "
            f"{options['folder']} (backup of {manifest['created_at']}); every table checked"
        )

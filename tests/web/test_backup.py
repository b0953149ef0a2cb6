"""Backups: `manage.py backup` and `restore` of the database and the media folder, restored
into an EMPTY database (a new SQLite file; a fresh PostgreSQL database) and compared table by
table (row counts and checksums) with the database that was backed up."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from io import StringIO
from pathlib import Path
from typing import Any

import psycopg
import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from handrail.web.ops.backup import MANIFEST, BackupError, Target, fingerprints, restore
from tests.web.conftest import World

TRANSACTIONAL = pytest.mark.django_db(transaction=True)


@pytest.fixture
def media(settings: Any, tmp_path: Path) -> Path:
    root = tmp_path / "media"
    (root / "programs" / "7").mkdir(parents=True)
    (root / "programs" / "7" / "bridge.png").write_bytes(b"\x89PNG synthetic picture")
    (root / "notes.txt").write_text("synthetic")
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(root)},
        },
    }
    return root


@pytest.fixture
def empty_database(tmp_path: Path) -> Iterator[Target]:
    """A database with nothing in it, of the vendor the suite runs on."""
    live = Target.from_settings(connection.settings_dict)
    if live.vendor == "sqlite":
        yield Target("sqlite", {"NAME": tmp_path / "restored.sqlite3"})
        return
    name = f"restore_{uuid.uuid4().hex[:12]}"
    admin = Target("postgresql", {**live.settings, "NAME": "postgres"}).conninfo()
    with psycopg.connect(admin, autocommit=True) as server:
        server.execute(f'CREATE DATABASE "{name}"')
    try:
        yield Target("postgresql", {**live.settings, "NAME": name})
    finally:
        with psycopg.connect(admin, autocommit=True) as server:
            server.execute(f'DROP DATABASE "{name}" WITH (FORCE)')


def _backup(folder: Path) -> str:
    out = StringIO()
    call_command("backup", str(folder), stdout=out)
    return out.getvalue()


@TRANSACTIONAL
class BackupRestoreTests:
    def test_a_restore_into_an_empty_database_is_identical_table_by_table(
        self, world: World, media: Path, tmp_path: Path, empty_database: Target
    ) -> None:
        live = Target.from_settings(connection.settings_dict)
        before = fingerprints(live)
        folder = tmp_path / "backup"
        assert "backed up" in _backup(folder)
        manifest = json.loads((folder / MANIFEST).read_text())
        assert manifest["tables"] == before
        assert before["clinic_patient"]["rows"] == 2
        assert before["audit_auditevent"]["rows"] > 0
        restored_media = tmp_path / "restored-media"
        restore(target=empty_database, folder=folder, media_root=restored_media)
        assert fingerprints(empty_database) == before
        assert (restored_media / "programs" / "7" / "bridge.png").read_bytes() == (
            b"\x89PNG synthetic picture"
        )
        assert (restored_media / "notes.txt").read_text() == "synthetic"

    def test_it_refuses_to_restore_over_a_database_with_tables(
        self, world: World, media: Path, tmp_path: Path
    ) -> None:
        folder = tmp_path / "backup"
        _backup(folder)
        with pytest.raises(CommandError, match=r"already has \d+ table\(s\).*--force"):
            call_command("restore", str(folder))

    def test_force_replaces_the_database_with_the_backup(
        self, world: World, media: Path, tmp_path: Path, empty_database: Target
    ) -> None:
        folder = tmp_path / "backup"
        _backup(folder)
        manifest = restore(target=empty_database, folder=folder, media_root=None)
        with empty_database.connect() as db:
            db.execute("DELETE FROM clinic_payer WHERE name = 'Acme Health'")
            if empty_database.vendor == "sqlite":
                db.commit()
        with pytest.raises(BackupError, match="already has"):
            restore(target=empty_database, folder=folder, media_root=None)
        restore(target=empty_database, folder=folder, media_root=None, force=True)
        assert fingerprints(empty_database) == manifest["tables"]
        assert manifest["tables"]["clinic_payer"]["rows"] == 2

    def test_it_refuses_a_non_empty_backup_folder_and_a_damaged_backup(
        self, world: World, media: Path, tmp_path: Path, empty_database: Target
    ) -> None:
        folder = tmp_path / "backup"
        _backup(folder)
        with pytest.raises(CommandError, match="is not empty: back up into a new or empty"):
            _backup(folder)
        database_file = next(p for p in folder.iterdir() if p.name.startswith("database."))
        with database_file.open("ab") as handle:
            handle.write(b"x")
        with pytest.raises(BackupError, match="does not match its SHA-256"):
            restore(target=empty_database, folder=folder, media_root=None)
        with pytest.raises(BackupError, match="has no manifest.json"):
            restore(target=empty_database, folder=tmp_path, media_root=None)


class MediaStorageTests:
    def test_media_are_files_under_var_by_default_and_s3_when_a_bucket_is_set(
        self, tmp_path: Path
    ) -> None:
        import os
        import subprocess
        import sys

        script = (
            "import json; from handrail.web import settings as s; "
            "print(json.dumps(s.STORAGES['default'], default=str))"
        )
        base = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        base.update(
            PYTHONPATH=str(Path(__file__).resolve().parents[2] / "src"), SECRET_KEY="k" * 60
        )

        def storage(**env: str) -> dict[str, Any]:
            result = subprocess.run(
                [sys.executable, "-c", script],
                env={**base, **env},
                capture_output=True,
                text=True,
                check=True,
            )
            return dict(json.loads(result.stdout))

        local = storage()
        assert local["BACKEND"] == "django.core.files.storage.FileSystemStorage"
        assert local["OPTIONS"]["location"].endswith("/var/media")
        s3 = storage(
            AWS_STORAGE_BUCKET_NAME="clinic-media",
            AWS_S3_ENDPOINT_URL="http://127.0.0.1:9000",
            AWS_ACCESS_KEY_ID="synthetic",
            AWS_SECRET_ACCESS_KEY="synthetic-secret",
        )
        assert s3["BACKEND"] == "storages.backends.s3.S3Storage"
        assert {k: s3["OPTIONS"][k] for k in ("bucket_name", "endpoint_url", "default_acl")} == {
            "bucket_name": "clinic-media",
            "endpoint_url": "http://127.0.0.1:9000",
            "default_acl": None,
        }
        assert s3["OPTIONS"]["file_overwrite"] is False

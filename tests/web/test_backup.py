"""Backups: `manage.py backup` writes the database (SQLite online backup API or pg_dump),
media and official data; `manage.py restore` puts them into an empty database, and every
table comes back identical (row counts and checksums)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from django.db import connection

from handrail.web.ops.backup import backup_create, sqlite_file_digests, table_digests
from handrail.web.visits.services import service_line_add, visit_create, visit_sign
from tests.web.conftest import World
from tests.web.notes_seed import GOOD_NOTE

REPO = Path(__file__).resolve().parents[2]
PG_URL = os.environ.get("HANDRAIL_TEST_DATABASE_URL", "")


def _fill(world: World) -> None:
    """A signed visit (lines, evaluation, audit events) on top of the personas."""
    visit = visit_create(user=world.ot, case=world.ot_case, date=world.today)
    service_line_add(user=world.ot, visit=visit, code="97535", therapist_minutes=30, **GOOD_NOTE)
    visit_sign(user=world.ot, visit=visit)


def _manage(database_url: str, tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "PYTEST"))}
    env.update(
        {
            "PYTHONPATH": str(REPO / "src"),
            "DJANGO_SETTINGS_MODULE": "handrail.web.settings",
            "SECRET_KEY": "s" * 50,
            "DATABASE_URL": database_url,
            "MEDIA_ROOT": str(tmp_path / "restored-media"),
            "HANDRAIL_DATA_DIR": str(tmp_path / "restored-data"),
        }
    )
    return subprocess.run(
        [sys.executable, str(REPO / "manage.py"), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def _digests_as_manifest(digests: dict[str, object]) -> dict[str, dict[str, object]]:
    return {
        name: {"rows": d.rows, "sha256": d.sha256}  # type: ignore[attr-defined]
        for name, d in digests.items()
    }


@pytest.fixture
def media(tmp_path: Path, settings: object) -> Path:
    folder = tmp_path / "media"
    (folder / "handouts").mkdir(parents=True)
    (folder / "handouts" / "shirt.txt").write_text("Weak arm into the sleeve first.\n")
    settings.MEDIA_ROOT = folder  # type: ignore[attr-defined]
    return folder


@pytest.mark.skipif(PG_URL.startswith("postgres"), reason="the SQLite backup test")
class SqliteBackupTests:
    def test_it_restores_every_table_identical_into_an_empty_database(
        self, world: World, tmp_path: Path, media: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        _fill(world)
        monkeypatch.setenv("HANDRAIL_DATA_DIR", str(tmp_path / "no-data"))
        folder = tmp_path / "backup"
        manifest = backup_create(folder)
        live = table_digests(connection)
        assert manifest["tables"] == _digests_as_manifest(dict(live))
        assert manifest["tables"]["visits_visit"]["rows"] == 1
        assert manifest["tables"]["clinic_user"]["rows"] == 7
        assert sorted(p.name for p in folder.iterdir()) == [
            "database.sqlite3",
            "manifest.json",
            "media.tar.gz",
        ]

        target = tmp_path / "restored.sqlite3"
        result = _manage(f"sqlite:///{target}", tmp_path, "restore", str(folder))
        assert result.returncode == 0, result.stderr
        assert "every row count and checksum matches the backup" in result.stdout
        assert _digests_as_manifest(dict(sqlite_file_digests(target))) == manifest["tables"]
        restored = tmp_path / "restored-media" / "handouts" / "shirt.txt"
        assert restored.read_text() == "Weak arm into the sleeve first.\n"

    def test_it_refuses_to_restore_over_a_database_with_tables(
        self, world: World, tmp_path: Path, media: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setenv("HANDRAIL_DATA_DIR", str(tmp_path / "no-data"))
        folder = tmp_path / "backup"
        backup_create(folder)
        target = tmp_path / "live.sqlite3"
        assert _manage(f"sqlite:///{target}", tmp_path, "migrate").returncode == 0
        result = _manage(f"sqlite:///{target}", tmp_path, "restore", str(folder))
        assert result.returncode == 1
        assert "restore only into an empty database" in result.stderr

    def test_it_reports_a_table_that_differs_from_the_backup(
        self, world: World, tmp_path: Path, media: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setenv("HANDRAIL_DATA_DIR", str(tmp_path / "no-data"))
        folder = tmp_path / "backup"
        backup_create(folder)
        manifest = json.loads((folder / "manifest.json").read_text())
        manifest["tables"]["clinic_patient"]["rows"] = 3
        (folder / "manifest.json").write_text(json.dumps(manifest))
        target = tmp_path / "restored.sqlite3"
        result = _manage(f"sqlite:///{target}", tmp_path, "restore", str(folder))
        assert result.returncode == 1
        assert "clinic_patient: 2 rows" in result.stderr
        assert "3 rows" in result.stderr

    def test_it_refuses_an_existing_backup_folder(self, db: None, tmp_path: Path) -> None:
        result = _manage(
            "sqlite:///" + str(tmp_path / "x.sqlite3"), tmp_path, "backup", str(tmp_path)
        )
        assert result.returncode == 1
        assert "already exists: give a new folder for this backup" in result.stderr

    def test_it_backs_up_the_official_data_store(
        self, db: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        from tests.web.test_engine_reload import _import_illinois

        data = tmp_path / "data"
        monkeypatch.setenv("HANDRAIL_DATA_DIR", str(data))
        _import_illinois(tmp_path, pe_gpci="0.900")
        manifest = backup_create(tmp_path / "backup")
        assert manifest["official_data"] == "official-data.sqlite3"
        copy = sqlite_file_digests(tmp_path / "backup" / "official-data.sqlite3")
        assert copy == sqlite_file_digests(data / "official-data.sqlite3")


@pytest.fixture
def empty_pg_database() -> Iterator[str]:
    name = f"handrail_restore_{uuid.uuid4().hex[:10]}"
    admin = PG_URL.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield PG_URL.rsplit("/", 1)[0] + "/" + name
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.mark.skipif(
    not PG_URL.startswith("postgres"),
    reason="set HANDRAIL_TEST_DATABASE_URL to a PostgreSQL server to run the pg_dump test",
)
class PostgresBackupTests:
    def test_it_restores_every_table_identical_into_an_empty_database(
        self,
        transactional_db: None,
        world: World,
        tmp_path: Path,
        empty_pg_database: str,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        _fill(world)
        monkeypatch.setenv("HANDRAIL_DATA_DIR", str(tmp_path / "no-data"))
        folder = tmp_path / "backup"
        manifest = backup_create(folder)
        assert manifest["engine"] == "postgresql"
        assert manifest["tables"]["visits_visit"]["rows"] == 1
        assert (folder / "database.dump").stat().st_size > 0

        result = _manage(empty_pg_database, tmp_path, "restore", str(folder))
        assert result.returncode == 0, result.stderr
        assert "every row count and checksum matches the backup" in result.stdout

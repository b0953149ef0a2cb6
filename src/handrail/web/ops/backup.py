"""Back up and restore the clinic database, the media folder and the official-data store.

A backup is a folder:

    manifest.json         when, which engine, and every table's row count and checksum
    database.sqlite3      SQLite: a consistent copy made with SQLite's online backup API
                          (the app may keep writing while it runs)
    database.dump         PostgreSQL: `pg_dump --format=custom` (one consistent snapshot)
    media.tar.gz          MEDIA_ROOT, when it holds files
    official-data.sqlite3 the imported CMS/CDC releases (HANDRAIL_DATA_DIR), when any

Restoring needs an empty database (a fresh `createdb`, or a SQLite file that does not exist
yet): it never merges into live data. After restoring, every table's row count and checksum
is compared with the manifest and any difference is an error.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import connections, transaction
from django.db.backends.base.base import BaseDatabaseWrapper

from handrail.officialdata.store import DB_NAME as OFFICIAL_DB_NAME
from handrail.officialdata.store import data_dir

MANIFEST = "manifest.json"
SQLITE_FILE = "database.sqlite3"
PG_FILE = "database.dump"
MEDIA_FILE = "media.tar.gz"
FORMAT_VERSION = 1


class BackupError(Exception):
    """A backup or restore that cannot go on; the message says why and what to do."""


@dataclass(frozen=True, slots=True)
class TableDigest:
    rows: int
    sha256: str


def _digest(cursor: Any, tables: dict[str, list[str]], quote: Any) -> dict[str, TableDigest]:
    # Every value as the database's own text (CAST AS TEXT), so the drivers' type
    # conversions cannot make equal rows look different; rows in column order.
    digests: dict[str, TableDigest] = {}
    for table in sorted(tables):
        columns = tables[table]
        select = ", ".join(f"CAST({quote(c)} AS TEXT)" for c in columns)
        order = ", ".join(str(i + 1) for i in range(len(columns)))
        cursor.execute(f"SELECT {select} FROM {quote(table)} ORDER BY {order}")
        digest = hashlib.sha256()
        count = 0
        for row in cursor.fetchall():
            digest.update(json.dumps(list(row)).encode())
            digest.update(b"\n")
            count += 1
        digests[table] = TableDigest(rows=count, sha256=digest.hexdigest())
    return digests


def table_digests(connection: BaseDatabaseWrapper) -> dict[str, TableDigest]:
    """Every table's row count and checksum, through Django's connection."""
    with connection.cursor() as cursor:
        tables = {
            table: [c.name for c in connection.introspection.get_table_description(cursor, table)]
            for table in connection.introspection.table_names(cursor)
        }
        return _digest(cursor, tables, connection.ops.quote_name)


def sqlite_file_digests(path: Path) -> dict[str, TableDigest]:
    """The same digests, read from a SQLite file (a backup copy) without Django."""
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        names = [
            row[0]
            for row in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
            )
        ]
        quote = _sqlite_quote
        tables = {
            name: [row[1] for row in conn.execute(f"PRAGMA table_info({quote(name)})")]
            for name in names
        }
        return _digest(conn.cursor(), tables, quote)
    finally:
        conn.close()


def _sqlite_quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _sqlite_copy(source: sqlite3.Connection, target_path: Path) -> None:
    target = sqlite3.connect(target_path)
    try:
        source.backup(target)
    finally:
        target.close()


def _pg_args(connection: BaseDatabaseWrapper) -> tuple[list[str], dict[str, str]]:
    params = connection.settings_dict
    args = []
    if params.get("HOST"):
        args += ["--host", str(params["HOST"])]
    if params.get("PORT"):
        args += ["--port", str(params["PORT"])]
    if params.get("USER"):
        args += ["--username", str(params["USER"])]
    env = {"PGPASSWORD": str(params["PASSWORD"])} if params.get("PASSWORD") else {}
    return args, env


def _run(command: list[str], env: dict[str, str]) -> None:
    tool = command[0]
    if shutil.which(tool) is None:
        raise BackupError(f"{tool} not found: install the PostgreSQL client (postgresql-client)")
    result = subprocess.run(
        command, env={**os.environ, **env}, capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        raise BackupError(f"{tool} failed: {result.stderr.strip() or result.returncode}")


def backup_create(destination: Path, *, alias: str = "default") -> dict[str, Any]:
    """Write a backup folder (it must not exist yet); return its manifest."""
    if destination.exists():
        raise BackupError(f"{destination} already exists: give a new folder for this backup")
    destination.mkdir(parents=True)
    connection = connections[alias]
    connection.ensure_connection()
    vendor = connection.vendor
    if vendor == "sqlite":
        raw = connection.connection
        assert isinstance(raw, sqlite3.Connection)
        _sqlite_copy(raw, destination / SQLITE_FILE)
        digests = sqlite_file_digests(destination / SQLITE_FILE)
    elif vendor == "postgresql":
        args, env = _pg_args(connection)
        name = str(connection.settings_dict["NAME"])
        # The digests and the dump read one snapshot: a clinic backs up while it works.
        with transaction.atomic(using=alias), connection.cursor() as cursor:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            cursor.execute("SELECT pg_export_snapshot()")
            snapshot = str(cursor.fetchone()[0])
            digests = table_digests(connection)
            _run(
                [
                    "pg_dump",
                    *args,
                    "--format=custom",
                    "--no-owner",
                    "--no-privileges",
                    f"--snapshot={snapshot}",
                    f"--file={destination / PG_FILE}",
                    name,
                ],
                env,
            )
    else:
        raise BackupError(f"cannot back up a {vendor} database: SQLite and PostgreSQL only")
    media = Path(settings.MEDIA_ROOT) if settings.MEDIA_ROOT else None
    has_media = media is not None and media.is_dir() and any(media.iterdir())
    if has_media and media is not None:
        with tarfile.open(destination / MEDIA_FILE, "w:gz") as archive:
            archive.add(media, arcname="media")
    official = data_dir() / OFFICIAL_DB_NAME
    if official.is_file():
        source = sqlite3.connect(f"file:{official}?mode=ro", uri=True)
        try:
            _sqlite_copy(source, destination / OFFICIAL_DB_NAME)
        finally:
            source.close()
    manifest = {
        "format": FORMAT_VERSION,
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "engine": vendor,
        "database": SQLITE_FILE if vendor == "sqlite" else PG_FILE,
        "media": MEDIA_FILE if has_media else None,
        "official_data": OFFICIAL_DB_NAME if official.is_file() else None,
        "tables": {name: {"rows": d.rows, "sha256": d.sha256} for name, d in digests.items()},
    }
    (destination / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")
    return manifest


def read_manifest(source: Path) -> dict[str, Any]:
    path = source / MANIFEST
    try:
        manifest: dict[str, Any] = json.loads(path.read_text())
    except FileNotFoundError:
        raise BackupError(f"{path}: no manifest; give the folder `backup` wrote") from None
    except json.JSONDecodeError as exc:
        raise BackupError(f"{path}:{exc.lineno}: not valid JSON ({exc.msg})") from None
    if manifest.get("format") != FORMAT_VERSION:
        raise BackupError(f"{path}: format {manifest.get('format')!r}, expected {FORMAT_VERSION}")
    return manifest


def backup_restore(
    source: Path, *, alias: str = "default", media_root: Path | None = None
) -> list[str]:
    """Restore a backup folder into the (empty) database `alias`; return the differences
    between the restored tables and the manifest (empty when identical)."""
    manifest = read_manifest(source)
    connection = connections[alias]
    vendor = connection.vendor
    if vendor != manifest["engine"]:
        raise BackupError(
            f"this backup is of a {manifest['engine']} database; restore it into one"
        )
    with connection.cursor() as cursor:
        existing = connection.introspection.table_names(cursor)
    if existing:
        raise BackupError(
            f"the target database already has {len(existing)} tables: restore only into an "
            "empty database (createdb a new one, or point DATABASE_URL at a new SQLite file)"
        )
    if vendor == "sqlite":
        connection.ensure_connection()
        raw = connection.connection
        assert isinstance(raw, sqlite3.Connection)
        backup = sqlite3.connect(f"file:{source / SQLITE_FILE}?mode=ro", uri=True)
        try:
            backup.backup(raw)
        finally:
            backup.close()
    else:
        args, env = _pg_args(connection)
        name = str(connection.settings_dict["NAME"])
        connection.close()
        _run(
            [
                "pg_restore",
                *args,
                "--no-owner",
                "--no-privileges",
                "--exit-on-error",
                f"--dbname={name}",
                str(source / PG_FILE),
            ],
            env,
        )
    if manifest.get("media"):
        target = media_root or Path(settings.MEDIA_ROOT)
        target.mkdir(parents=True, exist_ok=True)
        with tarfile.open(source / str(manifest["media"]), "r:gz") as archive:
            for member in archive.getmembers():
                if not member.name.startswith("media"):
                    raise BackupError(f"{MEDIA_FILE}: unexpected entry {member.name!r}")
                member.name = member.name.removeprefix("media").lstrip("/") or "."
            archive.extractall(target, filter="data")
    if manifest.get("official_data"):
        official = data_dir() / OFFICIAL_DB_NAME
        if not official.exists():
            official.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source / OFFICIAL_DB_NAME, official)
    restored = table_digests(connection)
    return _differences(manifest["tables"], restored)


def _differences(expected: dict[str, Any], restored: dict[str, TableDigest]) -> list[str]:
    problems = []
    for table in sorted(set(expected) | set(restored)):
        want, got = expected.get(table), restored.get(table)
        if want is None:
            problems.append(f"{table}: restored but not in the backup")
        elif got is None:
            problems.append(f"{table}: in the backup but not restored")
        elif (want["rows"], want["sha256"]) != (got.rows, got.sha256):
            problems.append(
                f"{table}: {got.rows} rows (sha256 {got.sha256[:12]}) restored, "
                f"{want['rows']} rows (sha256 {str(want['sha256'])[:12]}) backed up"
            )
    return problems

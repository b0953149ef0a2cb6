"""Backups of the database and the media files, and their restore.

A backup is a folder:

    manifest.json      what was saved: database vendor, time, every table's row count and
                       checksum, the files' SHA-256
    database.dump      PostgreSQL: `pg_dump --format=custom` (restored by pg_restore)
    database.sqlite3   SQLite: a copy made with SQLite's online backup API, consistent while
                       the app keeps writing
    media.tar.gz       the media folder (MEDIA_ROOT), when media are on the file system

A restore checks the files against the manifest, refuses a database that already has tables
(unless forced), loads the database and the media, then recomputes every table's row count
and checksum and fails unless they match the manifest.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

MANIFEST = "manifest.json"
PG_DUMP = "database.dump"
SQLITE_COPY = "database.sqlite3"
MEDIA_TAR = "media.tar.gz"
FORMAT = 1


class BackupError(Exception):
    """What went wrong, in words an operator can act on."""


@dataclass(frozen=True)
class Target:
    """A database to back up or restore into: Django's settings dict for it."""

    vendor: str  # "postgresql" or "sqlite"
    settings: dict[str, Any]

    @classmethod
    def from_settings(cls, settings_dict: dict[str, Any]) -> Target:
        engine = str(settings_dict["ENGINE"])
        if engine.endswith("postgresql"):
            return cls("postgresql", settings_dict)
        if engine.endswith("sqlite3"):
            return cls("sqlite", settings_dict)
        raise BackupError(f"database engine {engine} is not supported: use PostgreSQL or SQLite")

    @property
    def label(self) -> str:
        return str(self.settings["NAME"])

    def connect(self) -> Any:
        """A plain DB-API connection (outside Django: restore works on any database)."""
        if self.vendor == "sqlite":
            return sqlite3.connect(str(self.settings["NAME"]))
        import psycopg

        return psycopg.connect(self.conninfo(), autocommit=True)

    def conninfo(self) -> str:
        from psycopg.conninfo import make_conninfo

        return make_conninfo("", **self.pg_params())

    def pg_params(self) -> dict[str, str]:
        s = self.settings
        params = {"dbname": str(s["NAME"])}
        for key, name in (("user", "USER"), ("host", "HOST"), ("port", "PORT")):
            if s.get(name):
                params[key] = str(s[name])
        if s.get("PASSWORD"):
            params["password"] = str(s["PASSWORD"])
        return params

    def pg_env(self) -> dict[str, str]:
        """pg_dump/pg_restore read the connection from the environment: the password never
        appears on a command line (visible to every user in `ps`)."""
        env = dict(os.environ)
        names = {"dbname": "PGDATABASE", "user": "PGUSER", "host": "PGHOST", "port": "PGPORT"}
        names["password"] = "PGPASSWORD"
        for key, value in self.pg_params().items():
            env[names[key]] = value
        return env


# --- Table fingerprints -----------------------------------------------------------------


def _tables(target: Target, connection: Any) -> list[str]:
    if target.vendor == "sqlite":
        sql = (
            "SELECT name FROM sqlite_master WHERE type = 'table' "
            "AND name NOT LIKE 'sqlite_%' ORDER BY name"
        )
    else:
        sql = (
            "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() "
            "ORDER BY tablename"
        )
    return [row[0] for row in connection.execute(sql).fetchall()]


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _rows(connection: Any, table: str) -> Iterator[tuple[Any, ...]]:
    cursor = connection.execute(f"SELECT * FROM {_quote(table)} LIMIT 0")
    width = len(cursor.description)
    order = ", ".join(str(position) for position in range(1, width + 1))
    cursor = connection.execute(f"SELECT * FROM {_quote(table)} ORDER BY {order}")
    while batch := cursor.fetchmany(1000):
        yield from batch


def fingerprints(target: Target, connection: Any | None = None) -> dict[str, dict[str, Any]]:
    """Every table's row count and a SHA-256 over its rows in a fixed order: equal
    fingerprints mean equal contents (on the same database vendor)."""
    own = connection is None
    if connection is None:
        connection = target.connect()
    try:
        result: dict[str, dict[str, Any]] = {}
        for table in _tables(target, connection):
            digest = hashlib.sha256()
            count = 0
            for row in _rows(connection, table):
                digest.update(repr(row).encode())
                digest.update(b"\n")
                count += 1
            result[table] = {"rows": count, "sha256": digest.hexdigest()}
        return result
    finally:
        if own:
            connection.close()


def table_count(target: Target) -> int:
    connection = target.connect()
    try:
        return len(_tables(target, connection))
    finally:
        connection.close()


# --- Backup ------------------------------------------------------------------------------


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def _run(command: list[str], env: dict[str, str]) -> None:
    if shutil.which(command[0]) is None:
        raise BackupError(f"{command[0]} is not installed: install the PostgreSQL client tools")
    result = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise BackupError(f"{command[0]} failed: {result.stderr.strip()[-2000:]}")


def _backup_sqlite(target: Target, destination: Path) -> None:
    source = sqlite3.connect(str(target.settings["NAME"]))
    copy = sqlite3.connect(str(destination))
    try:
        # The online backup API: a consistent copy while other connections keep writing.
        source.backup(copy)
    finally:
        copy.close()
        source.close()


def _backup_postgresql(target: Target, destination: Path) -> dict[str, dict[str, Any]]:
    """pg_dump and the fingerprints read one snapshot (pg_export_snapshot): rows the app
    writes meanwhile are in neither, so a restore can be checked against the manifest."""
    import psycopg

    with psycopg.connect(target.conninfo()) as connection:
        connection.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        snapshot = connection.execute("SELECT pg_export_snapshot()").fetchone()
        assert snapshot is not None
        command = ["pg_dump", "--format=custom", "--no-owner", "--no-privileges"]
        command += [f"--snapshot={snapshot[0]}", "--file", str(destination)]
        _run(command, target.pg_env())
        tables = fingerprints(target, connection)
        connection.rollback()
    return tables


def _backup_media(media_root: Path | None, destination: Path) -> None:
    with tarfile.open(destination, "w:gz") as tar:
        if media_root is not None and media_root.is_dir():
            for path in sorted(media_root.rglob("*")):
                tar.add(path, arcname=str(path.relative_to(media_root)), recursive=False)


def backup(
    *, target: Target, folder: Path, media_root: Path | None, now: datetime
) -> dict[str, Any]:
    """Write a backup of the database (and the media folder, when given) into `folder`,
    which must be new or empty. Returns the manifest."""
    if folder.exists() and any(folder.iterdir()):
        raise BackupError(f"{folder} is not empty: back up into a new or empty folder")
    folder.mkdir(parents=True, exist_ok=True)
    if target.vendor == "postgresql":
        database_file = folder / PG_DUMP
        tables = _backup_postgresql(target, database_file)
    else:
        database_file = folder / SQLITE_COPY
        _backup_sqlite(target, database_file)
        # Fingerprints of the copy, not the live database: rows written since do not count.
        tables = fingerprints(Target("sqlite", {"NAME": database_file}))
    files = [database_file]
    if media_root is not None:
        _backup_media(media_root, folder / MEDIA_TAR)
        files.append(folder / MEDIA_TAR)
    manifest = {
        "format": FORMAT,
        "vendor": target.vendor,
        "created_at": now.isoformat(),
        "database": database_file.name,
        "media": MEDIA_TAR if media_root is not None else None,
        "files": {path.name: _sha256(path) for path in files},
        "tables": tables,
    }
    (folder / MANIFEST).write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    return manifest


# --- Restore -----------------------------------------------------------------------------


def read_manifest(folder: Path) -> dict[str, Any]:
    """The manifest, with every file it lists present and unchanged."""
    path = folder / MANIFEST
    if not path.is_file():
        raise BackupError(f"{folder} has no {MANIFEST}: not a Handrail backup folder")
    try:
        manifest: dict[str, Any] = json.loads(path.read_text())
    except ValueError as exc:
        raise BackupError(f"{path} is not valid JSON: {exc}") from None
    if manifest.get("format") != FORMAT:
        raise BackupError(f"{path}: format {manifest.get('format')!r} is not {FORMAT}")
    for name, expected in manifest["files"].items():
        file = folder / name
        if not file.is_file():
            raise BackupError(f"{file} is missing: the backup is incomplete")
        if _sha256(file) != expected:
            raise BackupError(f"{file} does not match its SHA-256 in {MANIFEST}: damaged")
    return manifest


def _restore_sqlite(target: Target, source_file: Path) -> None:
    source = sqlite3.connect(str(source_file))
    destination = sqlite3.connect(str(target.settings["NAME"]))
    try:
        # The backup API replaces every page of the destination: an exact copy.
        source.backup(destination)
    finally:
        destination.close()
        source.close()


def _restore_postgresql(target: Target, dump: Path, *, replace: bool) -> None:
    command = ["pg_restore", "--no-owner", "--no-privileges", "--exit-on-error"]
    command += ["--single-transaction"]
    if replace:
        command += ["--clean", "--if-exists"]
    command += ["--dbname", target.pg_params()["dbname"], str(dump)]
    _run(command, target.pg_env())


def _restore_media(archive: Path, media_root: Path, *, replace: bool) -> None:
    if media_root.is_dir() and any(media_root.iterdir()):
        if not replace:
            raise BackupError(
                f"the media folder {media_root} is not empty: restore into an empty one, "
                "or pass --force to replace it"
            )
        shutil.rmtree(media_root)
    media_root.mkdir(parents=True, exist_ok=True)
    with tarfile.open(archive, "r:gz") as tar:
        # The "data" filter refuses absolute paths, links out of the folder and devices.
        tar.extractall(media_root, filter="data")


def restore(
    *, target: Target, folder: Path, media_root: Path | None, force: bool = False
) -> dict[str, Any]:
    """Restore a backup folder into `target` (and the media folder); returns the manifest.
    Refuses a database that has tables unless `force`; fails unless every table's row
    count and checksum afterwards equal the manifest's."""
    manifest = read_manifest(folder)
    if manifest["vendor"] != target.vendor:
        raise BackupError(
            f"the backup is of a {manifest['vendor']} database; this one is {target.vendor}"
        )
    existing = table_count(target)
    if existing and not force:
        raise BackupError(
            f"the database {target.label} already has {existing} table(s): restore into an "
            "empty database, or pass --force to replace what is in it"
        )
    media_in_place = media_root is not None and media_root.is_dir() and any(media_root.iterdir())
    if manifest["media"] and media_in_place and not force:
        raise BackupError(
            f"the media folder {media_root} is not empty: restore into an empty one, "
            "or pass --force to replace it"
        )
    database_file = folder / manifest["database"]
    if target.vendor == "postgresql":
        _restore_postgresql(target, database_file, replace=bool(existing))
    else:
        _restore_sqlite(target, database_file)
    if manifest["media"] and media_root is not None:
        _restore_media(folder / manifest["media"], media_root, replace=force)
    restored = fingerprints(target)
    differ = sorted(
        name
        for name in set(restored) | set(manifest["tables"])
        if restored.get(name) != manifest["tables"].get(name)
    )
    if differ:
        raise BackupError(
            f"the restored database differs from the backup in {len(differ)} table(s): "
            f"{', '.join(differ[:5])}"
        )
    return manifest

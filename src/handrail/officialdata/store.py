"""The local store of imported official data: one SQLite file per installation.

`$HANDRAIL_DATA_DIR/official-data.sqlite3`; HANDRAIL_DATA_DIR defaults to
`$XDG_DATA_HOME/handrail`, else `~/.local/share/handrail` (XDG base directory spec).
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

from handrail.officialdata.errors import OfficialDataError
from handrail.rules.tables import TableKind

DB_NAME = "official-data.sqlite3"
SCHEMA_VERSION = 1

# Row columns of each kind, in the order the parsers yield them.
ROW_COLUMNS: dict[TableKind, tuple[str, ...]] = {
    "pfs": (
        "code",
        "modifier",
        "status",
        "work",
        "pe_nonfacility",
        "pe_facility",
        "facility_na",
        "mp",
        "pctc",
        "mult_proc",
        "global_days",
        "conversion_factor",
    ),
    "gpci": ("mac", "state", "locality", "name", "work", "pe", "mp"),
    # plus_four 1: the ZIP spans localities and CMS prices it by ZIP+4 (the ZIP5 row is the
    # default locality); kept for a warning the engine does not give yet.
    "zip5": ("zip5", "state", "mac", "locality", "plus_four"),
    "ptp": ("column1", "column2", "effective", "deleted", "modifier_indicator", "rationale"),
    "mue": ("code", "max_units", "adjudication_indicator", "rationale"),
    "icd10cm": ("code", "billable", "short_description", "long_description"),
}

_SCHEMA = """
CREATE TABLE IF NOT EXISTS release (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL,
    label TEXT NOT NULL,
    effective_from TEXT NOT NULL,
    effective_to TEXT,
    file_name TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    row_count INTEGER NOT NULL,
    imported_at TEXT NOT NULL,
    citation TEXT NOT NULL,
    verified INTEGER NOT NULL DEFAULT 1,
    note TEXT NOT NULL DEFAULT '',
    qp INTEGER NOT NULL DEFAULT 0,
    conversion_factor TEXT,
    UNIQUE (kind, label),
    CHECK (effective_to IS NULL OR effective_from <= effective_to)
);
CREATE TABLE IF NOT EXISTS pfs_row (
    release_id INTEGER NOT NULL REFERENCES release (id),
    code TEXT NOT NULL, modifier TEXT NOT NULL, status TEXT NOT NULL,
    work TEXT NOT NULL, pe_nonfacility TEXT NOT NULL, pe_facility TEXT NOT NULL,
    facility_na INTEGER NOT NULL, mp TEXT NOT NULL, pctc TEXT NOT NULL,
    mult_proc TEXT NOT NULL, global_days TEXT NOT NULL, conversion_factor TEXT
);
CREATE INDEX IF NOT EXISTS pfs_row_release_code ON pfs_row (release_id, code);
CREATE TABLE IF NOT EXISTS gpci_row (
    release_id INTEGER NOT NULL REFERENCES release (id),
    mac TEXT NOT NULL, state TEXT NOT NULL, locality TEXT NOT NULL, name TEXT NOT NULL,
    work TEXT NOT NULL, pe TEXT NOT NULL, mp TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS gpci_row_locality ON gpci_row (release_id, mac, locality);
CREATE TABLE IF NOT EXISTS zip5_row (
    release_id INTEGER NOT NULL REFERENCES release (id),
    zip5 TEXT NOT NULL, state TEXT NOT NULL, mac TEXT NOT NULL, locality TEXT NOT NULL,
    plus_four INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS zip5_row_zip5 ON zip5_row (release_id, zip5);
CREATE TABLE IF NOT EXISTS ptp_row (
    release_id INTEGER NOT NULL REFERENCES release (id),
    column1 TEXT NOT NULL, column2 TEXT NOT NULL, effective TEXT NOT NULL, deleted TEXT,
    modifier_indicator INTEGER NOT NULL, rationale TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS ptp_row_column1 ON ptp_row (release_id, column1);
CREATE INDEX IF NOT EXISTS ptp_row_column2 ON ptp_row (release_id, column2);
CREATE TABLE IF NOT EXISTS mue_row (
    release_id INTEGER NOT NULL REFERENCES release (id),
    code TEXT NOT NULL, max_units INTEGER NOT NULL, adjudication_indicator INTEGER,
    rationale TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS mue_row_code ON mue_row (release_id, code);
CREATE TABLE IF NOT EXISTS icd10cm_row (
    release_id INTEGER NOT NULL REFERENCES release (id),
    code TEXT NOT NULL, billable INTEGER NOT NULL, short_description TEXT NOT NULL,
    long_description TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS icd10cm_row_code ON icd10cm_row (release_id, code);
"""


# Inside the data folder: derived files that can be rebuilt at any time (the packaged
# ICD-10-CM index).
CACHE_FOLDER = "cache"


def data_dir(override: Path | str | None = None) -> Path:
    if override is not None:
        return Path(override)
    configured = os.environ.get("HANDRAIL_DATA_DIR")
    if configured:
        return Path(configured)
    xdg = os.environ.get("XDG_DATA_HOME")
    base = Path(xdg) if xdg else Path.home() / ".local" / "share"
    return base / "handrail"


def db_path(override: Path | str | None = None) -> Path:
    return data_dir(override) / DB_NAME


def connect_for_write(override: Path | str | None = None) -> sqlite3.Connection:
    """Open (creating if needed) the store; transactions are explicit (BEGIN ... COMMIT)."""
    path = db_path(override)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(path, isolation_level=None, timeout=30)
    except (OSError, sqlite3.Error) as exc:
        raise OfficialDataError(
            f"cannot open the data store {path} ({exc})",
            "set HANDRAIL_DATA_DIR to a folder you can write to",
        ) from exc
    try:
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            conn.close()
            raise OfficialDataError(
                f"the data store {path} was written by a newer Handrail (schema {version})",
                "upgrade Handrail, or point HANDRAIL_DATA_DIR at another folder",
            )
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA foreign_keys=ON")
        conn.executescript(_SCHEMA)
        conn.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
    except sqlite3.Error as exc:
        conn.close()
        raise OfficialDataError(
            f"{path} is not a Handrail data store or is damaged ({exc})",
            "move the file away and import the official files again",
        ) from exc
    return conn


def connect_for_read(override: Path | str | None = None) -> sqlite3.Connection | None:
    """A read-only connection, or None when nothing was ever imported."""
    path = db_path(override)
    if not path.is_file():
        return None
    conn: sqlite3.Connection | None = None
    try:
        conn = sqlite3.connect(
            f"{path.resolve().as_uri()}?mode=ro", uri=True, check_same_thread=False
        )
        conn.execute("SELECT 1 FROM release LIMIT 1")
    except sqlite3.Error as exc:
        if conn is not None:
            conn.close()
        raise OfficialDataError(
            f"cannot read the data store {path} ({exc})",
            "check the file's permissions, or move it away and import the files again",
        ) from exc
    return conn

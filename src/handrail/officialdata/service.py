"""Import official files into the local store, and list what is loaded.

`run_import` is all-or-nothing: the file is read and written inside one transaction, the first
malformed row raises `OfficialDataError` (`<file>:<line>: <what>; <how to fix>`) and nothing
is kept. Re-importing a release (same kind and label) replaces it in the same transaction.
"""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from itertools import islice
from pathlib import Path
from typing import Any

from handrail.officialdata import icd10cm_packaged
from handrail.officialdata.builtin import builtin_tables
from handrail.officialdata.errors import OfficialDataError
from handrail.officialdata.files import (
    KINDS,
    Parsed,
    Row,
    check_file,
    parse_effective,
    sha256_file,
)
from handrail.officialdata.gpci import parse_gpci
from handrail.officialdata.icd10cm import parse_icd10cm
from handrail.officialdata.mue import parse_mue
from handrail.officialdata.pfs import parse_pfs
from handrail.officialdata.ptp import parse_ptp, ptp_files
from handrail.officialdata.store import (
    CACHE_FOLDER,
    ROW_COLUMNS,
    connect_for_read,
    connect_for_write,
)
from handrail.officialdata.store import data_dir as resolve_data_dir
from handrail.officialdata.zip5 import parse_zip5
from handrail.rules.catalog import CATALOG
from handrail.rules.tables import TableKind

CHUNK_ROWS = 20_000

Parser = Callable[..., Parsed]
PARSERS: dict[TableKind, Parser] = {
    "pfs": parse_pfs,
    "gpci": parse_gpci,
    "zip5": parse_zip5,
    "ptp": parse_ptp,
    "mue": parse_mue,
    "icd10cm": parse_icd10cm,
}


@dataclass(frozen=True, slots=True)
class ImportSummary:
    """What one import stored."""

    kind: TableKind
    label: str
    effective_from: date
    effective_to: date | None
    file_name: str
    sha256: str
    rows: int
    replaced: bool  # True when it replaced an earlier import of the same release
    imported_at: datetime
    verified: bool = True
    note: str = ""
    qp: bool = False
    conversion_factor: Decimal | None = None
    messages: tuple[str, ...] = field(default_factory=tuple)

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "label": self.label,
            "effective_from": self.effective_from.isoformat(),
            "effective_to": None if self.effective_to is None else self.effective_to.isoformat(),
            "file_name": self.file_name,
            "sha256": self.sha256,
            "rows": self.rows,
            "replaced": self.replaced,
            "imported_at": self.imported_at.isoformat(timespec="seconds"),
            "verified": self.verified,
            "note": self.note,
            "qp": self.qp,
            "conversion_factor": None
            if self.conversion_factor is None
            else str(self.conversion_factor),
            "messages": list(self.messages),
        }


@dataclass(frozen=True, slots=True)
class ReleaseStatus:
    """One release the rules can read, built in or imported."""

    kind: TableKind
    label: str
    effective_from: date
    effective_to: date | None
    rows: int
    sha256: str
    builtin: bool
    imported_at: datetime | None
    file_name: str
    verified: bool = True
    note: str = ""
    conversion_factor: Decimal | None = None

    @property
    def sha256_short(self) -> str:
        return self.sha256[:12]

    @property
    def origin(self) -> str:
        return "built-in" if self.builtin else "imported"

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "label": self.label,
            "effective_from": self.effective_from.isoformat(),
            "effective_to": None if self.effective_to is None else self.effective_to.isoformat(),
            "rows": self.rows,
            "sha256": self.sha256,
            "sha256_short": self.sha256_short,
            "origin": self.origin,
            "imported_at": None
            if self.imported_at is None
            else self.imported_at.isoformat(timespec="seconds"),
            "file_name": self.file_name,
            "verified": self.verified,
            "note": self.note,
            "conversion_factor": None
            if self.conversion_factor is None
            else str(self.conversion_factor),
        }


def _kind(kind: str) -> TableKind:
    for known in KINDS:
        if kind == known:
            return known
    raise OfficialDataError(f"unknown data kind {kind!r}", f"use one of: {', '.join(KINDS)}")


def _checksum(files: list[Path]) -> str:
    if len(files) == 1:
        return sha256_file(files[0])
    # A folder of part files: the digest of "sha256  name" lines, as `sha256sum` prints them.
    listing = "".join(f"{sha256_file(part)}  {part.name}\n" for part in files)
    return hashlib.sha256(listing.encode()).hexdigest()


def run_import(
    kind: str,
    path: Path | str,
    *,
    release: str | None = None,
    effective: date | str | None = None,
    data_dir: Path | str | None = None,
) -> ImportSummary:
    """Import one official file (or, for ptp, a folder of part files) as one release."""
    table = _kind(kind)
    source = Path(path).expanduser()
    label_option = release.strip() if release and release.strip() else None
    start = parse_effective(effective)
    files = ptp_files(source) if table == "ptp" and source.exists() else [source]
    for part in files:
        check_file(part, table)
    checksum = _checksum(files)
    with PARSERS[table](source, release=label_option, effective=start) as parsed:
        conn = connect_for_write(data_dir)
        try:
            return _store(conn, table, parsed, source, checksum)
        except sqlite3.Error as exc:
            raise OfficialDataError(
                f"the data store could not be written ({exc}); nothing was imported",
                "check the disk space and permissions of HANDRAIL_DATA_DIR, then import again",
            ) from exc
        finally:
            conn.close()


def _store(
    conn: sqlite3.Connection, kind: TableKind, parsed: Parsed, source: Path, checksum: str
) -> ImportSummary:
    meta = parsed.meta
    imported_at = datetime.now(UTC).replace(microsecond=0)
    columns = ROW_COLUMNS[kind]
    insert = (
        f"INSERT INTO {kind}_row (release_id, {', '.join(columns)})"
        f" VALUES (?, {', '.join('?' for _ in columns)})"
    )
    # A large page cache keeps the PTP indexes' random inserts in memory (about 1M rows).
    conn.execute("PRAGMA cache_size = -262144")
    conn.execute("BEGIN IMMEDIATE")
    try:
        old = conn.execute(
            "SELECT id FROM release WHERE kind = ? AND label = ?", (kind, meta.label)
        ).fetchone()
        if old is not None:
            conn.execute(f"DELETE FROM {kind}_row WHERE release_id = ?", (old[0],))
            conn.execute("DELETE FROM release WHERE id = ?", (old[0],))
        cursor = conn.execute(
            "INSERT INTO release (kind, label, effective_from, effective_to, file_name, sha256,"
            " row_count, imported_at, citation, verified, note, qp)"
            " VALUES (?, ?, ?, ?, ?, ?, 0, ?, ?, ?, ?, ?)",
            (
                kind,
                meta.label,
                meta.effective_from.isoformat(),
                None if meta.effective_to is None else meta.effective_to.isoformat(),
                source.name,
                checksum,
                imported_at.isoformat(),
                meta.citation,
                int(meta.verified),
                meta.note,
                int(meta.qp),
            ),
        )
        release_id = cursor.lastrowid
        count = 0
        for chunk in _chunks(parsed.rows, CHUNK_ROWS):
            conn.executemany(insert, [(release_id, *row) for row in chunk])
            count += len(chunk)
        conn.execute(
            "UPDATE release SET row_count = ?, conversion_factor = ? WHERE id = ?",
            (
                count,
                None if meta.conversion_factor is None else str(meta.conversion_factor),
                release_id,
            ),
        )
        missing = _missing_therapy_codes(conn, kind, release_id)
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    messages = [
        f"imported {count} {kind} rows as release {meta.label}"
        f" (effective {meta.effective_from.isoformat()})"
    ]
    if missing:
        messages.append(f"therapy codes not in this file: {', '.join(missing)}")
    if old is not None:
        messages.append(f"replaced the earlier import of {meta.label}")
    if not meta.verified:
        messages.append(f"unverified data: {meta.note}")
    return ImportSummary(
        kind=kind,
        label=meta.label,
        effective_from=meta.effective_from,
        effective_to=meta.effective_to,
        file_name=source.name,
        sha256=checksum,
        rows=count,
        replaced=old is not None,
        imported_at=imported_at,
        verified=meta.verified,
        note=meta.note,
        qp=meta.qp,
        conversion_factor=meta.conversion_factor,
        messages=tuple(messages),
    )


def _missing_therapy_codes(
    conn: sqlite3.Connection, kind: TableKind, release_id: int | None
) -> list[str]:
    """Catalog codes a fee schedule file does not price (e.g. codes newer than the file)."""
    if kind != "pfs":
        return []
    codes = sorted(CATALOG)
    marks = ", ".join("?" for _ in codes)
    found = {
        row[0]
        for row in conn.execute(
            f"SELECT DISTINCT code FROM pfs_row WHERE release_id = ? AND code IN ({marks})",
            (release_id, *codes),
        )
    }
    return [code for code in codes if code not in found]


def _chunks(rows: Iterator[Row], size: int) -> Iterator[list[Row]]:
    while chunk := list(islice(rows, size)):
        yield chunk


def data_status(*, data_dir: Path | str | None = None) -> list[ReleaseStatus]:
    """Every built-in and imported release, by kind then effective date."""
    statuses = [
        ReleaseStatus(
            kind=table.release.kind,
            label=table.release.label,
            effective_from=table.release.effective_from,
            effective_to=table.release.effective_to,
            rows=table.row_count,
            sha256=table.source_sha256,
            builtin=True,
            imported_at=None,
            file_name=table.source_file,
            verified=table.release.source.verified,
            note=table.release.source.note,
            conversion_factor=table.conversion_factor,
        )
        for table in builtin_tables()
    ]
    statuses.extend(_packaged_icd_statuses(data_dir))
    conn = connect_for_read(data_dir)
    if conn is not None:
        try:
            statuses.extend(_imported_status(conn))
        finally:
            conn.close()
    order = {kind: position for position, kind in enumerate(KINDS)}
    statuses.sort(key=lambda s: (order[s.kind], s.effective_from, not s.builtin, s.label))
    return statuses


def _packaged_icd_statuses(data_dir: Path | str | None) -> list[ReleaseStatus]:
    """The ICD-10-CM releases Handrail ships, used for dates no imported CDC release covers:
    FY2026 packaged in simple-icd-10-cm, and FY2025 shipped as its differences from FY2026.
    Counting their codes reads (or, once, builds) the FY2026 index."""
    codes = icd10cm_packaged.PackagedIcd10Cm(resolve_data_dir(data_dir) / CACHE_FOLDER)
    april = "codes of the April 1 update count for the whole fiscal year"
    return [
        ReleaseStatus(
            kind="icd10cm",
            label=icd10cm_packaged.PREVIOUS_LABEL,
            effective_from=icd10cm_packaged.PREVIOUS_FROM,
            effective_to=icd10cm_packaged.PREVIOUS_TO,
            rows=codes.previous_code_count(),
            sha256="",
            builtin=True,
            imported_at=None,
            file_name=icd10cm_packaged.PREVIOUS_RESOURCE,
            note=f"derived from simple-icd-10-cm 1.4.0 as differences from FY2026; {april}",
        ),
        ReleaseStatus(
            kind="icd10cm",
            label=codes.release_label,
            effective_from=icd10cm_packaged.RELEASE_FROM,
            effective_to=icd10cm_packaged.RELEASE_TO,
            rows=codes.code_count(),
            sha256="",
            builtin=True,
            imported_at=None,
            file_name=icd10cm_packaged.EXPECTED_DATA_FILE,
            note=f"packaged in simple-icd-10-cm; {april}",
        ),
    ]


def _imported_status(conn: sqlite3.Connection) -> Iterator[ReleaseStatus]:
    query = (
        "SELECT kind, label, effective_from, effective_to, row_count, sha256, imported_at,"
        " file_name, verified, note, conversion_factor FROM release"
    )
    for row in conn.execute(query):
        yield ReleaseStatus(
            kind=_kind(row[0]),
            label=row[1],
            effective_from=date.fromisoformat(row[2]),
            effective_to=date.fromisoformat(row[3]) if row[3] else None,
            rows=row[4],
            sha256=row[5],
            builtin=False,
            imported_at=datetime.fromisoformat(row[6]),
            file_name=row[7],
            verified=bool(row[8]),
            note=row[9],
            conversion_factor=Decimal(row[10]) if row[10] else None,
        )

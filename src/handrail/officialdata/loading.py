"""Build the engine's RuleSet from the built-in tables and the local store."""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from decimal import Decimal
from pathlib import Path

from handrail.officialdata.builtin import builtin_tables
from handrail.officialdata.files import KINDS
from handrail.officialdata.providers import (
    Database,
    LayeredDiagnoses,
    LayeredEdits,
    LayeredFeeSchedule,
    LoadedRelease,
    packaged_diagnoses,
)
from handrail.officialdata.store import CACHE_FOLDER, connect_for_read
from handrail.officialdata.store import data_dir as resolve_data_dir
from handrail.rules.model import Source
from handrail.rules.ruleset import RuleSet
from handrail.rules.tables import Release, TableKind


def loaded_releases(db: Database | None) -> dict[TableKind, list[LoadedRelease]]:
    """Every release by kind: built-in tables first, then the store's imports."""
    by_kind: dict[TableKind, list[LoadedRelease]] = defaultdict(list)
    for table in builtin_tables():
        by_kind[table.release.kind].append(
            LoadedRelease(
                release=table.release,
                imported_at="",
                qp=table.qp,
                conversion_factor=table.conversion_factor,
                builtin_table=table,
            )
        )
    if db is not None:
        query = (
            "SELECT id, kind, label, effective_from, effective_to, sha256, imported_at,"
            " citation, verified, note, qp, conversion_factor FROM release ORDER BY id"
        )
        for row in db.rows(query):
            kind = next((k for k in KINDS if k == row[1]), None)
            if kind is None:
                continue
            release = Release(
                kind=kind,
                label=row[2],
                effective_from=date.fromisoformat(row[3]),
                effective_to=date.fromisoformat(row[4]) if row[4] else None,
                source=Source(row[7], verified=bool(row[8]), note=row[9]),
                checksum=row[5],
                builtin=False,
            )
            by_kind[kind].append(
                LoadedRelease(
                    release=release,
                    imported_at=row[6],
                    qp=bool(row[10]),
                    conversion_factor=Decimal(row[11]) if row[11] else None,
                    db_id=row[0],
                )
            )
    return by_kind


def load_ruleset(*, data_dir: Path | str | None = None) -> RuleSet:
    """The tables the engine reads: imported releases layered over the built-in ones.

    Nothing is read from the store or the package data until the engine asks; the store is
    opened read-only, and a missing store means only the built-in tables are served.
    """
    conn = connect_for_read(data_dir)
    db = Database(conn) if conn is not None else None
    releases = loaded_releases(db)
    return RuleSet(
        fees=LayeredFeeSchedule(releases["pfs"], releases["gpci"], releases["zip5"], db),
        edits=LayeredEdits(releases["ptp"], releases["mue"], db),
        diagnoses=LayeredDiagnoses(
            releases["icd10cm"], db, packaged_diagnoses(resolve_data_dir(data_dir) / CACHE_FOLDER)
        ),
    )

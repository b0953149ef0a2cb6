"""Table providers for the rules engine: imported releases layered over the built-in ones.

Which release answers for a date of service:
- PFS relative values and GPCIs: a release of the same calendar year, the latest whose
  effective date is on or before the date; for a date before every release of that year, the
  earliest release of the year (CMS publishes the year's values in each quarterly file, and the
  built-in tables carry one release per year). No release for the year: None.
- ZIP to locality: the latest quarter on or before the date, else the earliest quarter.
- NCCI PTP and MUE: the latest release effective on or before the date (none before the
  first); PTP rows are further filtered by their own effective and deletion dates.
- ICD-10-CM: an imported CDC release covering the date, else the packaged code sets
  (FY2025 and FY2026); for a date none of them covers, the release nearest to it in time
  answers and says it does not cover the date.
On equal effective dates an imported release beats a built-in one, and a later import beats
an earlier one. Answers are cached in memory: the engine asks for every visit of a batch.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any, Generic, Literal, TypeVar, cast

from handrail.officialdata.builtin import BuiltinTable
from handrail.officialdata.files import Row
from handrail.officialdata.icd10cm import icd_citation, normalize_icd
from handrail.officialdata.store import ROW_COLUMNS
from handrail.rules.model import Source
from handrail.rules.tables import (
    DiagnosisCodeSet,
    DiagnosisLookup,
    GpciRow,
    MueEdit,
    PtpEdit,
    Release,
    RvuRow,
    TableKind,
    ZipLocality,
)

MAX_BILLABLE_CHILDREN = 8


class Database:
    """A read-only connection shared by the providers (serialised: sqlite3 is not re-entrant)."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn
        self._lock = threading.Lock()

    def rows(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        with self._lock:
            return [tuple(row) for row in self._conn.execute(sql, params)]

    def close(self) -> None:
        with self._lock:
            self._conn.close()


@dataclass(frozen=True, slots=True, eq=False)
class LoadedRelease:
    """A release the providers can serve, and how to read its rows."""

    release: Release
    imported_at: str  # "" for built-in tables; orders two imports of the same date
    qp: bool
    conversion_factor: Decimal | None
    builtin_table: BuiltinTable | None = None
    db_id: int | None = None

    @property
    def rank(self) -> tuple[date, int, str, int]:
        builtin = self.release.builtin
        return (
            self.release.effective_from,
            0 if builtin else 1,
            self.imported_at,
            self.db_id or 0,
        )


def latest_on_or_before(candidates: Iterable[LoadedRelease], on: date) -> LoadedRelease | None:
    eligible = [c for c in candidates if c.release.effective_from <= on]
    return max(eligible, key=lambda c: c.rank) if eligible else None


def earliest(candidates: Iterable[LoadedRelease]) -> LoadedRelease | None:
    pool = list(candidates)
    if not pool:
        return None
    first = min(c.release.effective_from for c in pool)
    return max((c for c in pool if c.release.effective_from == first), key=lambda c: c.rank)


def pick_in_year(candidates: Iterable[LoadedRelease], on: date) -> LoadedRelease | None:
    same_year = [c for c in candidates if c.release.effective_from.year == on.year]
    return latest_on_or_before(same_year, on) or earliest(same_year)


def pick_latest_or_earliest(candidates: Iterable[LoadedRelease], on: date) -> LoadedRelease | None:
    pool = list(candidates)
    return latest_on_or_before(pool, on) or earliest(pool)


T = TypeVar("T")
MAX_CACHED_ANSWERS = 250_000  # made-up codes or ZIPs in input must not grow a cache forever


class _Keyed(Generic[T]):
    """One kind's rows looked up by key, per release; each answer is built once and cached.

    Built-in tables are indexed in memory on first use; imported releases are read from the
    store one key at a time (an indexed query), so a batch only pays for the keys it uses.
    """

    def __init__(
        self,
        db: Database | None,
        kind: TableKind,
        key_columns: tuple[str, ...],
        build: Callable[[Row, Release], T],
        keep: Callable[[Row], bool] = lambda row: True,
        where: str = "",
    ) -> None:
        columns = ROW_COLUMNS[kind]
        self._db = db
        self._positions = tuple(columns.index(name) for name in key_columns)
        self._build = build
        self._keep = keep
        self._sql = (
            f"SELECT {', '.join(columns)} FROM {kind}_row WHERE release_id = ?"
            + "".join(f" AND {name} = ?" for name in key_columns)
            + where
            + " LIMIT 1"
        )
        self._indexes: dict[int, dict[tuple[Any, ...], Row]] = {}
        self._answers: dict[tuple[int, tuple[str, ...]], T | None] = {}

    def get(self, loaded: LoadedRelease, key: tuple[str, ...]) -> T | None:
        cache_key = (id(loaded), key)
        try:
            return self._answers[cache_key]
        except KeyError:
            pass
        row = self._find(loaded, key)
        answer = None if row is None else self._build(row, loaded.release)
        if len(self._answers) >= MAX_CACHED_ANSWERS:
            self._answers.clear()
        self._answers[cache_key] = answer
        return answer

    def _find(self, loaded: LoadedRelease, key: tuple[str, ...]) -> Row | None:
        if loaded.builtin_table is not None:
            index = self._indexes.get(id(loaded))
            if index is None:
                index = {
                    tuple(row[p] for p in self._positions): row
                    for row in loaded.builtin_table.rows()
                    if self._keep(row)
                }
                self._indexes[id(loaded)] = index
            return index.get(key)
        if self._db is None or loaded.db_id is None:
            return None
        found = self._db.rows(self._sql, (loaded.db_id, *key))
        return found[0] if found else None


def _rvu_row(row: Row, release: Release) -> RvuRow:
    return RvuRow(
        code=row[0],
        modifier=row[1],
        status=row[2],
        work=Decimal(row[3]),
        pe_nonfacility=Decimal(row[4]),
        pe_facility=Decimal(row[5]),
        mp=Decimal(row[7]),
        facility_na=bool(row[6]),
        pctc=row[8],
        mult_proc=row[9],
        global_days=row[10],
        conversion_factor=Decimal(row[11]) if row[11] else None,
        release=release,
    )


def _gpci_row(row: Row, release: Release) -> GpciRow:
    return GpciRow(
        mac=row[0],
        locality=row[2],
        state=row[1],
        name=row[3],
        work=Decimal(row[4]),
        pe=Decimal(row[5]),
        mp=Decimal(row[6]),
        release=release,
    )


def _zip_row(row: Row, release: Release) -> ZipLocality:
    return ZipLocality(
        zip5=row[0],
        state=row[1],
        mac=row[2],
        locality=row[3],
        release=release,
        plus_four=bool(row[4]),
    )


def _mue_row(row: Row, release: Release) -> MueEdit:
    return MueEdit(
        code=row[0],
        max_units=int(row[1]),
        adjudication_indicator=None if row[2] is None else int(row[2]),
        rationale=row[3],
        release=release,
    )


class LayeredFeeSchedule:
    """FeeScheduleTables over built-in and imported PFS, GPCI and ZIP5 releases."""

    def __init__(
        self,
        pfs: Sequence[LoadedRelease],
        gpci: Sequence[LoadedRelease],
        zip5: Sequence[LoadedRelease],
        db: Database | None = None,
    ) -> None:
        self._pfs = list(pfs)
        self._gpci = list(gpci)
        self._zip5 = list(zip5)
        self._pfs_choice: dict[date, LoadedRelease | None] = {}
        self._gpci_choice: dict[date, LoadedRelease | None] = {}
        self._zip_choice: dict[date, LoadedRelease | None] = {}
        # The global row of a code (no modifier): 26/TC/53 rows are not therapy prices.
        self._rvus = _Keyed(
            db,
            "pfs",
            ("code",),
            _rvu_row,
            keep=lambda row: row[1] == "",
            where=" AND modifier = ''",
        )
        self._gpcis = _Keyed(db, "gpci", ("mac", "locality"), _gpci_row)
        self._zips = _Keyed(db, "zip5", ("zip5",), _zip_row)

    # Release choice by date of service
    def pfs_release(self, on: date) -> LoadedRelease | None:
        if on not in self._pfs_choice:
            # Non-QPP values are the default; a QPP file differs only in its conversion
            # factor and is served only for a year that has no non-QPP release.
            regular = [c for c in self._pfs if not c.qp]
            year_has_regular = any(c.release.effective_from.year == on.year for c in regular)
            self._pfs_choice[on] = pick_in_year(regular if year_has_regular else self._pfs, on)
        return self._pfs_choice[on]

    def gpci_release(self, on: date) -> LoadedRelease | None:
        if on not in self._gpci_choice:
            self._gpci_choice[on] = pick_in_year(self._gpci, on)
        return self._gpci_choice[on]

    def zip5_release(self, on: date) -> LoadedRelease | None:
        if on not in self._zip_choice:
            self._zip_choice[on] = pick_latest_or_earliest(self._zip5, on)
        return self._zip_choice[on]

    # FeeScheduleTables
    def rvu(self, code: str, on: date) -> RvuRow | None:
        loaded = self.pfs_release(on)
        return None if loaded is None else self._rvus.get(loaded, (code.strip().upper(),))

    def gpci(self, mac: str, locality: str, on: date) -> GpciRow | None:
        loaded = self.gpci_release(on)
        if loaded is None:
            return None
        return self._gpcis.get(loaded, (mac.strip(), locality.strip()))

    def locality_for_zip(self, zip5: str, on: date) -> ZipLocality | None:
        loaded = self.zip5_release(on)
        return None if loaded is None else self._zips.get(loaded, (zip5.strip()[:5],))

    def conversion_factor_in_file(self, on: date, qp: bool) -> tuple[Decimal, Release] | None:
        loaded = pick_in_year([c for c in self._pfs if c.qp == qp], on)
        if loaded is None or loaded.conversion_factor is None:
            return None
        return loaded.conversion_factor, loaded.release

    def locality_releases(self, on: date) -> tuple[Release | None, Release | None]:
        gpci, zip5 = self.gpci_release(on), self.zip5_release(on)
        return (
            None if gpci is None else gpci.release,
            None if zip5 is None else zip5.release,
        )

    def releases(self) -> Iterable[Release]:
        return [c.release for c in (*self._pfs, *self._gpci, *self._zip5)]

    def conversion_factor_from_file(self, year: int, qp: bool = False) -> Decimal | None:
        """The CONV FACTOR of the latest PFS release of `year` (QPP file when `qp`)."""
        matching = [c for c in self._pfs if c.release.effective_from.year == year and c.qp == qp]
        if not matching:
            return None
        return max(matching, key=lambda c: c.rank).conversion_factor


class LayeredEdits:
    """EditTables over built-in and imported NCCI PTP and MUE releases."""

    def __init__(
        self,
        ptp: Sequence[LoadedRelease],
        mue: Sequence[LoadedRelease],
        db: Database | None = None,
    ) -> None:
        self._ptp = list(ptp)
        self._mue = list(mue)
        self._db = db
        self._ptp_choice: dict[date, LoadedRelease | None] = {}
        self._mue_choice: dict[date, LoadedRelease | None] = {}
        self._pairs: dict[tuple[frozenset[str], int], list[PtpEdit]] = {}
        self._builtin_ptp: dict[int, list[PtpEdit]] = {}
        self._mues = _Keyed(db, "mue", ("code",), _mue_row)

    def ptp_release(self, on: date) -> LoadedRelease | None:
        if on not in self._ptp_choice:
            self._ptp_choice[on] = latest_on_or_before(self._ptp, on)
        return self._ptp_choice[on]

    def mue_release(self, on: date) -> LoadedRelease | None:
        if on not in self._mue_choice:
            self._mue_choice[on] = latest_on_or_before(self._mue, on)
        return self._mue_choice[on]

    # EditTables
    def release_for(self, kind: Literal["ptp", "mue"], on: date) -> Release | None:
        loaded = self.ptp_release(on) if kind == "ptp" else self.mue_release(on)
        return None if loaded is None else loaded.release

    def ptp_pairs(self, codes: Iterable[str], on: date) -> list[PtpEdit]:
        loaded = self.ptp_release(on)
        if loaded is None:
            return []
        key = (frozenset(code.strip().upper() for code in codes), id(loaded))
        edits = self._pairs.get(key)
        if edits is None:
            edits = self._find_pairs(key[0], loaded)
            if len(self._pairs) >= MAX_CACHED_ANSWERS:
                self._pairs.clear()
            self._pairs[key] = edits
        return [edit for edit in edits if edit.in_force(on)]

    def mue(self, code: str, on: date) -> MueEdit | None:
        loaded = self.mue_release(on)
        return None if loaded is None else self._mues.get(loaded, (code.strip().upper(),))

    def releases(self) -> Iterable[Release]:
        return [c.release for c in (*self._ptp, *self._mue)]

    def _find_pairs(self, codes: frozenset[str], loaded: LoadedRelease) -> list[PtpEdit]:
        if len(codes) < 2:
            return []
        if loaded.builtin_table is not None:
            every = self._builtin_ptp.get(id(loaded))
            if every is None:
                every = [_ptp_edit(row, loaded.release) for row in loaded.builtin_table.rows()]
                self._builtin_ptp[id(loaded)] = every
            return [e for e in every if e.column1 in codes and e.column2 in codes]
        if self._db is None or loaded.db_id is None:
            return []
        marks = ", ".join("?" for _ in codes)
        ordered = sorted(codes)
        rows = self._db.rows(
            "SELECT column1, column2, effective, deleted, modifier_indicator, rationale"
            f" FROM ptp_row WHERE release_id = ? AND column1 IN ({marks})"
            f" AND column2 IN ({marks}) ORDER BY column1, column2, effective",
            (loaded.db_id, *ordered, *ordered),
        )
        return [_ptp_edit(row, loaded.release) for row in rows if row[0] != row[1]]


def _ptp_edit(row: Row, release: Release) -> PtpEdit:
    indicator = cast(Literal[0, 1, 9], int(row[4]))
    return PtpEdit(
        column1=row[0],
        column2=row[1],
        effective=date.fromisoformat(row[2]),
        deleted=date.fromisoformat(row[3]) if row[3] else None,
        modifier_indicator=indicator,
        rationale=row[5],
        release=release,
    )


class LayeredDiagnoses:
    """DiagnosisCodeSet: imported CDC releases covering the date, else the packaged set."""

    def __init__(
        self,
        imported: Sequence[LoadedRelease],
        db: Database | None,
        fallback: Callable[[], DiagnosisCodeSet] | None = None,
    ) -> None:
        self._imported = list(imported)
        self._db = db
        self._fallback_factory = fallback or packaged_diagnoses()
        self._fallback: DiagnosisCodeSet | None = None
        self._choice: dict[date, LoadedRelease | None] = {}
        self._answers: dict[tuple[str, int, bool], DiagnosisLookup] = {}

    def release_for(self, on: date) -> LoadedRelease | None:
        if on not in self._choice:
            covering = [c for c in self._imported if c.release.covers(on)]
            self._choice[on] = max(covering, key=lambda c: c.rank) if covering else None
        return self._choice[on]

    def lookup(self, code: str, on: date) -> DiagnosisLookup:
        loaded = self.release_for(on)
        if loaded is None or self._db is None or loaded.db_id is None:
            if self._fallback is None:
                self._fallback = self._fallback_factory()
            answer = self._fallback.lookup(code, on)
            if answer.release_covers_date or self._db is None:
                return answer
            # No release covers the date: an imported one nearer to it than the packaged
            # sets (e.g. FY2027 for a date in FY2028) is the better guess.
            nearest = self._nearest(on, _days_outside(answer.release_from, answer.release_to, on))
            if nearest is None:
                return answer
            return self._answer(code, nearest, self._db, covers=False)
        return self._answer(code, loaded, self._db, covers=True)

    def _nearest(self, on: date, fallback_distance: int) -> LoadedRelease | None:
        best: tuple[int, LoadedRelease] | None = None
        for candidate in self._imported:
            if candidate.db_id is None:
                continue
            release = candidate.release
            distance = _days_outside(release.effective_from, release.effective_to, on)
            if distance < fallback_distance and (best is None or distance < best[0]):
                best = (distance, candidate)
        return None if best is None else best[1]

    def _answer(
        self, code: str, loaded: LoadedRelease, db: Database, *, covers: bool
    ) -> DiagnosisLookup:
        undotted, dotted = normalize_icd(code)
        key = (undotted, loaded.db_id or 0, covers)
        answer = self._answers.get(key)
        if answer is None:
            answer = self._lookup(undotted, dotted, loaded, db, covers)
            self._answers[key] = answer
        return answer

    @staticmethod
    def _lookup(
        undotted: str, dotted: str, loaded: LoadedRelease, db: Database, covers: bool
    ) -> DiagnosisLookup:
        release_id = loaded.db_id
        found = db.rows(
            "SELECT billable, long_description FROM icd10cm_row"
            " WHERE release_id = ? AND code = ? LIMIT 1",
            (release_id, undotted),
        )
        billable = bool(found and found[0][0])
        children: tuple[str, ...] = ()
        if not billable and undotted:
            rows = db.rows(
                "SELECT code FROM icd10cm_row WHERE release_id = ? AND billable = 1"
                " AND code > ? AND code < ? ORDER BY code LIMIT ?",
                (release_id, undotted, undotted + "~", MAX_BILLABLE_CHILDREN),
            )
            children = tuple(normalize_icd(row[0])[1] for row in rows)
        return DiagnosisLookup(
            code=dotted,
            exists=bool(found) or bool(children),
            billable=billable,
            description=found[0][1] if found else "",
            billable_children=children,
            release_label=loaded.release.label,
            release_covers_date=covers,
            source=Source(icd_citation(loaded.release.label)),
            release_from=loaded.release.effective_from,
            release_to=loaded.release.effective_to,
        )


def _days_outside(start: date | None, end: date | None, on: date) -> int:
    """How many days `on` lies outside the span start..end (0 inside; unknown: very far)."""
    if start is None:
        return 1_000_000
    if on < start:
        return (start - on).days
    if end is not None and on > end:
        return (on - end).days
    return 0


def packaged_diagnoses(cache_dir: Path | None = None) -> Callable[[], DiagnosisCodeSet]:
    """A factory for the code set packaged in simple-icd-10-cm, its index kept in `cache_dir`."""

    def make() -> DiagnosisCodeSet:
        from handrail.officialdata.icd10cm_packaged import PackagedIcd10Cm

        return PackagedIcd10Cm(cache_dir)

    return make

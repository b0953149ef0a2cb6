"""Row types of the official tables the rules read, and the interfaces that serve them.

The engine never loads data itself. Built-in tables (shipped with the package) and tables a
clinic imported from CMS/CDC files are served through the protocols below; `RuleSet` groups
them. Every row carries the `Release` it came from, so every figure can name its release.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Literal, Protocol

from handrail.rules.model import Source

TableKind = Literal["pfs", "gpci", "zip5", "ptp", "mue", "icd10cm"]


@dataclass(frozen=True, slots=True)
class Release:
    """One release of one official table (e.g. the CY2026 July RVU file, RVU26C)."""

    kind: TableKind
    label: str  # "RVU26C", "GPCI2026", "ZIP5 2025Q4", "NCCI PTP 2026Q3", "ICD-10-CM FY2027"
    effective_from: date
    effective_to: date | None  # inclusive; None while it has no announced end
    source: Source
    checksum: str = ""  # sha256 of the imported file; "" for built-in tables
    builtin: bool = True

    def covers(self, on: date) -> bool:
        return self.effective_from <= on and (self.effective_to is None or on <= self.effective_to)


@dataclass(frozen=True, slots=True)
class RvuRow:
    """One HCPCS line of the Medicare physician fee schedule relative value file (PPRRVU)."""

    code: str
    modifier: str  # "" for the global service
    status: str  # A active, B bundled, I not valid for Medicare, R restricted, N non-covered...
    work: Decimal
    pe_nonfacility: Decimal
    pe_facility: Decimal
    mp: Decimal
    facility_na: bool  # True when the file marks facility pricing "NA"
    pctc: str  # "7" = therapy service (PCTC indicator)
    mult_proc: str  # "5" = subject to the therapy MPPR ("always therapy")
    global_days: str  # "XXX", "ZZZ" ...
    conversion_factor: Decimal | None  # CONV FACTOR column, when the file has it
    release: Release

    @property
    def always_therapy(self) -> bool:
        return self.mult_proc == "5"


@dataclass(frozen=True, slots=True)
class GpciRow:
    """Geographic practice cost indices of one Medicare payment locality."""

    mac: str  # 5-digit Medicare Administrative Contractor number, e.g. "01182"
    locality: str  # 2-digit locality number, e.g. "18"
    state: str
    name: str
    work: Decimal
    pe: Decimal
    mp: Decimal
    release: Release

    @property
    def key(self) -> str:
        return f"{self.mac}-{self.locality}"


@dataclass(frozen=True, slots=True)
class ZipLocality:
    """Which Medicare payment locality a 5-digit ZIP code is priced in."""

    zip5: str
    state: str
    mac: str
    locality: str
    release: Release
    # The ZIP spans more than one locality: CMS prices it by ZIP+4 (plus-four flag, column 21
    # of the ZIP5 file); this row's locality is then right for only part of the ZIP.
    plus_four: bool = False


@dataclass(frozen=True, slots=True)
class PtpEdit:
    """One NCCI procedure-to-procedure edit: column 2 denies when billed with column 1."""

    column1: str
    column2: str
    effective: date
    deleted: date | None  # last date the edit applies is the day before; None = in force
    modifier_indicator: Literal[0, 1, 9]  # 0 never bypassed, 1 NCCI modifier allowed, 9 n/a
    rationale: str
    release: Release

    def in_force(self, on: date) -> bool:
        return self.effective <= on and (self.deleted is None or on < self.deleted)


@dataclass(frozen=True, slots=True)
class MueEdit:
    """A medically unlikely edit: the most units of a code one patient gets on one day."""

    code: str
    max_units: int
    adjudication_indicator: int | None  # 1 line edit, 2 DOS policy, 3 DOS clinical; None unknown
    rationale: str
    release: Release


@dataclass(frozen=True, slots=True)
class DiagnosisLookup:
    """What a code set says about one ICD-10-CM code on a date of service."""

    code: str  # as given, normalised with a dot (e.g. "I69.351")
    exists: bool  # a real category/subcategory/code of the release
    billable: bool  # a leaf: valid on a claim
    description: str
    billable_children: tuple[str, ...]  # for a non-billable code: billable codes under it (capped)
    release_label: str  # "ICD-10-CM FY2026 (April 2026 update)"
    release_covers_date: bool  # False when no loaded release covers the date of service
    source: Source
    # The dates the answering release is in force (inclusive; None: not known or open-ended).
    release_from: date | None = None
    release_to: date | None = None
    # For a code the answering release does not have but a later one does: the first date
    # of service it is valid, and the billable code it was split from (e.g. G35.A starts
    # 2025-10-01; before then the code was G35).
    starts_on: date | None = None
    use_instead: tuple[str, ...] = ()


class FeeScheduleTables(Protocol):
    """Serves PFS relative values, GPCIs and ZIP-to-locality rows by date of service."""

    def rvu(self, code: str, on: date) -> RvuRow | None: ...

    def gpci(self, mac: str, locality: str, on: date) -> GpciRow | None: ...

    def locality_for_zip(self, zip5: str, on: date) -> ZipLocality | None: ...

    def conversion_factor_in_file(self, on: date, qp: bool) -> tuple[Decimal, Release] | None:
        """The CONV FACTOR column of the fee schedule release (the QPP file when `qp`) that
        answers for `on`, for years Handrail's own factor table does not reach yet."""
        ...

    def locality_releases(self, on: date) -> tuple[Release | None, Release | None]:
        """The GPCI and ZIP-to-locality releases that answer for `on` (None: none loaded).

        Every date they serve alike gets the same locality answers, so callers can cache
        answers per release instead of per day."""
        ...

    def releases(self) -> Iterable[Release]: ...


class EditTables(Protocol):
    """Serves NCCI PTP pairs and MUEs by date of service."""

    def ptp_pairs(self, codes: Iterable[str], on: date) -> list[PtpEdit]:
        """Edits in force on `on` whose column 1 and column 2 are both among `codes`."""
        ...

    def mue(self, code: str, on: date) -> MueEdit | None: ...

    def release_for(self, kind: Literal["ptp", "mue"], on: date) -> Release | None:
        """The PTP or MUE release that answers for `on`, or None when none is loaded."""
        ...

    def releases(self) -> Iterable[Release]: ...


class DiagnosisCodeSet(Protocol):
    """Answers whether an ICD-10-CM code is valid and billable on a date of service."""

    def lookup(self, code: str, on: date) -> DiagnosisLookup: ...

"""The ICD-10-CM code set shipped inside the `simple-icd-10-cm` package.

Source: CDC/CMS ICD-10-CM tabular list, April 2026 release (the FY2026 code set plus its
April 1 update), as packaged by simple-icd-10-cm 1.5.0 (`icd10c-tabular-April-1-2026.xml`).
Descriptions are the CDC's (public domain).

The package parses its 9.7 MB XML when it is imported (about 1.5 s and 190 MB), so the codes
are read once into a compact index (code, leaf or not, description, in tabular order) that is
kept as a file in the data folder's `cache/`: later processes read that file instead of
importing the package. Each answer is cached.

Limits of this release:
- It covers dates of service 2025-10-01 through 2026-09-30 (fiscal year 2026). Later dates
  fall under FY2027, which a clinic loads with `handrail data import icd10cm FILE`; lookups
  for dates outside FY2026 still answer from FY2026 but say `release_covers_date=False`.
- Codes added by the April 1, 2026 update are answered as valid for the whole fiscal
  year: the package does not say which codes arrived in April.
"""

from __future__ import annotations

import contextlib
import os
import threading
import warnings
from collections.abc import Iterable
from datetime import date
from importlib import metadata
from pathlib import Path
from types import ModuleType
from typing import Final

import orjson

from handrail.officialdata.icd10cm import CODE_SHAPE, normalize_icd
from handrail.rules.model import Source
from handrail.rules.tables import DiagnosisLookup

PACKAGE_NAME: Final = "simple-icd-10-cm"
EXPECTED_DATA_FILE: Final = "icd10c-tabular-April-1-2026.xml"
RELEASE_FROM: Final = date(2025, 10, 1)
RELEASE_TO: Final = date(2026, 9, 30)  # inclusive: FY2027 starts 2026-10-01
MAX_BILLABLE_CHILDREN: Final = 8
# Cached answers are kept for every valid code (about 98,000 at most); made-up codes from
# user input could grow the cache without bound, so it is cleared past this size.
MAX_CACHE_ENTRIES: Final = 250_000
# Bump when the cached index file's layout changes; older files are then rebuilt.
CACHE_FORMAT: Final = 1

SOURCE: Final = Source("CDC/CMS ICD-10-CM FY2026 (via simple-icd-10-cm)")


class IcdPackageError(RuntimeError):
    """The installed simple-icd-10-cm does not carry the release this module describes."""


def normalize_code(code: str) -> str:
    """`" i69351 "` -> `"I69.351"`; text that cannot be a code comes back stripped, upper-case."""
    return normalize_icd(code)[1]


def _package_version() -> str:
    try:
        return metadata.version(PACKAGE_NAME)
    except metadata.PackageNotFoundError:
        raise IcdPackageError(
            f"{PACKAGE_NAME} is not installed; run `make install` (it is a dependency of handrail)"
        ) from None


_module: ModuleType | None = None
_module_lock = threading.Lock()


def _icd() -> ModuleType:
    """Import simple_icd_10_cm once per process (it parses its XML at import)."""
    global _module
    if _module is None:
        with _module_lock:
            if _module is None:
                with warnings.catch_warnings():
                    # 1.5.0 reads its data with the deprecated importlib.resources.read_text.
                    warnings.simplefilter("ignore", DeprecationWarning)
                    import simple_icd_10_cm

                inner = getattr(simple_icd_10_cm, "simple_icd_10_cm", None)
                data_file = getattr(inner, "_classification_data_package_file_name", None)
                if data_file != EXPECTED_DATA_FILE:
                    raise IcdPackageError(
                        f"{PACKAGE_NAME} {_package_version()} ships {data_file!r}, not "
                        f"{EXPECTED_DATA_FILE!r}; install {PACKAGE_NAME} 1.5.0 "
                        "(see requirements/constraints.txt)"
                    )
                _module = simple_icd_10_cm
    return _module


class _CodeIndex:
    """Every category and subcategory of the release, in tabular-list order.

    `codes[i]` is a dotted code, `leaf[i]` whether it has no codes under it, `descriptions[i]`
    its CDC description. In tabular order a code's descendants are the run of codes right
    after it that start with its (undotted) characters, so a category's billable children
    are read off that run in the order the package's `get_descendants` gives them (a test
    compares the two for every category of the release).
    """

    __slots__ = ("codes", "descriptions", "leaf", "position")

    def __init__(self, rows: Iterable[tuple[str, bool, str]]) -> None:
        self.codes: list[str] = []
        self.leaf: list[bool] = []
        self.descriptions: list[str] = []
        self.position: dict[str, int] = {}
        for code, leaf, description in rows:
            if code in self.position:  # the package lists a few categories twice (e.g. B10)
                continue
            self.position[code] = len(self.codes)
            self.codes.append(code)
            self.leaf.append(leaf)
            self.descriptions.append(description)

    def billable_children(self, at: int) -> tuple[str, ...]:
        prefix = self.codes[at].replace(".", "")
        children: list[str] = []
        for after in range(at + 1, len(self.codes)):
            if len(children) == MAX_BILLABLE_CHILDREN:
                break
            if not self.codes[after].replace(".", "").startswith(prefix):
                break
            if self.leaf[after]:
                children.append(self.codes[after])
        return tuple(children)

    def rows(self) -> list[list[object]]:
        return [list(row) for row in zip(self.codes, self.leaf, self.descriptions, strict=True)]


def _index_from_package() -> _CodeIndex:
    cm = _icd()
    return _CodeIndex(
        (code, bool(cm.is_leaf(code)), str(cm.get_description(code)))
        for code in cm.get_all_codes(with_dots=True)
        if cm.is_category_or_subcategory(code)
    )


def _cache_stamp() -> dict[str, object]:
    return {"format": CACHE_FORMAT, "package": _package_version(), "data_file": EXPECTED_DATA_FILE}


def cache_path(cache_dir: Path) -> Path:
    """Where the index of the installed package's release is kept inside `cache_dir`."""
    return cache_dir / f"icd10cm-packaged-{_package_version()}-v{CACHE_FORMAT}.json"


def _read_cached_index(path: Path) -> _CodeIndex | None:
    """The cached index, or None when it is missing, damaged or made from another package."""
    try:
        document = orjson.loads(path.read_bytes())
        if not isinstance(document, dict) or document.get("stamp") != _cache_stamp():
            return None
        rows = document["codes"]
        index = _CodeIndex((str(code), bool(leaf), str(text)) for code, leaf, text in rows)
    except (OSError, orjson.JSONDecodeError, KeyError, TypeError, ValueError):
        return None
    return index if len(index.codes) == document.get("count") else None


def _write_cached_index(path: Path, index: _CodeIndex) -> None:
    """Keep the index for the next process; a folder we cannot write to only costs speed."""
    document = {"stamp": _cache_stamp(), "count": len(index.codes), "codes": index.rows()}
    partial = path.with_name(f"{path.name}.{os.getpid()}.partial")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        partial.write_bytes(orjson.dumps(document))
        partial.replace(path)  # atomic: a reader sees the old file or the whole new one
    except OSError:
        with contextlib.suppress(OSError):
            partial.unlink(missing_ok=True)


class PackagedIcd10Cm:
    """`DiagnosisCodeSet` over the ICD-10-CM release packaged in simple-icd-10-cm.

    A code is billable when it is a real category or subcategory (not a chapter or a block
    such as "A00-A09") and a leaf: it has no codes under it.

    With a `cache_dir`, the codes are read from a compact index kept there (about 60 ms and
    30 MB), made from the package by the first process that needs it; only that process
    imports simple-icd-10-cm (about 1.5 s and 190 MB). Without one, each process builds the
    index from the package.
    """

    def __init__(self, cache_dir: Path | None = None) -> None:
        self._cache_dir = cache_dir
        self._cache: dict[tuple[str, bool], DiagnosisLookup] = {}
        self._release_label: str | None = None
        self._index: _CodeIndex | None = None
        self._index_lock = threading.Lock()

    @property
    def release_label(self) -> str:
        if self._release_label is None:
            self._release_label = (
                f"ICD-10-CM FY2026 (April 2026 update, {PACKAGE_NAME} {_package_version()})"
            )
        return self._release_label

    def code_count(self) -> int:
        """How many categories, subcategories and codes the release has (reads the index)."""
        return len(self._code_index().codes)

    @staticmethod
    def covers(on: date) -> bool:
        """True for dates of service in fiscal year 2026 (2025-10-01 through 2026-09-30)."""
        return RELEASE_FROM <= on <= RELEASE_TO

    def lookup(self, code: str, on: date) -> DiagnosisLookup:
        covers = RELEASE_FROM <= on <= RELEASE_TO
        key = (code, covers)
        found = self._cache.get(key)
        if found is None:
            found = self._lookup(code, covers)
            if len(self._cache) >= MAX_CACHE_ENTRIES:
                self._cache.clear()
            self._cache[key] = found
        return found

    def _code_index(self) -> _CodeIndex:
        if self._index is None:
            with self._index_lock:
                if self._index is None:
                    self._index = self._load_index()
        return self._index

    def _load_index(self) -> _CodeIndex:
        if self._cache_dir is None:
            return _index_from_package()
        path = cache_path(self._cache_dir)
        index = _read_cached_index(path)
        if index is None:
            index = _index_from_package()
            _write_cached_index(path, index)
        return index

    def _lookup(self, code: str, covers: bool) -> DiagnosisLookup:
        undotted, dotted = normalize_icd(code)
        index = self._code_index()
        at = index.position.get(dotted) if CODE_SHAPE.fullmatch(undotted) else None
        children: tuple[str, ...] = ()
        if at is None:
            exists = billable = False
            description = ""
        else:
            exists, billable = True, index.leaf[at]
            description = index.descriptions[at]
            if not billable:
                children = index.billable_children(at)
        return DiagnosisLookup(
            code=dotted,
            exists=exists,
            billable=billable,
            description=description,
            billable_children=children,
            release_label=self.release_label,
            release_covers_date=covers,
            source=SOURCE,
        )

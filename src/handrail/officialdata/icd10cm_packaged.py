"""The ICD-10-CM code set shipped inside the `simple-icd-10-cm` package.

Source: CDC/CMS ICD-10-CM tabular list, April 2026 release (the FY2026 code set plus its
April 1 update), as packaged by simple-icd-10-cm 1.5.0 (`icd10c-tabular-April-1-2026.xml`).
Descriptions are the CDC's (public domain).

The package parses its 9.7 MB XML when it is imported (2.3-2.7 s, about 190 MB), so it is
imported on the first lookup, once per process, and each answer is cached.

Limits of this release:
- It covers dates of service 2025-10-01 through 2026-09-30 (fiscal year 2026). Later dates
  fall under FY2027, which a clinic loads with `handrail data import icd10cm FILE`; lookups
  for dates outside FY2026 still answer from FY2026 but say `release_covers_date=False`.
- Codes added by the April 1, 2026 update are answered as valid for the whole fiscal
  year: the package does not say which codes arrived in April.
"""

from __future__ import annotations

import re
import threading
import warnings
from datetime import date
from importlib import metadata
from itertools import islice
from types import ModuleType
from typing import Final

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

SOURCE: Final = Source("CDC/CMS ICD-10-CM FY2026 (via simple-icd-10-cm)")

# An ICD-10-CM code: a letter, a digit, a letter or digit, then up to four more characters.
_CODE_SHAPE: Final = re.compile(r"[A-Z][0-9][0-9A-Z](?:[0-9A-Z]{1,4})?")


class IcdPackageError(RuntimeError):
    """The installed simple-icd-10-cm does not carry the release this module describes."""


def normalize_code(code: str) -> str:
    """`" i69351 "` -> `"I69.351"`; text that cannot be a code comes back stripped, upper-case."""
    undotted = code.strip().upper().replace(".", "")
    if not _CODE_SHAPE.fullmatch(undotted):
        return code.strip().upper()
    return undotted if len(undotted) == 3 else f"{undotted[:3]}.{undotted[3:]}"


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


class PackagedIcd10Cm:
    """`DiagnosisCodeSet` over the ICD-10-CM release packaged in simple-icd-10-cm.

    A code is billable when it is a real category or subcategory (not a chapter or a block
    such as "A00-A09") and a leaf: it has no codes under it.
    """

    def __init__(self) -> None:
        self._cache: dict[tuple[str, bool], DiagnosisLookup] = {}
        self._release_label: str | None = None

    @property
    def release_label(self) -> str:
        if self._release_label is None:
            self._release_label = (
                f"ICD-10-CM FY2026 (April 2026 update, {PACKAGE_NAME} {_package_version()})"
            )
        return self._release_label

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

    def _lookup(self, code: str, covers: bool) -> DiagnosisLookup:
        dotted = normalize_code(code)
        cm = _icd()
        exists = bool(
            _CODE_SHAPE.fullmatch(dotted.replace(".", ""))
            and cm.is_valid_item(dotted)
            and cm.is_category_or_subcategory(dotted)
        )
        billable = exists and bool(cm.is_leaf(dotted))
        children: tuple[str, ...] = ()
        if exists and not billable:
            leaves = (child for child in cm.get_descendants(dotted) if cm.is_leaf(child))
            children = tuple(islice(leaves, MAX_BILLABLE_CHILDREN))
        return DiagnosisLookup(
            code=dotted,
            exists=exists,
            billable=billable,
            description=str(cm.get_description(dotted)) if exists else "",
            billable_children=children,
            release_label=self.release_label,
            release_covers_date=covers,
            source=SOURCE,
        )

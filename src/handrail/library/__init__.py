"""Handrail's home-program library (pure Python: no Django, no web or CLI layer)."""

from __future__ import annotations

from handrail.library.builtin import (
    ADLS,
    DISCIPLINES,
    DOSE_FIELDS,
    DOSE_LIMITS,
    EQUIPMENT,
    KIND_CODES,
    LIBRARY_RELEASE,
    REGIONS,
    Dose,
    Entry,
    Kind,
    LibraryDataError,
    builtin_entries,
    dose_errors,
    entry,
    load_entries,
    parse_library_file,
)

__all__ = [
    "ADLS",
    "DISCIPLINES",
    "DOSE_FIELDS",
    "DOSE_LIMITS",
    "EQUIPMENT",
    "KIND_CODES",
    "LIBRARY_RELEASE",
    "REGIONS",
    "Dose",
    "Entry",
    "Kind",
    "LibraryDataError",
    "builtin_entries",
    "dose_errors",
    "entry",
    "load_entries",
    "parse_library_file",
]

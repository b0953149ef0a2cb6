"""ICD-10-CM checks for plans of care, from simple-icd-10-cm (April 2026 / FY2026 release).

Only billable codes (leaves of the classification) may go on a plan: "G20" is a category,
"G20.A1" is billable. The library takes a few seconds to load, so it is imported on first use.
"""

from __future__ import annotations

import re
from functools import cache
from types import ModuleType

ICD10_RELEASE = "ICD-10-CM FY2026 (April 2026 release, simple-icd-10-cm 1.5)"
_SHAPE = re.compile(r"^[A-Z][0-9][0-9A-Z](\.[0-9A-Z]{1,4})?$")


@cache
def _library() -> ModuleType:
    import simple_icd_10_cm

    module: ModuleType = simple_icd_10_cm
    return module


def icd10_normalise(code: str) -> str:
    """Upper case with the dot after the third character ("i69351" -> "I69.351")."""
    text = code.strip().upper().replace(" ", "")
    if "." not in text and len(text) > 3:
        text = f"{text[:3]}.{text[3:]}"
    return text


def icd10_problem(code: str) -> str | None:
    """Why `code` cannot go on a claim, or None when it is a billable ICD-10-CM code."""
    normal = icd10_normalise(code)
    if not _SHAPE.match(normal):
        return f"{code!r} is not an ICD-10-CM code; write it like I69.351"
    icd = _library()
    if not icd.is_valid_item(normal):
        return f"{normal} is not in {ICD10_RELEASE}"
    if not icd.is_leaf(normal):
        return f"{normal} is a category, not a billable code; pick a more specific code under it"
    return None


def icd10_description(code: str) -> str:
    icd = _library()
    normal = icd10_normalise(code)
    return str(icd.get_description(normal)) if icd.is_valid_item(normal) else ""

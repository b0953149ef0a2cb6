"""ICD-10-CM checks for plans of care, answered by the rules engine's code set.

The code set is the one the engine checks claims against (`RuleSet.diagnoses`): CDC releases
the clinic imported for the date, else the packaged FY2026 release. Only billable codes
(leaves of the classification) may go on a plan: "G20" is a category, "G20.A1" is billable.
"""

from __future__ import annotations

import re
from datetime import date

from handrail.rules.tables import DiagnosisLookup
from handrail.web.visits.engine import ruleset

_SHAPE = re.compile(r"^[A-Z][0-9A-Z]{2}(\.[0-9A-Z]{1,4})?$")


def icd10_normalise(code: str) -> str:
    """Upper case with the dot after the third character ("i69351" -> "I69.351")."""
    text = code.strip().upper().replace(" ", "")
    if "." not in text and len(text) > 3:
        text = f"{text[:3]}.{text[3:]}"
    return text


def _lookup(code: str, on: date) -> DiagnosisLookup:
    return ruleset().diagnoses.lookup(code, on)


def icd10_problem(code: str, on: date) -> str | None:
    """Why `code` cannot go on a claim on `on`, or None when it is billable then."""
    normal = icd10_normalise(code)
    if not _SHAPE.match(normal):
        return f"{code!r} is not an ICD-10-CM code; write it like I69.351"
    found = _lookup(normal, on)
    if not found.exists:
        return f"{normal} is not in {found.release_label}"
    if not found.billable:
        return f"{normal} is a category, not a billable code; pick a more specific code under it"
    return None


def icd10_description(code: str, on: date) -> str:
    normal = icd10_normalise(code)
    return _lookup(normal, on).description if _SHAPE.match(normal) else ""

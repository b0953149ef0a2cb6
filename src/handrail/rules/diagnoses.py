"""Diagnosis checks of one visit: present, valid on the date of service, billable.

Sources:
- ASC X12 837P 005010X222A1, loop 2400 SV107: every service line points to at least one
  claim diagnosis (the pointer is a required element; pyx12's 837P map marks it "R").
- ICD-10-CM official code set of the fiscal year of the date of service (CDC/CMS; fiscal
  years start on October 1, and April 1 updates add codes inside a year). Only codes with
  no codes under them ("leaf" codes) are valid on a claim; a category with subcategories is
  not. A code split by a later release (G35 became a category on 2025-10-01, with G35.A-G35.D
  under it) stays billable for dates before the split.

Severity while no loaded release covers the date of service: a code missing from the
release used may be a new code of a later release, and a category may have been a leaf
before, so "not valid" and "not billable" are warnings then, not errors; one info finding
says which release was used and which dates it covers.

A fix never names a code the date of service may not have: billable codes under a category
are listed only from a release that covers the date.
"""

from __future__ import annotations

from datetime import date
from functools import lru_cache

from handrail.rules.model import Finding, Severity, Source
from handrail.rules.tables import DiagnosisCodeSet, DiagnosisLookup
from handrail.rules.visit_record import VisitRecord

RULE_MISSING = "dx.missing"
RULE_INVALID = "dx.invalid"
RULE_NOT_BILLABLE = "dx.not-billable"
RULE_RELEASE_MISMATCH = "dx.release-mismatch"

SOURCE_POINTER = Source("ASC X12 837P 005010X222A1 loop 2400 SV107 (diagnosis pointer, required)")
IMPORT_COMMAND = "handrail data import icd10cm FILE"


def check_diagnoses(visit: VisitRecord, codes: DiagnosisCodeSet) -> list[Finding]:
    """Findings about the visit's diagnoses (rule ids `dx.*`), in a stable order.

    - `dx.missing` (error, one per line): the visit has no diagnosis, so no line can point
      to one.
    - `dx.invalid` (error; warning when the release does not cover the date): a code the
      release does not know, visit-level (`line=None`).
    - `dx.not-billable` (error; warning likewise): a category or subcategory with codes
      under it; the fix lists up to 8 billable codes under it when the release covers the
      date.
    - `dx.release-mismatch` (info, at most one): the release used does not cover the date
      of service.
    A code listed twice is checked once.
    """
    if not visit.diagnoses:
        return [_missing(index) for index in range(len(visit.lines))]
    findings: list[Finding] = []
    mismatch: DiagnosisLookup | None = None
    seen: set[str] = set()
    for code in visit.diagnoses:
        if code in seen:
            continue
        seen.add(code)
        found = codes.lookup(code, visit.date)
        if not found.release_covers_date and mismatch is None:
            mismatch = found
        if found.exists and found.billable:
            continue
        findings.append(
            _invalid(found, visit.date) if not found.exists else _not_billable(found, visit.date)
        )
    if mismatch is not None:
        findings.append(_release_mismatch(mismatch, visit.date))
    return findings


# Diagnosis pointer required on every line
@lru_cache(maxsize=64)
def _missing(index: int) -> Finding:
    return Finding(
        severity=Severity.ERROR,
        rule=RULE_MISSING,
        message="line has no diagnosis: a claim line must point to at least one diagnosis",
        fix=(
            "add the ICD-10-CM code that explains why the patient needs this service, "
            'e.g. "I69.351" for right-sided hemiparesis after a stroke'
        ),
        source=SOURCE_POINTER,
        line=index,
    )


def _severity(found: DiagnosisLookup) -> Severity:
    return Severity.ERROR if found.release_covers_date else Severity.WARNING


# Findings are cached: a batch meets the same codes, dates and releases over and over.


# Code valid in the ICD-10-CM release of the date of service
@lru_cache(maxsize=4096)
def _invalid(found: DiagnosisLookup, on: date) -> Finding:
    message = f"{found.code} is not a valid ICD-10-CM code on {on.isoformat()}"
    fix = (
        "check the code for a typo (letter O vs digit 0, a missing character) and pick "
        "the code from the ICD-10-CM release in force on the date of service"
    )
    if not found.release_covers_date:
        message += f" according to {found.release_label}, which does not cover that date"
    if found.starts_on is not None and on < found.starts_on:
        message += (
            f": it starts on {found.starts_on.isoformat()} "
            f"(ICD-10-CM FY{_fiscal_year(found.starts_on)})"
        )
        fix = f"for a date of service before {found.starts_on.isoformat()}, "
        if found.use_instead and found.release_covers_date:
            fix += f"bill the code in force then: {', '.join(found.use_instead)}"
        else:
            fix += "pick the code from the ICD-10-CM release in force on the date of service"
    return Finding(
        severity=_severity(found),
        rule=RULE_INVALID,
        message=message,
        fix=fix,
        source=found.source,
    )


# Only leaf codes are billable
@lru_cache(maxsize=4096)
def _not_billable(found: DiagnosisLookup, on: date) -> Finding:
    kind = "a category" if "." not in found.code else "a subcategory"
    message = f"{found.code} is {kind} with codes under it, not a billable code"
    if not found.release_covers_date:
        message += f" in {found.release_label}, which does not cover the date of service"
        # The codes under it in that release may not exist on the date: name none.
        fix = (
            f"{found.code} is {kind} in {found.release_label}; pick the most specific code "
            f"under it in ICD-10-CM FY{_fiscal_year(on)}, in force on {on.isoformat()}"
        )
    elif found.billable_children:
        fix = (
            f"{found.code} is {kind}; pick a billable code such as "
            f"{', '.join(found.billable_children)}"
        )
        if len(found.billable_children) >= 8:
            fix += ", ..."
    else:
        fix = f"{found.code} is {kind}; pick the most specific code under it"
    return Finding(
        severity=_severity(found),
        rule=RULE_NOT_BILLABLE,
        message=message,
        fix=fix,
        source=found.source,
    )


def _fiscal_year(on: date) -> int:
    """ICD-10-CM fiscal year of a date: FY2026 runs 2025-10-01 through 2026-09-30."""
    return on.year + 1 if on.month >= 10 else on.year


# Release in force on the date of service
@lru_cache(maxsize=1024)
def _release_mismatch(found: DiagnosisLookup, on: date) -> Finding:
    fiscal_year = _fiscal_year(on)
    checked = found.release_label
    if found.release_from is not None:
        checked += f", in force {found.release_from.isoformat()}"
        checked += "" if found.release_to is None else f" through {found.release_to.isoformat()}"
    return Finding(
        severity=Severity.INFO,
        rule=RULE_RELEASE_MISMATCH,
        message=(
            f"diagnoses were checked against {checked}, which may not apply to "
            f"{on.isoformat()}: dates from {fiscal_year - 1}-10-01 through "
            f"{fiscal_year}-09-30 fall under ICD-10-CM FY{fiscal_year}"
        ),
        fix=(
            f"import the CDC ICD-10-CM FY{fiscal_year} release files with "
            f"`{IMPORT_COMMAND}`, then check the visit again"
        ),
        source=found.source,
    )

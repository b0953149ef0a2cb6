"""Denial patterns shared across clinics: anonymous reports of a denial and what fixed it,
aggregated per (code, payer type, reason) and shown only once enough clinics reported it.

A report holds no patient data by construction: a procedure code, its modifiers, the payer
type, the group and reason codes, remark codes and the fix chosen from a closed list (no free
text, where a name or a date could slip in). The reporting clinic is kept only as a keyed hash
(HMAC-SHA256 with a secret the clinic's server or the hub holds), so the hub can count
distinct clinics without knowing which ones they are.

An aggregate is shown when it has at least MIN_REPORTS reports from at least MIN_CLINICS
distinct clinics: below that, a pattern could point at one clinic's billing (the calculator's
promise in the seeds: "aggregated denial reports once 5 or more come in", with a clinic floor
so that one busy clinic cannot make a pattern alone).
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Final

from handrail.claims.model import FieldError

MIN_REPORTS: Final = 5
MIN_CLINICS: Final = 3
_CODE: Final = re.compile(r"[0-9A-Z]{5}")
_MODIFIER: Final = re.compile(r"[0-9A-Z]{2}")
_CARC: Final = re.compile(r"[0-9A-Z]{1,5}")
_RARC: Final = re.compile(r"[A-Z]{1,2}[0-9]{1,4}")
_GROUPS: Final = frozenset({"CO", "PR", "OI", "PI", "CR"})
_CLINIC_KEY: Final = re.compile(r"[0-9a-f]{64}")


class PayerKind(StrEnum):
    MEDICARE = "medicare"
    MEDICARE_ADVANTAGE = "medicare_advantage"
    MEDICAID = "medicaid"
    COMMERCIAL = "commercial"
    WORKERS_COMP = "workers_comp"
    OTHER = "other"


class Fix(StrEnum):
    """What fixed the denial, from a closed list."""

    ADDED_DISTINCT_MODIFIER = "added_distinct_modifier"  # 59 or X{EPSU}
    ADDED_KX = "added_kx"
    FIXED_DISCIPLINE_MODIFIER = "fixed_discipline_modifier"
    ADDED_AUTHORIZATION = "added_authorization"
    FIXED_DIAGNOSIS = "fixed_diagnosis"
    ADDED_REFERRING_PROVIDER = "added_referring_provider"
    FIXED_UNITS = "fixed_units"
    APPEAL_WON = "appeal_won"
    WRITTEN_OFF = "written_off"
    NOT_FIXED_YET = "not_fixed_yet"


class ReportError(FieldError):
    """A report that cannot be accepted: `field_name` names the field."""


@dataclass(frozen=True)
class DenialReport:
    code: str
    modifiers: tuple[str, ...]
    payer_kind: PayerKind
    group: str
    reason: str  # the CARC
    remarks: tuple[str, ...]
    fix: Fix
    clinic_key: str  # clinic_key(secret, clinic identity): 64 hex characters

    @property
    def key(self) -> tuple[str, str, str]:
        """What reports are aggregated by: code, payer type and reason (group-CARC)."""
        return (self.code, self.payer_kind.value, f"{self.group}-{self.reason}")


def clinic_key(secret: bytes, clinic_identity: str) -> str:
    """The clinic as the aggregate knows it: HMAC-SHA256(secret, identity) in hex (RFC 2104).
    The identity is what names the clinic on its server (e.g. its group NPI)."""
    if len(secret) < 16:
        raise ValueError("the pattern key must be at least 16 bytes")
    return hmac.new(secret, clinic_identity.encode("utf-8"), hashlib.sha256).hexdigest()


def make_report(
    *,
    code: str,
    modifiers: Iterable[str],
    payer_kind: str,
    group: str,
    reason: str,
    remarks: Iterable[str],
    fix: str,
    clinic_key: str,
) -> DenialReport:
    """A report from untrusted values (a form, another server's POST), every field checked;
    ReportError names the first field that is wrong."""
    code = code.strip().upper()
    if not _CODE.fullmatch(code):
        raise ReportError("code", "a 5-character CPT or HCPCS code")
    mods = tuple(m.strip().upper() for m in modifiers if m.strip())
    if len(mods) > 4 or not all(_MODIFIER.fullmatch(m) for m in mods):
        raise ReportError("modifiers", "at most 4 modifiers of 2 letters or digits")
    try:
        kind = PayerKind(payer_kind)
    except ValueError:
        raise ReportError(
            "payer_kind", f"one of {', '.join(k.value for k in PayerKind)}"
        ) from None
    group = group.strip().upper()
    if group not in _GROUPS:
        raise ReportError("group", "one of CO, PR, OI, PI, CR")
    reason = reason.strip().upper()
    if not _CARC.fullmatch(reason):
        raise ReportError("reason", "a claim adjustment reason code such as 97 or B7")
    rarcs = tuple(r.strip().upper() for r in remarks if r.strip())
    if len(rarcs) > 5 or not all(_RARC.fullmatch(r) for r in rarcs):
        raise ReportError("remarks", "at most 5 remark codes such as N20 or MA130")
    try:
        chosen = Fix(fix)
    except ValueError:
        raise ReportError("fix", f"one of {', '.join(f.value for f in Fix)}") from None
    if not _CLINIC_KEY.fullmatch(clinic_key):
        raise ReportError("clinic_key", "64 lower-case hex characters (HMAC-SHA256)")
    return DenialReport(code, mods, kind, group, reason, rarcs, chosen, clinic_key)


@dataclass(frozen=True)
class Pattern:
    """An aggregate that may be shown: counts only, never which clinic reported what."""

    code: str
    payer_kind: str
    reason: str  # group-CARC, e.g. CO-97
    reports: int
    clinics: int
    modifiers: tuple[tuple[str, int], ...]  # modifier sets as "GP:59", most reported first
    remarks: tuple[tuple[str, int], ...]
    fixes: tuple[tuple[str, int], ...]

    @property
    def top_fix(self) -> str:
        return self.fixes[0][0] if self.fixes else ""


def is_shown(reports: int, clinics: int) -> bool:
    return reports >= MIN_REPORTS and clinics >= MIN_CLINICS


def aggregate(reports: Iterable[DenialReport]) -> list[Pattern]:
    """The patterns that pass the threshold, most reported first (then by key)."""
    grouped: dict[tuple[str, str, str], list[DenialReport]] = {}
    for report in reports:
        grouped.setdefault(report.key, []).append(report)
    patterns = []
    for (code, kind, reason), items in grouped.items():
        clinics = len({r.clinic_key for r in items})
        if not is_shown(len(items), clinics):
            continue
        patterns.append(
            Pattern(
                code=code,
                payer_kind=kind,
                reason=reason,
                reports=len(items),
                clinics=clinics,
                modifiers=_ranked(":".join(r.modifiers) or "(none)" for r in items),
                remarks=_ranked(remark for r in items for remark in r.remarks),
                fixes=_ranked(r.fix.value for r in items if r.fix is not Fix.NOT_FIXED_YET),
            )
        )
    return sorted(patterns, key=lambda p: (-p.reports, p.code, p.payer_kind, p.reason))


def _ranked(values: Iterable[str]) -> tuple[tuple[str, int], ...]:
    counts = Counter(values)
    return tuple(sorted(counts.items(), key=lambda item: (-item[1], item[0])))

"""What the codes on a remittance mean, in Handrail's own words: claim adjustment group codes,
claim adjustment reason codes (CARC) and remittance advice remark codes (RARC).

# Sources
- CARC: X12 External Code Source 139 (Claim Adjustment Reason Codes), maintained by the
  X12 Claim Adjustment Status Code Maintenance Committee.
- RARC: X12 External Code Source 411 (Remittance Advice Remark Codes), maintained by CMS.
- Group codes: ASC X12 005010X221A1 (835), CAS01.
Both lists are published by Washington Publishing Company. The table in
`data/reason_codes_2026.json` is our summary of what each code usually means on an outpatient
therapy claim, its usual cause and its fix; it does not reproduce the official descriptions.
A code that is not in our table gets an honest "not in our table" answer, never a guess.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from importlib import resources
from typing import Any, Final

TABLE_FILE: Final = "reason_codes_2026.json"
_FIELDS: Final = ("kind", "code", "meaning", "therapy_cause", "fix")


class ReasonKind(StrEnum):
    CARC = "CARC"
    RARC = "RARC"


class ReasonTableError(ValueError):
    """The reason table file is malformed: which entry and what is wrong."""


@dataclass(frozen=True)
class Reason:
    """One code explained: what it means, why therapy claims usually get it, how to fix it.
    `known` is False for a code our table does not cover; then only `meaning` is set."""

    kind: ReasonKind
    code: str
    meaning: str
    therapy_cause: str
    fix: str
    known: bool = True

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind.value,
            "code": self.code,
            "known": self.known,
            "meaning": self.meaning,
            "therapy_cause": self.therapy_cause,
            "fix": self.fix,
        }


@dataclass(frozen=True)
class ReasonTable:
    """The table as loaded: its version, provenance, group codes and codes by (kind, code)."""

    version: str
    provenance: str
    groups: dict[str, str]
    reasons: dict[tuple[ReasonKind, str], Reason]

    def explain(self, kind: ReasonKind | str, code: str) -> Reason:
        """The explanation of a CARC or RARC; for an unknown code, an honest answer that it
        is not in our table and where to look."""
        kind = ReasonKind(kind)
        normalised = code.strip().upper()
        found = self.reasons.get((kind, normalised))
        if found is not None:
            return found
        return Reason(
            kind=kind,
            code=normalised,
            meaning=(
                f"{kind.value} {normalised} is not in Handrail's table (version "
                f"{self.version}); read its official description in the "
                f"{'X12 CARC' if kind is ReasonKind.CARC else 'CMS RARC'} list."
            ),
            therapy_cause="",
            fix="",
            known=False,
        )

    def group(self, code: str) -> str:
        """What a claim adjustment group code (CAS01) means, or that it is not one."""
        normalised = code.strip().upper()
        return self.groups.get(
            normalised, f"{normalised!r} is not a claim adjustment group code (CO, PR, OI, PI, CR)"
        )


def parse_reason_table(data: object) -> ReasonTable:
    """The table from its JSON document, refusing a malformed entry with its position."""
    if not isinstance(data, dict):
        raise ReasonTableError("the reason table is not a JSON object")
    for required in ("version", "provenance", "groups", "codes"):
        if required not in data:
            raise ReasonTableError(f"the reason table has no {required!r}")
    groups = data["groups"]
    if not isinstance(groups, dict) or not all(
        isinstance(k, str) and isinstance(v, str) and v for k, v in groups.items()
    ):
        raise ReasonTableError("'groups' must map each group code to its meaning")
    reasons: dict[tuple[ReasonKind, str], Reason] = {}
    for position, entry in enumerate(data["codes"]):
        reason = _parse_entry(position, entry)
        key = (reason.kind, reason.code)
        if key in reasons:
            raise ReasonTableError(f"codes[{position}]: {reason.kind} {reason.code} is repeated")
        reasons[key] = reason
    return ReasonTable(str(data["version"]), str(data["provenance"]), dict(groups), reasons)


def _parse_entry(position: int, entry: object) -> Reason:
    where = f"codes[{position}]"
    if not isinstance(entry, dict):
        raise ReasonTableError(f"{where}: not an object")
    unknown = set(entry) - set(_FIELDS)
    if unknown:
        raise ReasonTableError(f"{where}: unknown field(s) {', '.join(sorted(unknown))}")
    for name in _FIELDS:
        value = entry.get(name)
        if not isinstance(value, str) or not value.strip():
            raise ReasonTableError(f"{where}.{name}: missing or empty")
    try:
        kind = ReasonKind(entry["kind"])
    except ValueError:
        raise ReasonTableError(f"{where}.kind: {entry['kind']!r} is not CARC or RARC") from None
    code = entry["code"]
    if code != code.strip().upper():
        raise ReasonTableError(f"{where}.code: {code!r} must be upper case with no spaces")
    return Reason(kind, code, entry["meaning"], entry["therapy_cause"], entry["fix"])


@cache
def reason_table() -> ReasonTable:
    """The table shipped with Handrail (package data), loaded once."""
    text = resources.files("handrail.claims").joinpath("data", TABLE_FILE).read_text("utf-8")
    return parse_reason_table(json.loads(text))

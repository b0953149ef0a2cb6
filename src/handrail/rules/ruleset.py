"""The tables one evaluation reads, grouped in one value (built by handrail.officialdata)."""

from __future__ import annotations

from dataclasses import dataclass

from handrail.rules.tables import DiagnosisCodeSet, EditTables, FeeScheduleTables


@dataclass(frozen=True, slots=True)
class RuleSet:
    fees: FeeScheduleTables
    edits: EditTables
    diagnoses: DiagnosisCodeSet

"""The code catalog: how each therapy code is timed, who bills it, and its Medicare quirks.

Structural facts live here; the plain-language summaries and boundaries (our own words,
never AMA descriptor text) live in `catalog_text.py`.

Sources: CMS Pub 100-04 ch.5 §20.2 (timed vs untimed reporting); CMS PFS relative value
files RVU25D/RVU26C (status, PCTC 7 and MULT PROC 5 mark "always therapy" codes; 97014 is
status I and Medicare pays G0283 instead; 97010 is status B, bundled); CY2024 PFS final rule
(caregiver training codes 97550-97552 payable from 2024-01-01).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Literal

from handrail.rules.catalog_text import CODE_TEXT
from handrail.rules.model import RuleInputError, Source

Discipline = Literal["PT", "OT", "SLP"]
DISCIPLINES: tuple[Discipline, ...] = ("PT", "OT", "SLP")

SOURCE_TIMED_CODES = Source("CMS Pub 100-04 ch.5 §20.2")
SOURCE_CAREGIVER_CODES = Source(
    "CY2024 PFS final rule; CPT time rule for 97550/97551 (first 16 min, then 8 min past 30)",
    verified=False,
    note="minimum minutes for 97550/97551 are from secondary sources",
)


class TimeRule(StrEnum):
    """How a code's minutes turn into units."""

    TIMED_15 = "timed-15"  # each 15 minutes; counts toward the day's 8-minute-rule total
    UNTIMED = "untimed"  # one unit per day whatever the minutes (evaluations, most modalities)
    CAREGIVER_FIRST_30 = "caregiver-first-30"  # 97550: the first 30 minutes of caregiver training
    CAREGIVER_EACH_15 = "caregiver-each-15"  # 97551: each further 15 minutes, add-on to 97550


@dataclass(frozen=True, slots=True)
class CodeSpec:
    code: str
    name: str  # a short name in our own words
    time_rule: TimeRule
    always_therapy: bool  # on the CMS "always therapy" list: GP/GO/GN on every line, MPPR applies
    disciplines: frozenset[Discipline]
    # evaluation | procedure | modality-supervised | modality-attended | caregiver | speech
    kind: str
    medicare_replacement: str | None = None  # code Medicare wants instead (97014 -> G0283)
    valid_from: date | None = None  # first date of service the code exists
    add_on_to: str | None = None  # primary code an add-on must be billed with

    @property
    def timed(self) -> bool:
        return self.time_rule is TimeRule.TIMED_15

    @property
    def summary(self) -> str:
        return CODE_TEXT[self.code].summary

    @property
    def boundaries(self) -> tuple[str, ...]:
        return CODE_TEXT[self.code].boundaries


_PT_OT: frozenset[Discipline] = frozenset({"PT", "OT"})
_PT: frozenset[Discipline] = frozenset({"PT"})
_OT: frozenset[Discipline] = frozenset({"OT"})
_SLP: frozenset[Discipline] = frozenset({"SLP"})
_ALL: frozenset[Discipline] = frozenset({"PT", "OT", "SLP"})
_SLP_OT: frozenset[Discipline] = frozenset({"SLP", "OT"})

T15 = TimeRule.TIMED_15
UNT = TimeRule.UNTIMED


def _spec(
    code: str,
    name: str,
    time_rule: TimeRule,
    disciplines: frozenset[Discipline],
    kind: str,
    *,
    always_therapy: bool = True,
    replacement: str | None = None,
    valid_from: date | None = None,
    add_on_to: str | None = None,
) -> CodeSpec:
    return CodeSpec(
        code=code,
        name=name,
        time_rule=time_rule,
        always_therapy=always_therapy,
        disciplines=disciplines,
        kind=kind,
        medicare_replacement=replacement,
        valid_from=valid_from,
        add_on_to=add_on_to,
    )


_CAREGIVER_FROM = date(2024, 1, 1)

_SPECS: tuple[CodeSpec, ...] = (
    # Therapeutic procedures, each 15 minutes
    _spec("97110", "Exercise for strength, motion and endurance", T15, _PT_OT, "procedure"),
    _spec("97112", "Neuromuscular re-education", T15, _PT_OT, "procedure"),
    _spec("97116", "Gait training", T15, _PT, "procedure"),
    _spec("97140", "Manual therapy", T15, _PT_OT, "procedure"),
    _spec("97150", "Group therapy, two or more patients", UNT, _ALL, "procedure"),
    _spec("97530", "Dynamic functional activities", T15, _PT_OT, "procedure"),
    _spec("97533", "Sensory processing treatment", T15, _PT_OT, "procedure"),
    _spec("97535", "Self-care/home management training", T15, _PT_OT, "procedure"),
    _spec("97537", "Community/work reintegration training", T15, _PT_OT, "procedure"),
    _spec("97542", "Wheelchair management training", T15, _PT_OT, "procedure"),
    _spec("97750", "Physical performance testing with report", T15, _PT_OT, "procedure"),
    _spec("97755", "Assistive technology assessment", T15, _ALL, "procedure"),
    _spec("97760", "Orthotic management and training, first encounter", T15, _PT_OT, "procedure"),
    _spec("97761", "Prosthetic training, first encounter", T15, _PT_OT, "procedure"),
    _spec("97763", "Orthotic/prosthetic management, later encounter", T15, _PT_OT, "procedure"),
    # Caregiver training without the patient present (not "always therapy": PCTC 0, MULT PROC 0)
    _spec(
        "97550",
        "Caregiver training, first 30 minutes",
        TimeRule.CAREGIVER_FIRST_30,
        _ALL,
        "caregiver",
        always_therapy=False,
        valid_from=_CAREGIVER_FROM,
    ),
    _spec(
        "97551",
        "Caregiver training, each further 15 minutes",
        TimeRule.CAREGIVER_EACH_15,
        _ALL,
        "caregiver",
        always_therapy=False,
        valid_from=_CAREGIVER_FROM,
        add_on_to="97550",
    ),
    _spec(
        "97552",
        "Caregiver training, group",
        UNT,
        _ALL,
        "caregiver",
        always_therapy=False,
        valid_from=_CAREGIVER_FROM,
    ),
    # Evaluations and re-evaluations: untimed, one per day
    _spec("97161", "PT evaluation, low complexity", UNT, _PT, "evaluation"),
    _spec("97162", "PT evaluation, moderate complexity", UNT, _PT, "evaluation"),
    _spec("97163", "PT evaluation, high complexity", UNT, _PT, "evaluation"),
    _spec("97164", "PT re-evaluation", UNT, _PT, "evaluation"),
    _spec("97165", "OT evaluation, low complexity", UNT, _OT, "evaluation"),
    _spec("97166", "OT evaluation, moderate complexity", UNT, _OT, "evaluation"),
    _spec("97167", "OT evaluation, high complexity", UNT, _OT, "evaluation"),
    _spec("97168", "OT re-evaluation", UNT, _OT, "evaluation"),
    # Supervised modalities: untimed
    _spec("97010", "Hot or cold packs", UNT, _PT_OT, "modality-supervised"),
    _spec("97012", "Mechanical traction", UNT, _PT_OT, "modality-supervised"),
    _spec(
        "97014",
        "Electrical stimulation, unattended",
        UNT,
        _PT_OT,
        "modality-supervised",
        replacement="G0283",
    ),
    _spec("97016", "Vasopneumatic device", UNT, _PT_OT, "modality-supervised"),
    _spec("97018", "Paraffin bath", UNT, _PT_OT, "modality-supervised"),
    _spec("97022", "Whirlpool", UNT, _PT_OT, "modality-supervised"),
    _spec("97024", "Diathermy", UNT, _PT_OT, "modality-supervised"),
    _spec("97026", "Infrared", UNT, _PT_OT, "modality-supervised"),
    _spec("97028", "Ultraviolet", UNT, _PT_OT, "modality-supervised"),
    _spec(
        "G0283",
        "Electrical stimulation, unattended (Medicare code)",
        UNT,
        _PT_OT,
        "modality-supervised",
    ),
    # Constant-attendance modalities, each 15 minutes
    _spec("97032", "Electrical stimulation, attended", T15, _PT_OT, "modality-attended"),
    _spec("97033", "Iontophoresis", T15, _PT_OT, "modality-attended"),
    _spec("97034", "Contrast baths", T15, _PT_OT, "modality-attended"),
    _spec("97035", "Ultrasound", T15, _PT_OT, "modality-attended"),
    _spec("97036", "Hubbard tank", T15, _PT_OT, "modality-attended"),
    # Speech-language pathology: untimed
    _spec("92507", "Speech, language, voice or communication treatment", UNT, _SLP, "speech"),
    _spec("92526", "Swallowing and oral feeding treatment", UNT, _SLP_OT, "speech"),
)

CATALOG: Mapping[str, CodeSpec] = {spec.code: spec for spec in _SPECS}


def code_spec(code: str, *, field: str = "code") -> CodeSpec:
    """The catalog entry of `code`, or a RuleInputError that lists what is known."""
    spec = CATALOG.get(code.strip().upper())
    if spec is None:
        raise RuleInputError(
            field,
            f"unknown code {code!r}; Handrail knows {', '.join(sorted(CATALOG))}",
        )
    return spec

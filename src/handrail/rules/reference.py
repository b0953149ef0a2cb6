"""The code reference: what the engine knows about one catalog code on a date of service.

`code_reference(code, on, edits)` gathers, in our own words and each with its source: what
the code covers and its neighbouring codes, how it is timed, who may furnish it, the
documentation elements Handrail checks, its modifiers, the NCCI pairs and MUE in force, and
its Medicare telehealth status. Prices are not here: the engine never loads fee tables;
`handrail.officialdata.reference.code_answer` adds them and is what the CLI and the web show.

Sources are the ones the rules cite (catalog.py, catalog_text.py, assistants.py,
documentation.py, modifiers.py, telehealth.py); facts the reference marks unverified are
labelled so.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from datetime import date
from typing import Any, Final

from handrail.rules.assistants import SOURCE_CQ_CO, assistant_modifier
from handrail.rules.catalog import CATALOG, SOURCE_CAREGIVER_CODES, SOURCE_TIMED_CODES, CodeSpec
from handrail.rules.documentation import NOTE_ELEMENTS, SOURCE_97535_NOTE
from handrail.rules.model import RuleInputError, Source
from handrail.rules.modifiers import (
    DISCIPLINE_MODIFIERS,
    SOURCE_DISCIPLINE,
    SOURCE_KX,
)
from handrail.rules.tables import EditTables
from handrail.rules.telehealth import (
    SOURCE_NOT_LISTED,
    SOURCE_WINDOW,
    WINDOW_END,
    WINDOW_START,
    listing_on,
    listings,
    modifier_95_source,
)

SOURCE_SUMMARY: Final = Source("Handrail code reference, in our own words")
SOURCE_STATUS: Final = Source("CMS PFS relative value files RVU25D/RVU26C (status indicators)")
SOURCE_EVALUATIONS: Final = Source(
    "CMS Pub 100-02 ch.15 §230.1-230.2 (assistants do not evaluate)",
    verified=False,
    note="not quoted in Handrail's reference material",
)
SOURCE_NCCI_MODIFIER: Final = Source(
    "NCCI: 59/XE/XS/XP/XU on the column-2 code of a pair with modifier indicator 1"
)
_CODE_IN_TEXT: Final = re.compile(r"\b(?:9\d{4}|G\d{4})\b")

_TIMING: Final = {
    "timed-15": "timed: 15-minute units under the day's total of timed minutes (8-minute rule)",
    "untimed": "untimed: one unit per day, whatever the minutes",
    "caregiver-first-30": "timed: the first 30 minutes of caregiver training (one unit)",
    "caregiver-each-15": "timed: each further 15 minutes after the first 30 (add-on)",
}


@dataclass(frozen=True, slots=True)
class Fact:
    """One statement of the reference and where it comes from."""

    text: str
    source: Source

    def to_dict(self) -> dict[str, Any]:
        return {"text": self.text, "source": self.source.label()}


@dataclass(frozen=True, slots=True)
class CodeReference:
    code: str
    name: str
    date: date
    covers: Fact
    neighbours: tuple[str, ...]  # codes the boundaries name
    boundaries: tuple[Fact, ...]
    timing: Fact
    disciplines: tuple[str, ...]
    furnished_by: tuple[Fact, ...]
    documentation: tuple[Fact, ...]
    modifiers: tuple[Fact, ...]
    ncci_pairs: tuple[Fact, ...]
    mue: Fact
    telehealth: Fact
    status: tuple[Fact, ...]  # existence on the date, Medicare replacement, add-on

    def to_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "name": self.name,
            "date": self.date.isoformat(),
            "covers": self.covers.to_dict(),
            "neighbours": list(self.neighbours),
            "boundaries": [fact.to_dict() for fact in self.boundaries],
            "timing": self.timing.to_dict(),
            "disciplines": list(self.disciplines),
            "furnished_by": [fact.to_dict() for fact in self.furnished_by],
            "documentation": [fact.to_dict() for fact in self.documentation],
            "modifiers": [fact.to_dict() for fact in self.modifiers],
            "ncci_pairs": [fact.to_dict() for fact in self.ncci_pairs],
            "mue": self.mue.to_dict(),
            "telehealth": self.telehealth.to_dict(),
            "status": [fact.to_dict() for fact in self.status],
        }


def nearest_codes(code: str, count: int = 3) -> list[str]:
    """Catalog codes closest to `code`: by number for five digits, else by spelling."""
    given = code.strip().upper()
    if len(given) == 5 and given.isdigit():
        numeric = [c for c in CATALOG if c.isdigit()]
        return sorted(numeric, key=lambda c: (abs(int(c) - int(given)), c))[:count]
    return difflib.get_close_matches(given, list(CATALOG), n=count, cutoff=0.6)


def catalog_spec(code: str) -> CodeSpec:
    """The catalog entry of `code`, or a RuleInputError naming the nearest catalog codes."""
    spec = CATALOG.get(code.strip().upper())
    if spec is None:
        near = nearest_codes(code)
        hint = f"; nearest: {', '.join(near)}" if near else ""
        raise RuleInputError("CODE", f"{code.strip()!r} is not a code Handrail knows{hint}")
    return spec


def code_reference(code: str, on: date, edits: EditTables) -> CodeReference:
    """The reference of one catalog code on date of service `on` (RuleInputError if unknown)."""
    spec = catalog_spec(code)
    text_boundaries = spec.boundaries
    neighbours = tuple(
        dict.fromkeys(
            found
            for boundary in text_boundaries
            for found in _CODE_IN_TEXT.findall(boundary)
            if found != spec.code
        )
    )
    return CodeReference(
        code=spec.code,
        name=spec.name,
        date=on,
        covers=Fact(spec.summary, SOURCE_SUMMARY),
        neighbours=neighbours,
        boundaries=tuple(Fact(text, SOURCE_SUMMARY) for text in text_boundaries),
        timing=Fact(
            _TIMING[spec.time_rule.value],
            SOURCE_CAREGIVER_CODES if spec.kind == "caregiver" else SOURCE_TIMED_CODES,
        ),
        disciplines=tuple(d for d in ("PT", "OT", "SLP") if d in spec.disciplines),
        furnished_by=_furnished_by(spec),
        documentation=_documentation(spec),
        modifiers=_modifiers(spec, on),
        ncci_pairs=_pairs(spec, on, edits),
        mue=_mue(spec, on, edits),
        telehealth=_telehealth(spec, on),
        status=_status(spec, on),
    )


def _furnished_by(spec: CodeSpec) -> tuple[Fact, ...]:
    facts: list[Fact] = []
    if spec.kind == "caregiver":
        facts.append(
            Fact(
                "caregiver only: the caregiver is trained without the patient present; "
                "training the patient (with or without a caregiver) is another code",
                SOURCE_CAREGIVER_CODES,
            )
        )
    else:
        facts.append(Fact("the patient is present", SOURCE_SUMMARY))
    if spec.kind == "evaluation":
        facts.append(Fact("the therapist only: assistants do not evaluate", SOURCE_EVALUATIONS))
        return tuple(facts)
    with_assistant = [
        f"{discipline} assistant ({modifier}, paid at 85% when over the 10% de minimis)"
        for discipline in ("PT", "OT")
        if discipline in spec.disciplines
        and (modifier := assistant_modifier(discipline)) is not None
    ]
    if with_assistant:
        facts.append(
            Fact(
                f"therapist, or in whole or in part a {' or '.join(with_assistant)}", SOURCE_CQ_CO
            )
        )
    if "SLP" in spec.disciplines:
        facts.append(
            Fact(
                "SLP: the speech-language pathologist (Medicare has no SLP assistant)",
                SOURCE_CQ_CO,
            )
        )
    return tuple(facts)


def _documentation(spec: CodeSpec) -> tuple[Fact, ...]:
    facts: list[Fact] = []
    if spec.code == "97535":
        facts.append(
            Fact(
                "a note with each element in its own field: " + ", ".join(NOTE_ELEMENTS),
                SOURCE_97535_NOTE,
            )
        )
    if spec.timed or spec.kind == "caregiver":
        facts.append(
            Fact("the minutes of the service (total and the assistant's own)", SOURCE_TIMED_CODES)
        )
    if spec.kind == "evaluation":
        facts.append(
            Fact(
                "complexity from the documented history, examination, presentation and "
                "decision-making; one evaluation or re-evaluation per discipline per day",
                SOURCE_SUMMARY,
            )
        )
    facts.append(
        Fact("a diagnosis the line points to (ICD-10-CM of the date of service)", _DX_POINTER)
    )
    return tuple(facts)


_DX_POINTER: Final = Source(
    "ASC X12 837P 005010X222A1 loop 2400 SV107 (diagnosis pointer, required)"
)


def _modifiers(spec: CodeSpec, on: date) -> tuple[Fact, ...]:
    disciplines = [d for d in ("PT", "OT", "SLP") if d in spec.disciplines]
    plan = ", ".join(f"{DISCIPLINE_MODIFIERS[d]} ({d} plan)" for d in disciplines)
    facts = [
        Fact(
            f"{plan}: on every line"
            + ("" if spec.always_therapy else " of a therapy plan of care"),
            SOURCE_DISCIPLINE,
        )
    ]
    assistants = [m for d in disciplines if (m := assistant_modifier(d)) is not None]
    if assistants and spec.kind != "evaluation":
        facts.append(
            Fact(f"{'/'.join(assistants)} when an assistant furnished more than 10%", SOURCE_CQ_CO)
        )
    facts.append(
        Fact(
            "59 or X{EPSU} on this code when it is column 2 of an NCCI pair with indicator 1",
            SOURCE_NCCI_MODIFIER,
        )
    )
    facts.append(Fact("95 when furnished by telehealth", modifier_95_source(on)))
    facts.append(
        Fact("KX above the year's therapy threshold, medical necessity documented", SOURCE_KX)
    )
    return tuple(facts)


def _pairs(spec: CodeSpec, on: date, edits: EditTables) -> tuple[Fact, ...]:
    release = edits.release_for("ptp", on)
    if release is None:
        return (
            Fact(
                f"no NCCI PTP release covers {on.isoformat()}: pairs not checked",
                Source("NCCI procedure-to-procedure edits"),
            ),
        )
    facts = []
    for pair in edits.ptp_pairs(sorted(CATALOG), on):
        if spec.code not in (pair.column1, pair.column2):
            continue
        modifier = {
            0: "never bypassed by a modifier",
            1: "a 59/X modifier on the column-2 code bypasses it when the services are distinct",
            9: "not applicable",
        }[pair.modifier_indicator]
        facts.append(
            Fact(
                f"{pair.column1} (column 1) with {pair.column2} (column 2): {modifier}",
                pair.release.source
                if pair.release.source.citation
                else Source(pair.release.label),
            )
        )
    if not facts:
        facts.append(
            Fact(
                f"no NCCI pair with another catalog code in {release.label} on {on.isoformat()}",
                release.source,
            )
        )
    return tuple(facts)


def _mue(spec: CodeSpec, on: date, edits: EditTables) -> Fact:
    edit = edits.mue(spec.code, on)
    if edit is not None:
        return Fact(
            f"at most {edit.max_units} unit(s) per patient per day ({edit.release.label})",
            edit.release.source,
        )
    release = edits.release_for("mue", on)
    if release is None:
        return Fact(
            f"no MUE release covers {on.isoformat()}: not checked",
            Source("NCCI medically unlikely edits"),
        )
    return Fact(f"no MUE for {spec.code} in {release.label}", release.source)


def _telehealth(spec: CodeSpec, on: date) -> Fact:
    # One list for the reference and the visit check (telehealth.listing_on), so the code
    # page can never say a code is billable by telehealth when a visit would be refused.
    if not WINDOW_START <= on <= WINDOW_END:
        return Fact(
            f"not billable by telehealth on {on.isoformat()}: PT/OT/SLP may furnish Medicare "
            f"telehealth from {WINDOW_START.isoformat()} through {WINDOW_END.isoformat()}",
            SOURCE_WINDOW,
        )
    listing = listing_on(spec.code, on)
    if listing is None:
        later = [row for row in listings(spec.code) if row.effective_from > on]
        when = f" (listed from {later[0].effective_from.isoformat()})" if later else ""
        return Fact(
            f"not on the Medicare telehealth list on {on.isoformat()}{when}",
            later[0].source if later else SOURCE_NOT_LISTED,
        )
    return Fact(
        f"on the Medicare telehealth list on {on.isoformat()} ({listing.period()}); PT/OT/SLP "
        f"telehealth allowed through {WINDOW_END.isoformat()}",
        listing.source,
    )


def _status(spec: CodeSpec, on: date) -> tuple[Fact, ...]:
    facts: list[Fact] = []
    if spec.valid_from is not None and on < spec.valid_from:
        facts.append(
            Fact(
                f"did not exist on {on.isoformat()}: payable from {spec.valid_from.isoformat()}",
                SOURCE_CAREGIVER_CODES,
            )
        )
    if spec.medicare_replacement:
        facts.append(
            Fact(
                f"not valid for Medicare (status I): bill {spec.medicare_replacement} instead",
                SOURCE_STATUS,
            )
        )
    if spec.add_on_to:
        facts.append(Fact(f"add-on: billed only with {spec.add_on_to}", SOURCE_STATUS))
    if spec.code == "97010":
        facts.append(Fact("bundled (status B): Medicare pays nothing for it", SOURCE_STATUS))
    return tuple(facts)

"""NCCI procedure-to-procedure (PTP) edits and medically unlikely edits (MUEs) for one day.

Sources: CMS NCCI PTP edits (column 2 is denied when billed with column 1 for the same
patient and date, unless the modifier indicator is 1 and an NCCI-associated modifier
59/XE/XS/XP/XU is reported; indicator 0 can never be bypassed) and CMS MUE tables (most
units of a code one provider reports for one patient on one date). The release of each row
is named in every finding.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from typing import Any

from handrail.rules.model import Explanation, Finding, Severity, Source
from handrail.rules.tables import EditTables, MueEdit, PtpEdit, Release

SOURCE_PTP = "CMS NCCI procedure-to-procedure edits"
SOURCE_MUE = "CMS medically unlikely edits"


def _edit_source(prefix: str, release_label: str, verified: bool, note: str) -> Source:
    return Source(f"{prefix}, {release_label}", verified=verified, note=note)


@dataclass(slots=True)
class EditOutcome:
    pairs: list[PtpEdit] = field(default_factory=list)
    distinct_modifier_codes: set[str] = field(default_factory=set)  # column-2 codes to modify
    denied_codes: set[str] = field(default_factory=set)  # column-2 codes that will deny
    mue: list[MueEdit] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)


def check_ptp(
    codes: Iterable[str],
    *,
    on: date,
    edits: EditTables,
    distinct_services: bool,
    distinct_modifier: str,
    outcome: EditOutcome,
    explanation: Explanation,
    here: frozenset[str] | None = None,
) -> None:
    """Find PTP pairs among the day's codes and decide 59/X-modifiers or denials.

    `here` are the codes of the visit being evaluated when `codes` also holds the patient's
    other visits that day: only pairs whose column-2 code is billed here concern this visit
    (a column-2 code of another visit is that visit's to modifier or lose).
    """
    pairs = edits.ptp_pairs(codes, on)
    elsewhere: frozenset[str] = frozenset()
    if here is not None:
        pairs = [pair for pair in pairs if pair.column2 in here]
        elsewhere = frozenset(code for code in codes if code not in here)
    if not pairs:
        explanation.steps.append(_no_pairs_step(tuple(codes), edits.release_for("ptp", on)))
        return
    # The outcome depends only on the pairs (frozen rows, one object per release row: keyed by
    # identity, kept alive by the entry), the two distinct-service inputs and which column-1
    # codes were billed in another visit.
    key = (tuple(map(id, pairs)), distinct_services, distinct_modifier, elsewhere)
    found = _PTP_OUTCOMES.get(key)
    if found is None:
        fresh = EditOutcome()
        steps = Explanation()
        _check_pairs(pairs, distinct_services, distinct_modifier, fresh, steps, elsewhere)
        if len(_PTP_OUTCOMES) >= MAX_CACHED_OUTCOMES:
            _PTP_OUTCOMES.clear()
        found = _PTP_OUTCOMES[key] = (fresh, tuple(steps.steps), tuple(pairs))
    cached, steps_done, _ = found
    outcome.pairs.extend(cached.pairs)
    outcome.distinct_modifier_codes.update(cached.distinct_modifier_codes)
    outcome.denied_codes.update(cached.denied_codes)
    outcome.findings.extend(cached.findings)
    explanation.steps.extend(steps_done)


MAX_CACHED_OUTCOMES = 65_536
_PTP_OUTCOMES: dict[tuple[object, ...], tuple[EditOutcome, tuple[str, ...], object]] = {}


def _check_pairs(
    pairs: Iterable[PtpEdit],
    distinct_services: bool,
    distinct_modifier: str,
    outcome: EditOutcome,
    explanation: Explanation,
    elsewhere: frozenset[str] = frozenset(),
) -> None:
    for pair in pairs:
        if pair.modifier_indicator == 9:
            continue  # "not applicable": the edit was deleted retroactively
        outcome.pairs.append(pair)
        source = _edit_source(
            SOURCE_PTP, pair.release.label, pair.release.source.verified, pair.release.source.note
        )
        where = f" ({pair.column1} billed in another visit)" if pair.column1 in elsewhere else ""
        if pair.modifier_indicator == 0:
            outcome.denied_codes.add(pair.column2)
            outcome.findings.append(
                Finding(
                    Severity.ERROR,
                    "ncci.ptp.never-bypassed",
                    f"{pair.column2} is bundled into {pair.column1} on the same day{where} "
                    "(NCCI modifier indicator 0): the column-2 line will deny and no modifier "
                    "can bypass the edit",
                    f"Bill {pair.column1} only, or move {pair.column2} to another day if it "
                    "was truly a separate visit",
                    source,
                    code=pair.column2,
                )
            )
            explanation.add(f"NCCI: {pair.column1}/{pair.column2} indicator 0{where}", source)
        elif distinct_services:
            outcome.distinct_modifier_codes.add(pair.column2)
            explanation.add(
                f"NCCI: {pair.column1}/{pair.column2} indicator 1{where} and the services "
                f"were distinct: modifier {distinct_modifier} on {pair.column2}",
                source,
            )
        else:
            outcome.denied_codes.add(pair.column2)
            outcome.findings.append(
                Finding(
                    Severity.ERROR,
                    "ncci.ptp.needs-distinct",
                    f"{pair.column2} pairs with {pair.column1}{where} (NCCI modifier indicator "
                    f"1): without {distinct_modifier} the {pair.column2} line will deny",
                    "If the two services were done in separate 15-minute blocks, attest that "
                    f"the services were distinct so {distinct_modifier} is added; if they "
                    f"overlapped, bill {pair.column1} only",
                    source,
                    code=pair.column2,
                )
            )
            explanation.add(
                f"NCCI: {pair.column1}/{pair.column2} indicator 1{where}, not distinct"
            )


def check_mue(
    units_by_code: Mapping[str, int],
    *,
    on: date,
    edits: EditTables,
    outcome: EditOutcome,
    explanation: Explanation,
) -> None:
    """Flag codes billed past their medically unlikely edit for the day."""
    release = edits.release_for("mue", on)
    if release is None:
        outcome.findings.append(_mue_not_loaded(on))
        explanation.steps.append(f"MUE: no MUE table covers {on.isoformat()}: units not checked")
        return
    # The answer depends only on the units per code and the release (one object per release,
    # kept alive by the entry so its id is not reused); days repeat the same few mixes.
    key = (tuple(units_by_code.items()), id(release))
    found = _MUE_OUTCOMES.get(key)
    if found is None:
        if len(_MUE_OUTCOMES) >= MAX_CACHED_OUTCOMES:
            _MUE_OUTCOMES.clear()
        found = _MUE_OUTCOMES[key] = (*_mue_outcome(units_by_code, on, edits, release), release)
    limits, findings, story, _ = found
    outcome.mue.extend(limits)
    outcome.findings.extend(findings)
    explanation.steps.append(story)


def _mue_outcome(
    units_by_code: Mapping[str, int], on: date, edits: EditTables, release: Release
) -> tuple[tuple[MueEdit, ...], tuple[Finding, ...], str]:
    limits: list[MueEdit] = []
    findings: list[Finding] = []
    said: list[str] = []
    for code, units in units_by_code.items():
        edit = edits.mue(code, on)
        if edit is None:
            said.append(f"{code} {units} (no MUE row)")
            continue
        said.append(f"{code} {units} (limit {edit.max_units})")
        limits.append(edit)
        if units > edit.max_units:
            findings.append(_mue_exceeded(code, units, edit))
    story = f"MUE units per day: {', '.join(said)} ({_release_label(release)})"
    return tuple(limits), tuple(findings), story


_MUE_OUTCOMES: dict[tuple[object, ...], tuple[Any, ...]] = {}


def _release_label(release: Release) -> str:
    """ "MUE 2026Q3", or "... [unverified]" for a release whose source is not verified."""
    return Source(release.label, verified=release.source.verified).label()


def _no_pairs_step(codes: tuple[str, ...], release: Release | None) -> str:
    # Keyed by the release's identity (hashing a Release hashes all its fields); the entry
    # keeps the release alive, so the id is not reused while the entry exists.
    key = (codes, id(release))
    found = _NO_PAIR_STEPS.get(key)
    if found is None:
        if len(_NO_PAIR_STEPS) >= MAX_CACHED_OUTCOMES:
            _NO_PAIR_STEPS.clear()
        found = _NO_PAIR_STEPS[key] = (_no_pairs_story(codes, release), release)
    return found[0]


_NO_PAIR_STEPS: dict[tuple[tuple[str, ...], int], tuple[str, Release | None]] = {}


def _no_pairs_story(codes: tuple[str, ...], release: Release | None) -> str:
    if len(codes) < 2:
        return f"NCCI PTP: {''.join(codes) or 'no code'} billed alone: no pair to check"
    if release is None:
        return (
            f"NCCI PTP: no PTP table covers the date: pairs among {', '.join(codes)} not checked"
        )
    story = f"NCCI PTP: no edit pair among {', '.join(codes)} ({_release_label(release)})"
    if release.builtin:
        story += (
            "; the built-in table holds only the pairs Handrail could source: import the "
            "quarter's PTP files for full coverage"
        )
    return story


@lru_cache(maxsize=64)
def _mue_not_loaded(on: date) -> Finding:
    return Finding(
        Severity.INFO,
        "mue.not-loaded",
        f"No MUE table covers {on.isoformat()}: units per day were not checked against MUEs",
        "Import the CMS practitioner MUE file for that quarter with "
        "`handrail data import mue FILE`",
        Source(SOURCE_MUE),
    )


@lru_cache(maxsize=4096)
def _mue_exceeded(code: str, units: int, edit: MueEdit) -> Finding:
    # MueEdit is frozen, so the finding is a pure function of the three.
    source = _edit_source(
        SOURCE_MUE, edit.release.label, edit.release.source.verified, edit.release.source.note
    )
    return Finding(
        Severity.ERROR,
        "mue.exceeded",
        f"{code}: {units} units is over the MUE of {edit.max_units} per day "
        f"({edit.rationale}); the units over the limit, or the whole line, will deny",
        f"Check the minutes of {code}; bill at most {edit.max_units} unit(s) unless the "
        "payer accepts documentation for more on appeal",
        source,
        code=code,
    )

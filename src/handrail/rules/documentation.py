"""Documentation checks of one visit: what an auditor reads before paying a line.

`check_documentation(visit, billed_units)` returns findings in a stable order: for each line
in order, its presence, minutes, units, note and code-choice findings; then the visit's
plan-of-care findings (`line=None`). Every rule id is listed in `RULES`.

Sources (each rule block below names its own):
- CY2024 PFS final rule and reference §9: caregiver training 97550-97552 is furnished
  without the patient present; 97535 trains the patient, with or without a caregiver.
- CMS Pub 100-04 ch.5 §20.2: minutes of the 15-minute timed codes turn into units.
- CMS Pub 100-02 ch.15 §220.3.D: a progress report at least once every 10 treatment days,
  written by the therapist. §220.1.3: a certified plan lasts up to 90 days; treatment past
  it needs a recertified plan.
- 97535 note content (baseline, task, technique or device, why skilled, performance;
  "ADL training performed" alone is a denial): Handrail's documentation rule
  (product.md), in the spirit of Pub 100-02 ch.15 §220.3 and MAC LCD L33631; the
  reference material does not quote those texts, so these findings are marked unverified.
- Code boundaries (exercise is 97110, dynamic activity outside an ADL routine is 97530,
  ADL training and transfers inside a toileting or bathing routine are 97535): product.md,
  unverified against a CMS text.

Decisions:
- A 97535 note element counts as present only when its own field is filled. The free
  `text` never stands in for a missing element: Handrail cannot tell reliably which
  element a sentence of narrative is, and an auditor looks for each element. The text
  does count toward the vagueness and code-choice checks.
- A note whose content is boilerplate (fewer than 2 words outside `_FILLER_WORDS`) is
  `doc.97535.vague` (error) and then gets no missing-element warnings: the vague finding's
  fix already lists the five elements. A note with every field blank counts as no note.
- Units findings are skipped on a line whose minutes are missing: the minutes are the
  problem to fix first. A code entered on several lines is one service: its minutes and
  requested units add up and its units findings go on its first line. `doc.units.not-billable`
  is given only when the line requests no units (a request is answered by
  `doc.units.unsupported` / `doc.units.under-billed`), and only for 15-minute codes.
- Code choice judges what was done, not why: it reads the task and technique fields (the
  narrative and performance only when both are blank), never the baseline or the skilled
  need, and drops purpose clauses ("for dressing", "to improve toilet transfers", "toward
  independent bathing", "goal: ...") before looking for exercise or a daily-living task. So
  theraband rows 3x10 "to improve reach for dressing" are exercise (97110) even when the
  baseline names dressing, pelvic-floor strengthening in sets and reps is exercise, and a
  toileting routine (timed voiding, clothing management, hygiene) is self-care (97535).
  It reads words, not meaning: a daily-living word (dressing, toilet, meal, reacher, "home
  safety"...) in what was done keeps a 97535 line quiet, an exercise word keeps a 97110
  line quiet; a daily-living word in a purpose clause still keeps transfers 97535 ("sit to
  stand for toilet transfers").
- `patient_present` is one flag per visit, so a visit with both a 97535 line and a 97550
  line always gets one presence error: enter the caregiver-only session as its own visit.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Sequence
from functools import lru_cache
from typing import Final

from handrail.rules.catalog import (
    CATALOG,
    SOURCE_CAREGIVER_CODES,
    SOURCE_TIMED_CODES,
    CodeSpec,
    TimeRule,
    code_spec,
)
from handrail.rules.model import Finding, RuleInputError, Severity, Source
from handrail.rules.visit_record import LineNote, VisitLine, VisitRecord

# --- Sources -------------------------------------------------------------------------------

SOURCE_CAREGIVER_ABSENT = Source(
    "CY2024 PFS final rule: caregiver training 97550-97552 is furnished without the patient"
)
SOURCE_97535_NOTE = Source(
    "CMS Pub 100-02 ch.15 §220.3 (documentation of therapy services); MAC LCD L33631",
    verified=False,
    note=(
        "the five 97535 note elements and the vagueness rule are Handrail's documentation "
        "rule (product.md); the reference material does not quote §220.3's note content "
        "requirements or L33631"
    ),
)
SOURCE_CODE_CHOICE = Source(
    "Handrail code boundaries: 97535 vs 97110 and 97530 (product.md)",
    verified=False,
    note="boundaries between the codes as summarised in product.md, not quoted from CMS",
)
SOURCE_PER_CODE_UNITS = Source(
    "payer per-code unit rule (each code on its own; 8 minutes for the first unit)",
    verified=False,
    note="commercial payer rules vary; product.md",
)
SOURCE_REPEATED_NOTE = Source(
    "Handrail rule: a note repeated with no progression reads as maintenance (product.md)",
    verified=False,
    note=(
        "not quoted from a CMS text; the likely basis is CMS Pub 100-02 ch.15 §220.2 (skilled "
        "therapy vs maintenance) and §220.3 (documentation shows the patient's progress)"
    ),
)
SOURCE_ADD_ON = Source("CMS PFS relative value files RVU25D/RVU26C: 97551 global ZZZ (add-on)")
SOURCE_PROGRESS_REPORT = Source("CMS Pub 100-02 ch.15 §220.3.D")
SOURCE_RECERTIFICATION = Source("CMS Pub 100-02 ch.15 §220.1.3")

# --- Rule ids ------------------------------------------------------------------------------

RULE_PATIENT_ABSENT = "doc.97535.patient-absent"
RULE_CAREGIVER_PATIENT_PRESENT = "doc.caregiver.patient-present"
RULE_NO_NOTE = "doc.97535.no-note"
RULE_VAGUE = "doc.97535.vague"
RULE_LOOKS_LIKE_97110 = "doc.97535.looks-like-97110"
RULE_LOOKS_LIKE_97530 = "doc.97535.looks-like-97530"
RULE_LOOKS_LIKE_97535 = "doc.97110.looks-like-97535"
RULE_MINUTES_MISSING = "doc.minutes.missing"
RULE_UNITS_UNSUPPORTED = "doc.units.unsupported"
RULE_UNITS_UNDER_BILLED = "doc.units.under-billed"
RULE_UNITS_NOT_BILLABLE = "doc.units.not-billable"
RULE_97550_UNDER_MINIMUM = "doc.97550.under-minimum"
RULE_97551_WITHOUT_97550 = "doc.97551.without-97550"
RULE_REPEATED_NOTE = "doc.97535.repeated-note"
RULE_SAME_PERFORMANCE = "doc.97535.same-performance"
RULE_PROGRESS_REPORT_NEXT = "doc.poc.progress-report-next"
RULE_PROGRESS_REPORT_DUE = "doc.poc.progress-report-due"
RULE_CERT_PENDING = "doc.poc.certification-pending"
RULE_CERT_LATE = "doc.poc.certification-late"
RULE_RECERT_DUE_SOON = "doc.poc.recert-due-soon"
RULE_RECERT_OVERDUE = "doc.poc.recert-overdue"

# Missing-element rule ids are "doc.97535.missing-<field>".
NOTE_ELEMENTS: Final = ("baseline", "task", "technique", "skilled", "performance")

RULES: Final = (
    RULE_PATIENT_ABSENT,
    RULE_CAREGIVER_PATIENT_PRESENT,
    RULE_MINUTES_MISSING,
    RULE_UNITS_UNSUPPORTED,
    RULE_UNITS_UNDER_BILLED,
    RULE_UNITS_NOT_BILLABLE,
    RULE_97550_UNDER_MINIMUM,
    RULE_97551_WITHOUT_97550,
    RULE_NO_NOTE,
    RULE_VAGUE,
    *(f"doc.97535.missing-{element}" for element in NOTE_ELEMENTS),
    RULE_LOOKS_LIKE_97110,
    RULE_LOOKS_LIKE_97530,
    RULE_LOOKS_LIKE_97535,
    RULE_REPEATED_NOTE,
    RULE_SAME_PERFORMANCE,
    RULE_PROGRESS_REPORT_NEXT,
    RULE_PROGRESS_REPORT_DUE,
    RULE_CERT_PENDING,
    RULE_CERT_LATE,
    RULE_RECERT_DUE_SOON,
    RULE_RECERT_OVERDUE,
)

# --- Thresholds ----------------------------------------------------------------------------

PROGRESS_REPORT_EVERY: Final = 10  # treatment days (§220.3.D)
CERTIFICATION_DAYS: Final = 90  # a certified plan covers up to 90 days (§220.1.3)
RECERT_WARNING_FROM: Final = 80  # warn from this many days since certification
MIN_97550_MINUTES: Final = 16  # unverified: secondary sources only (reference §9)
MIN_SPECIFIC_WORDS: Final = 2  # a 97535 note with fewer words outside _FILLER_WORDS is vague

# (minutes, requested units or None, billed units) of one code on the visit
_CodeTotals = tuple[int, int | None, int]
_CAREGIVER_CODES: Final = frozenset({"97550", "97551", "97552"})
_PRESENCE_CODES: Final = _CAREGIVER_CODES | {"97535"}
# Enum members read once: attribute access on an Enum class is slow in a hot loop.
_TIMED_15: Final = TimeRule.TIMED_15
_UNTIMED: Final = TimeRule.UNTIMED
_CAREGIVER_RULES: Final = frozenset({TimeRule.CAREGIVER_FIRST_30, TimeRule.CAREGIVER_EACH_15})
# code -> (catalog entry, whether its minutes decide its units)
_KIND: Final = {
    code: (spec, spec.time_rule is _TIMED_15 or spec.time_rule in _CAREGIVER_RULES)
    for code, spec in CATALOG.items()
}

# --- Note elements -------------------------------------------------------------------------

_ELEMENT_LABEL: Final = {
    "baseline": "functional baseline",
    "task": "task trained",
    "technique": "technique, strategy or device taught",
    "skilled": "reason the session needed a skilled clinician",
    "performance": "patient's performance (errors, cues, carryover)",
}
_ELEMENT_FIX: Final = {
    "baseline": (
        "write the patient's current level at the task, e.g. \"needs moderate assist and "
        '6 verbal cues to put on a pullover shirt"'
    ),
    "task": (
        'name the daily activity trained, e.g. "upper-body dressing, pullover shirt, seated '
        'at the edge of the bed"'
    ),
    "technique": (
        'name the technique, strategy or device taught, e.g. "one-handed dressing method, '
        'weak arm into the sleeve first"'
    ),
    "skilled": (
        'say why a therapist was needed, e.g. "graded cues and task breakdown for left '
        "neglect; unsafe to practise without a therapist's judgment\""
    ),
    "performance": (
        'write what the patient did, e.g. "put the shirt on with minimal assist and '
        '2 verbal cues; sequenced it correctly on the third try"'
    ),
}


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Notes are matched word by word against sets (multi-word phrases by substring) after one
# normalising pass: apostrophes dropped ("don't" -> "dont"), ASCII upper case to lower case,
# ASCII punctuation to spaces. A 128-character table keeps str.translate on its fast path;
# regular expressions over the whole note cost 20-80 microseconds a line, this a few.
_PUNCTUATION: Final = '!"#$%&()*+,-./:;<=>?@[\\]^_`{|}~'
_NORMALISE: Final = "".join(
    chr(c + 32) if "A" <= chr(c) <= "Z" else " " if chr(c) in _PUNCTUATION else chr(c)
    for c in range(128)
)

# Words that carry no specifics: service names, tolerance and plan boilerplate, people,
# time and stopwords. A note made only of these ("ADL training performed, pt tolerated
# treatment well, continue POC") says nothing an auditor can check.
_FILLER_WORDS: Final = _words(
    """
    adl adls iadl iadls activities activity daily living self care selfcare home management
    mgmt training trained train retraining retrained instructed instruction instructions
    educated education educate taught teaching performed perform performs completed complete
    provided done given issued reviewed review addressed worked work session sessions
    treatment treatments tx therapy therapeutic skilled services service intervention
    interventions techniques technique tolerated tolerates tolerate tolerance well good fair
    poor without with no complaints complaint pain issues adverse reactions reaction events
    noted none continue cont continued continues poc plan of per as hep exercise exercises
    program goals goal toward towards progressing progress progressed making progression
    pt pts patient patients client caregiver family ot pta ota therapist verbalized
    verbalizes understanding understood demonstrated demonstrates return teach back
    min mins minute minutes today visit the an and or in on to for was were is are be been
    at by this that it all same also note see above below
    did do does doing great excellent nice fine ok okay very motivated engaged participated
    participation participating cooperative pleasant agreeable effort seen unit units present
    improved improving improvement better appropriate appropriately tolerating
    """
)

# --- Code-choice vocabulary (product.md boundaries) ----------------------------------------

# Daily-living tasks, their equipment and routines: 97535.
_ADL_WORDS: Final = _words(
    """
    dress dresses dressed dressing undress undressed undressing don dons donned donning
    doff doffs doffed doffing bath baths bathe bathes bathed bathing bathroom shower showers
    showered showering toilet toilets toileting toileted commode hygiene groom grooms
    groomed grooming brush brushes brushed brushing shave shaves shaved shaving feed feeds
    feeding eat eats eating utensil utensils meal meals cook cooks cooked cooking kitchen
    stove microwave laundry housekeeping housework medication medications shopping
    checkbook adaptive reacher button buttons buttoned buttoning buttonhook zipper zippers
    zipping shoe shoes sock socks shirt shirts pants bra clothing clothes tub adl adls iadl
    iadls selfcare continence dentures makeup toothbrush sponge laces sink routine routines
    """
)
_ADL_PHRASES: Final = (
    "self care",
    "oral care",
    "sock aid",
    "long handled",
    "dressing stick",
    "grab bar",
    "home management",
    "home safety",
    "safety at home",
    "money management",
    "meal prep",
    "energy conservation",
    "joint protection",
    "work simplification",
    "pill organi",
    "home program",
)
# Exercise for strength, range or endurance: 97110.
_EXERCISE_WORDS: Final = _words(
    """
    strength strengthen strengthens strengthened strengthening rep reps repetition
    repetitions sets theraband therabands theratube resistance resisted resistive rom arom
    prom aarom stretch stretches stretched stretching endurance therex weights dumbbell
    dumbbells lbs kg ube bike ergometer treadmill nustep isometric isometrics squat squats
    bridge bridges bridging
    """
)
_EXERCISE_PHRASES: Final = (
    "range of motion",
    "thera band",
    "ther ex",
    "heel raise",
    "cuff weight",
    "free weight",
    "ankle weight",
    "wrist weight",
    "hand weight",
    "sets of",
)
_SETS_BY_REPS: Final = re.compile(r"\d ?x ?\d")  # "3x10", "2 x 15"
# Dynamic functional activity outside an ADL routine: 97530.
_DYNAMIC_WORDS: Final = _words(
    """
    transfer transfers transferring transferred dynamic balance lift lifts lifted lifting
    carry carries carried carrying pushing pulling obstacle obstacles agility throwing
    catching
    """
)
_DYNAMIC_PHRASES: Final = (
    "bed mobility",
    "sit to stand",
    "stand pivot",
    "squat pivot",
    "sliding board",
    "functional mobility",
    "floor recovery",
)


# Why something was done, not what: from the marker to the end of its clause. A goal of
# independence in a daily task does not make exercise self-care training.
_PURPOSE: Final = re.compile(
    r"\b(?:for|toward|towards|goals?|in order to|so that|in preparation for|prep for"
    r"|to (?:improve|increase|promote|prepare|allow|enable|facilitate|achieve|regain"
    r"|maximi[sz]e|progress))\b:?[^.;,:\n]*",
    re.IGNORECASE,
)


def _normalise(text: str) -> str:
    return text.replace("'", "").replace("\u2019", "").translate(_NORMALISE)


class _Vocabulary:
    """Code-choice words of one normalised text."""

    __slots__ = ("text", "words")

    def __init__(self, text: str) -> None:
        self.text = text
        self.words = text.split()

    def has_adl(self) -> bool:
        return not _ADL_WORDS.isdisjoint(self.words) or any(
            phrase in self.text for phrase in _ADL_PHRASES
        )

    def has_exercise(self) -> bool:
        return (
            not _EXERCISE_WORDS.isdisjoint(self.words)
            or any(phrase in self.text for phrase in _EXERCISE_PHRASES)
            or _SETS_BY_REPS.search(self.text) is not None
        )

    def has_dynamic(self) -> bool:
        return not _DYNAMIC_WORDS.isdisjoint(self.words) or any(
            phrase in self.text for phrase in _DYNAMIC_PHRASES
        )


def _what_was_done(note: LineNote) -> tuple[_Vocabulary, _Vocabulary]:
    """The task and technique (the narrative and performance when both are blank), whole
    and without purpose clauses."""
    if note.task or note.technique:
        done = f"{note.task}. {note.technique}"
    else:
        done = f"{note.text}. {note.performance}"
    return _Vocabulary(_normalise(done)), _Vocabulary(_normalise(_PURPOSE.sub(" ", done)))


class _NoteWords:
    """A note's text normalised once, and its words in order."""

    __slots__ = ("note", "text", "words")

    def __init__(self, note: LineNote) -> None:
        self.note = note
        self.text = _normalise(
            " ".join(
                (
                    note.baseline,
                    note.task,
                    note.technique,
                    note.skilled,
                    note.performance,
                    note.text,
                )
            )
        )
        self.words = self.text.split()

    def specific_words(self) -> int:
        """Words outside `_FILLER_WORDS` (not numbers, not single letters), up to 2."""
        count = 0
        for word in self.words:
            if len(word) > 1 and word not in _FILLER_WORDS and not word.isdigit():
                count += 1
                if count >= MIN_SPECIFIC_WORDS:
                    break
        return count


def check_documentation(visit: VisitRecord, billed_units: Sequence[int]) -> list[Finding]:
    """Documentation findings of one visit (rule ids `doc.*`, listed in `RULES`).

    `billed_units[i]` is the number of units the engine billed for `visit.lines[i]`.
    Raises `RuleInputError("billed_units", ...)` when it does not have one entry per line.
    """
    lines = visit.lines
    if len(billed_units) != len(lines):
        raise RuleInputError(
            "billed_units",
            f"has {len(billed_units)} entries for {len(lines)} lines; give one per line",
        )
    findings: list[Finding] = []
    codes = [line.code for line in lines]
    has_97550 = "97550" in codes
    merged = _merge_repeated_codes(lines, billed_units) if len(set(codes)) < len(codes) else None
    for index, line in enumerate(lines):
        code = line.code
        kind = _KIND.get(code)
        if kind is None:  # not written as the catalog writes it; raises if not in it
            kind = _KIND[code_spec(code, field=f"lines[{index}].code").code]
        spec, timed = kind
        if code in _PRESENCE_CODES:
            _check_presence(visit, line, index, findings)
        if timed and line.minutes == 0:
            findings.append(_minutes_missing(line, index))
        if merged is None:
            totals: _CodeTotals | None = (line.minutes, line.requested_units, billed_units[index])
        else:
            totals = merged.get(index)
        # Only these can give a minutes or units finding; most lines skip the call.
        if (
            totals is not None
            and not (timed and totals[0] == 0)
            and (totals[1] is not None or totals[2] == 0 or code in _CAREGIVER_CODES)
        ):
            _check_minutes(visit, spec, totals, index, has_97550, findings)
        if code == "97535":
            words = _check_97535_note(line.note, index, findings)
            if words is not None and line.previous_note is not None:
                _check_repeated_note(words, line.previous_note, index, findings)
        elif code == "97110" and line.note is not None:
            _check_97110_note(line.note, index, findings)
    if visit.counters is not None:
        _check_plan_of_care(visit, findings)
    return findings


# --- Patient presence (CY2024 PFS final rule; reference §9) --------------------------------


def _check_presence(
    visit: VisitRecord, line: VisitLine, index: int, findings: list[Finding]
) -> None:
    # 97535 trains the patient, with or without a caregiver: the patient must be there.
    if line.code == "97535" and not visit.patient_present:
        findings.append(
            Finding(
                severity=Severity.ERROR,
                rule=RULE_PATIENT_ABSENT,
                message=(
                    "97535 self-care training needs the patient present; "
                    "the visit says the patient was absent"
                ),
                fix=(
                    "if only the caregiver was trained, bill 97550 (first 30 minutes) and "
                    "97551 (each further 15 minutes), or 97552 for a group of caregivers"
                ),
                source=SOURCE_CAREGIVER_ABSENT,
                line=index,
            )
        )
    # Caregiver training codes are for sessions without the patient.
    elif line.code in _CAREGIVER_CODES and visit.patient_present:
        findings.append(
            Finding(
                severity=Severity.ERROR,
                rule=RULE_CAREGIVER_PATIENT_PRESENT,
                message=(
                    f"{line.code} is caregiver training without the patient; "
                    "the visit says the patient was present"
                ),
                fix=(
                    "bill 97535 for training the patient with the caregiver present, or mark "
                    "the patient absent if the caregiver was trained alone"
                ),
                source=SOURCE_CAREGIVER_ABSENT,
                line=index,
            )
        )


# --- Minutes and units (CMS Pub 100-04 ch.5 §20.2) -----------------------------------------


def _units(count: int) -> str:
    return f"{count} unit" if count == 1 else f"{count} units"


def _minutes_missing(line: VisitLine, index: int) -> Finding:
    source = SOURCE_CAREGIVER_CODES if line.code in _CAREGIVER_CODES else SOURCE_TIMED_CODES
    return Finding(
        severity=Severity.ERROR,
        rule=RULE_MINUTES_MISSING,
        message=f"{line.code} is a timed code and the line has 0 minutes",
        fix="record the minutes spent in this service (pre- and post-service time excluded)",
        source=source,
        line=index,
    )


def _unit_rule(visit: VisitRecord, spec: CodeSpec) -> tuple[str, Source]:
    if spec.time_rule in _CAREGIVER_RULES:
        return "the caregiver-training time rule", SOURCE_CAREGIVER_CODES
    if visit.payer.unit_rule == "cms":
        return "the CMS total-time rule", SOURCE_TIMED_CODES
    return "the payer's per-code rule", SOURCE_PER_CODE_UNITS


def _merge_repeated_codes(
    lines: Sequence[VisitLine], billed_units: Sequence[int]
) -> dict[int, _CodeTotals]:
    """Totals of each code, keyed by the index of its first line.

    A code entered on several lines is one service of the day: its minutes add up, its
    requested units add up (lines without a request are left out of the sum) and the engine
    bills its units on the first line. Units findings of the code go on that line.
    """
    first: dict[str, int] = {}
    totals: dict[int, _CodeTotals] = {}
    for index, line in enumerate(lines):
        at = first.setdefault(line.code, index)
        if at == index:
            totals[index] = (line.minutes, line.requested_units, billed_units[index])
            continue
        minutes, requested, billed = totals[at]
        more = line.requested_units
        if more is not None:
            requested = more if requested is None else requested + more
        totals[at] = (minutes + line.minutes, requested, billed + billed_units[index])
    return totals


def _check_minutes(
    visit: VisitRecord,
    spec: CodeSpec,
    totals: _CodeTotals,
    index: int,
    has_97550: bool,
    findings: list[Finding],
) -> None:
    minutes, requested, billed = totals
    code = spec.code
    # 97550 minimum time (secondary sources: at least 16 minutes)
    if code == "97550" and minutes < MIN_97550_MINUTES:
        findings.append(
            Finding(
                severity=Severity.ERROR,
                rule=RULE_97550_UNDER_MINIMUM,
                message=(
                    f"97550 needs at least {MIN_97550_MINUTES} minutes; the visit has {minutes}"
                ),
                fix="record the full caregiver-training time, or do not bill 97550 this day",
                source=SOURCE_CAREGIVER_CODES,
                line=index,
            )
        )
    # 97551 is an add-on to 97550 (global ZZZ)
    if code == "97551" and not has_97550:
        findings.append(
            Finding(
                severity=Severity.ERROR,
                rule=RULE_97551_WITHOUT_97550,
                message="97551 is an add-on to 97550 and is billed only with 97550 that day",
                fix="add the 97550 line for the first 30 minutes, or remove 97551",
                source=SOURCE_ADD_ON,
                line=index,
            )
        )
    # Requested units against the units the minutes support
    if requested is not None and requested != billed:
        if spec.time_rule is _UNTIMED:
            support = f"{code} is untimed and supports {_units(billed)} a day"
            source = SOURCE_TIMED_CODES
        else:
            rule_name, source = _unit_rule(visit, spec)
            support = f"{minutes} minutes support {_units(billed)} under {rule_name}"
        if requested > billed:
            findings.append(
                Finding(
                    severity=Severity.ERROR,
                    rule=RULE_UNITS_UNSUPPORTED,
                    message=f"{support}, not {requested}",
                    fix=(
                        f"bill {_units(billed)}, or correct the minutes if more time "
                        "was spent in this service"
                    ),
                    source=source,
                    line=index,
                )
            )
        else:
            findings.append(
                Finding(
                    severity=Severity.INFO,
                    rule=RULE_UNITS_UNDER_BILLED,
                    message=f"{support}; the line asks for {requested}",
                    fix=f"bill {_units(billed)} unless you mean to leave units unbilled",
                    source=source,
                    line=index,
                )
            )
    # Timed minutes that earn no unit of their own (only when no units were requested:
    # a request is answered by the findings above)
    elif requested is None and billed == 0 and spec.time_rule is _TIMED_15:
        if visit.payer.unit_rule == "cms":
            message = (
                f"{minutes} minutes of {code} earn no unit of their own; under the "
                "CMS total-time rule they count toward the day's total only"
            )
            source = SOURCE_TIMED_CODES
        else:
            message = f"{minutes} minutes of {code} earn no unit under the payer's per-code rule"
            source = SOURCE_PER_CODE_UNITS
        findings.append(
            Finding(
                severity=Severity.WARNING,
                rule=RULE_UNITS_NOT_BILLABLE,
                message=message,
                fix=(
                    "leave the line on the note for the record; it is not billed. "
                    "Check the minutes if more time was spent"
                ),
                source=source,
                line=index,
            )
        )


# --- 97535 note content (Handrail rule; Pub 100-02 ch.15 §220.3, unverified) ---------------


def _check_97535_note(
    note: LineNote | None, index: int, findings: list[Finding]
) -> _NoteWords | None:
    """The note's findings; returns its words for the repeated-note check (None: no note)."""
    words = _NoteWords(note) if note is not None else None
    # No note: nothing shows what was trained
    if note is None or words is None or not words.words:
        findings.append(_no_note(index))
        return None
    # Boilerplate only ("ADL training performed" alone is a denial)
    if words.specific_words() < MIN_SPECIFIC_WORDS:
        findings.append(_vague(index))
    else:
        # Each element in its own field
        has_text = bool(note.text)
        for element in NOTE_ELEMENTS:
            if not getattr(note, element):
                findings.append(_missing_element(element, has_text, index))
    # Code choice: exercise or dynamic activity done without a daily-living task
    done, core = _what_was_done(note)
    if core.has_exercise() and not core.has_adl():
        findings.append(_looks_like(RULE_LOOKS_LIKE_97110, index))
    elif not done.has_adl() and done.has_dynamic():
        findings.append(_looks_like(RULE_LOOKS_LIKE_97530, index))
    return words


# --- Repeated notes (Handrail rule, product.md; unverified) --------------------------------

# Word-level similarity at or above which a note counts as the last one "nearly word for word".
REPEATED_NOTE_SIMILARITY: Final = 0.9


def _check_repeated_note(
    note: _NoteWords, previous: LineNote, index: int, findings: list[Finding]
) -> None:
    """A 97535 note copied from the last visit, or the same performance again, shows no
    progression: the session reads as maintenance, and cloned notes draw audits."""
    now, before = note.words, _NoteWords(previous).words
    if not before:
        return
    if now == before:
        findings.append(_repeated_note("repeats the previous visit's note word for word", index))
        return
    # SequenceMatcher costs ~100 us on two notes of ~60 words; the shared-word count is an
    # upper bound of its ratio (difflib's quick_ratio) at a tenth of the cost, so most notes
    # that were rewritten never build one.
    if _shared_word_share(now, before) >= REPEATED_NOTE_SIMILARITY and (
        (matcher := difflib.SequenceMatcher(None, now, before, autojunk=False)).ratio()
        >= REPEATED_NOTE_SIMILARITY
    ):
        share = f"{matcher.ratio():.0%}"
        findings.append(
            _repeated_note(
                f"repeats the previous visit's note nearly word for word ({share})", index
            )
        )
        return
    performance = _normalise(note.note.performance).split()
    if performance and performance == _normalise(previous.performance).split():
        findings.append(_same_performance(index))


def _shared_word_share(now: list[str], before: list[str]) -> float:
    """2 x (words the two notes share, counted with repeats) / (all their words): never less
    than SequenceMatcher.ratio() of the same lists."""
    left: dict[str, int] = {}
    for word in now:
        left[word] = left.get(word, 0) + 1
    shared = 0
    for word in before:
        count = left.get(word, 0)
        if count:
            left[word] = count - 1
            shared += 1
    return 2 * shared / (len(now) + len(before))


@lru_cache(maxsize=256)
def _repeated_note(how: str, index: int) -> Finding:
    return Finding(
        severity=Severity.WARNING,
        rule=RULE_REPEATED_NOTE,
        message=(
            f"97535 note {how}: with no change shown, the session reads as maintenance and "
            "copied notes are an audit target"
        ),
        fix=(
            "write this session: the assistance level, cues and errors today, what carried "
            "over from last time and what was progressed (task, technique or grading)"
        ),
        source=SOURCE_REPEATED_NOTE,
        line=index,
    )


@lru_cache(maxsize=64)
def _same_performance(index: int) -> Finding:
    return Finding(
        severity=Severity.WARNING,
        rule=RULE_SAME_PERFORMANCE,
        message=(
            "97535 performance is the same as at the previous visit: no progression is shown"
        ),
        fix=(
            "state today's assistance level, cues and errors, and compare them with the last "
            "visit; if the patient has plateaued, say why skilled training still needs a "
            "therapist or update the plan"
        ),
        source=SOURCE_REPEATED_NOTE,
        line=index,
    )


# Findings whose text depends only on small arguments are built once and shared (Finding is
# frozen): building a Finding costs about as much as checking a note.
@lru_cache(maxsize=64)
def _no_note(index: int) -> Finding:
    return Finding(
        severity=Severity.ERROR,
        rule=RULE_NO_NOTE,
        message="97535 line has no note",
        fix=(
            "document the functional baseline, the task trained, the technique or "
            "device taught, why it needed a skilled clinician and what the patient did"
        ),
        source=SOURCE_97535_NOTE,
        line=index,
    )


@lru_cache(maxsize=64)
def _vague(index: int) -> Finding:
    return Finding(
        severity=Severity.ERROR,
        rule=RULE_VAGUE,
        message=(
            "97535 note is boilerplate with no specifics of this session "
            '(like "ADL training performed" or "pt tolerated treatment well")'
        ),
        fix=(
            "describe this session: the patient's level before, the task trained, the "
            "technique or device taught, why a therapist was needed and what the "
            "patient did (assist level, cues, errors)"
        ),
        source=SOURCE_97535_NOTE,
        line=index,
    )


@lru_cache(maxsize=256)
def _missing_element(element: str, has_text: bool, index: int) -> Finding:
    fix = _ELEMENT_FIX[element]
    if has_text:
        fix += f"; if the narrative already says it, put it in the {element} field"
    return Finding(
        severity=Severity.WARNING,
        rule=f"doc.97535.missing-{element}",
        message=f"97535 note does not state the {_ELEMENT_LABEL[element]}",
        fix=fix,
        source=SOURCE_97535_NOTE,
        line=index,
    )


_LOOKS_LIKE_TEXT: Final = {
    RULE_LOOKS_LIKE_97110: (
        "97535 note describes exercise (strength, range of motion or endurance) "
        "and no daily-living task",
        "bill exercise as 97110; if the exercise was part of training a daily "
        "task, name the task and how it was trained",
    ),
    RULE_LOOKS_LIKE_97530: (
        "97535 note describes dynamic functional activity (transfers, balance, "
        "lifting) outside a daily-living routine",
        "bill dynamic functional activity as 97530; transfers trained inside a "
        "toileting or bathing routine stay 97535: name the routine",
    ),
    RULE_LOOKS_LIKE_97535: (
        "97110 note describes daily-living training (dressing, bathing, "
        "toileting, meals, adaptive equipment, home safety) and no exercise",
        "bill training in daily activities as 97535 and document its baseline, "
        "task, technique, why skilled and performance; keep 97110 for exercise "
        "for strength, range of motion or endurance",
    ),
}


@lru_cache(maxsize=192)
def _looks_like(rule: str, index: int) -> Finding:
    message, fix = _LOOKS_LIKE_TEXT[rule]
    return Finding(
        severity=Severity.WARNING,
        rule=rule,
        message=message,
        fix=fix,
        source=SOURCE_CODE_CHOICE,
        line=index,
    )


# --- 97110 note content (Handrail code boundaries, unverified) -----------------------------


def _check_97110_note(note: LineNote, index: int, findings: list[Finding]) -> None:
    _, core = _what_was_done(note)
    if core.has_adl() and not core.has_exercise():
        findings.append(_looks_like(RULE_LOOKS_LIKE_97535, index))


# --- Plan of care (CMS Pub 100-02 ch.15 §220.3.D and §220.1.3) -----------------------------


def _check_plan_of_care(visit: VisitRecord, findings: list[Finding]) -> None:
    """Progress-report and recertification counters.

    Progress report (`treatment_day` = treatment days since the last report, this visit
    included): 9 -> info, due next treatment day; 10 -> warning, due at this visit;
    11 and more -> warning, overdue. Days 0-8 and None: nothing.

    Recertification (`days_since_certification`): up to 79 -> nothing; 80-90 -> warning,
    due soon; 91 and more -> error, overdue. Day 90 is taken as the last day a plan
    certified "for up to 90 days" covers.
    """
    counters = visit.counters
    if counters is None:
        return
    day = counters.treatment_day
    if day is not None and day >= PROGRESS_REPORT_EVERY - 1:
        findings.append(_progress_report(day))
    since = counters.days_since_certification
    if since is not None and since >= RECERT_WARNING_FROM:
        findings.append(_recertification(since))
    started = counters.days_since_first_treatment
    if counters.plan_certified is False and started is not None:
        findings.append(_initial_certification(started))


# Timely initial certification: dated within 30 days of the first day of treatment, the
# evaluation included (Pub 100-02 ch.15 §220.1.3). From 2025, for a patient referred by a
# physician/NPP, a signed referral on file plus the plan sent to that practitioner within
# 30 days also meets it (CY2025 PFS final rule, 89 FR 97912-97918; reference marks it SEC).
CERTIFICATION_WINDOW: Final = 30
CERTIFICATION_SOON: Final = 7  # days left from which a pending certification is a warning


@lru_cache(maxsize=128)
def _initial_certification(started: int) -> Finding:
    fix = (
        "get the plan signed and dated by the physician/NPP (a verbal order needs the "
        "signature within 14 days); from 2025, for a referred patient, a signed referral on "
        "file and proof the plan was sent to the referring practitioner also count"
    )
    left = CERTIFICATION_WINDOW - started
    if left >= 0:
        return Finding(
            severity=Severity.WARNING if left <= CERTIFICATION_SOON else Severity.INFO,
            rule=RULE_CERT_PENDING,
            message=(
                f"plan of care not certified yet: day {started} of the {CERTIFICATION_WINDOW} "
                f"days allowed for timely certification ({left} left)"
            ),
            fix=fix,
            source=SOURCE_RECERTIFICATION,
        )
    return Finding(
        severity=Severity.ERROR,
        rule=RULE_CERT_LATE,
        message=(
            f"plan of care not certified {started} days after the first treatment: timely "
            f"certification was due within {CERTIFICATION_WINDOW} days, and Medicare pays "
            "therapy only under a certified plan"
        ),
        fix=fix + "; a late certification is accepted with the reason for the delay",
        source=SOURCE_RECERTIFICATION,
    )


# Progress report at least once every 10 treatment days (§220.3.D)
@lru_cache(maxsize=128)
def _progress_report(day: int) -> Finding:
    fix = (
        "the therapist (not the assistant) writes a progress report: progress toward each "
        "goal with measurements, and whether the plan changes"
    )
    next_fix = f"at the next treatment day, {fix}"
    if day < PROGRESS_REPORT_EVERY:
        return Finding(
            severity=Severity.INFO,
            rule=RULE_PROGRESS_REPORT_NEXT,
            message=(
                f"treatment day {day} since the last progress report: a progress report is "
                "due at the next treatment day"
            ),
            fix=next_fix,
            source=SOURCE_PROGRESS_REPORT,
        )
    if day == PROGRESS_REPORT_EVERY:
        message = (
            f"treatment day {day} since the last progress report: a progress report is due "
            "at this visit"
        )
    else:
        message = (
            f"treatment day {day} since the last progress report: the progress report is "
            f"overdue (at least one every {PROGRESS_REPORT_EVERY} treatment days)"
        )
    return Finding(
        severity=Severity.WARNING,
        rule=RULE_PROGRESS_REPORT_DUE,
        message=message,
        fix=f"at this visit, {fix}",
        source=SOURCE_PROGRESS_REPORT,
    )


# Certification lasts up to 90 days; treatment beyond needs recertification (§220.1.3)
@lru_cache(maxsize=128)
def _recertification(since: int) -> Finding:
    if since <= CERTIFICATION_DAYS:
        return Finding(
            severity=Severity.WARNING,
            rule=RULE_RECERT_DUE_SOON,
            message=(
                f"plan of care certified {since} days ago: a certification covers up to "
                f"{CERTIFICATION_DAYS} days"
            ),
            fix=(
                "send the updated plan of care to the physician/NPP for recertification "
                f"before day {CERTIFICATION_DAYS}"
            ),
            source=SOURCE_RECERTIFICATION,
        )
    return Finding(
        severity=Severity.ERROR,
        rule=RULE_RECERT_OVERDUE,
        message=(
            f"plan of care certified {since} days ago: treatment past the certified "
            f"{CERTIFICATION_DAYS} days needs a recertified plan"
        ),
        fix=(
            "get the plan recertified (signed and dated by the physician/NPP) before billing "
            "treatment past the certified period"
        ),
        source=SOURCE_RECERTIFICATION,
    )

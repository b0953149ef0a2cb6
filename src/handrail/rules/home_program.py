"""Home-program instruction as a billing event: when teaching a program is new instruction,
which code each taught item is billed under, and whether an issued program is billable.

Sources:
- Handrail reference (product.md, home programs): payers count a 97535 billing event the first
  time the clinician instructs the patient in a home program that modifies daily activities,
  and again each time the program is revised with information not given before. The
  reference states this without quoting a CMS or MAC text, so `SOURCE_NEW_INSTRUCTION` is
  marked unverified.
- CPT 97535 is direct one-on-one contact with the patient, each 15 minutes; the reference
  (§9) distinguishes it from caregiver training 97550-97552 by the patient being present. A
  program sent with no visit is not one-on-one contact: not billable (`SOURCE_ONE_ON_ONE`).
- Code boundaries (product.md, "97535 boundaries"): exercise for strength or endurance is
  97110, dynamic functional activities not tied to an ADL routine 97530, community and work
  reintegration 97537; exercise is never billed as 97535 (`SOURCE_BOUNDARIES`, unverified
  against a CMS text, as in documentation.py).
- Education: the reference gives no separate code for patient education in a home program.
  Handrail bills an education item only inside the self-care (97535) line it supports, as
  part of that training; on its own it makes no billable line (`SOURCE_EDUCATION`,
  unverified: a Handrail decision that errs on not billing).

Decisions (a "typo-sized" edit): two instruction texts are the same instruction when they
are equal after case folding, dropping punctuation and collapsing white space, or when they
differ by at most `TYPO_DISTANCE` character edits (Levenshtein, on the normalized texts) and
name the same numbers and the same negations ("not", "no", "never", "avoid", "don't"...).
"Hold 5 s" -> "Hold 10 s" or "bend" -> "do not bend" is therefore always new instruction.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from handrail.rules.model import RuleInputError, Source

SOURCE_NEW_INSTRUCTION: Final = Source(
    "Handrail reference (home programs): a 97535 event at first instruction and at each "
    "revision with information not given before",
    verified=False,
    note="stated by the product reference without a quoted CMS or MAC text",
)
SOURCE_ONE_ON_ONE: Final = Source(
    "CPT 97535: direct one-on-one contact, patient present (reference §9, 97535 vs 97550)"
)
SOURCE_BOUNDARIES: Final = Source(
    "Handrail reference, 97535 boundaries (97110, 97530, 97537)",
    verified=False,
    note="code boundaries not checked against a CMS text",
)
SOURCE_EDUCATION: Final = Source(
    "Handrail decision: education is billed inside the 97535 training it supports",
    verified=False,
    note="the reference names no separate code for home-program education",
)

SELF_CARE: Final = "self_care"
EXERCISE: Final = "exercise"
EDUCATION: Final = "education"
KINDS: Final = (SELF_CARE, EXERCISE, EDUCATION)
SELF_CARE_CODES: Final = ("97535", "97537")
EXERCISE_CODES: Final = ("97110", "97112", "97530")
# The order lines are listed in, and the code `billing_answer` names first.
CODE_ORDER: Final = ("97535", "97537", "97530", "97112", "97110")
DOSE_FIELDS: Final = ("sets", "reps", "hold_seconds", "times_per_day", "days_per_week", "minutes")
TYPO_DISTANCE: Final = 2
_NEGATIONS: Final = frozenset({"no", "not", "never", "avoid", "dont", "without", "stop", "nor"})


@dataclass(frozen=True, slots=True)
class TaughtItem:
    """One item of a program as taught: `dose` is in `DOSE_FIELDS` order."""

    entry_key: str
    billing_code: str
    kind: str  # "self_care" | "exercise" | "education"
    dose: tuple[int | None, ...]
    instructions: str


@dataclass(frozen=True, slots=True)
class InstructionLine:
    """One billing line of taught items: the code and the entries taught under it."""

    code: str
    entry_keys: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class InstructionEvent:
    """Whether a program issue is new instruction, and why.

    `lines` are the billing lines of the added and changed items (`instruction_codes`);
    `unbilled` the added or changed education items no self-care line carries.
    """

    is_new_instruction: bool
    added: tuple[str, ...]
    changed: tuple[str, ...]
    removed: tuple[str, ...]
    reasons: tuple[str, ...]
    lines: tuple[InstructionLine, ...] = ()
    unbilled: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class BillingAnswer:
    code: str  # the first line's code; "" when nothing would be billed
    billable: bool
    reason: str


def _check_items(items: Sequence[TaughtItem], field: str) -> None:
    seen: set[str] = set()
    for index, item in enumerate(items):
        where = f"{field}[{index}]"
        if not item.entry_key:
            raise RuleInputError(f"{where}.entry_key", "give the library entry's key")
        if item.entry_key in seen:
            raise RuleInputError(
                f"{where}.entry_key", f"{item.entry_key} is in the program twice; keep one"
            )
        seen.add(item.entry_key)
        if item.kind not in KINDS:
            raise RuleInputError(
                f"{where}.kind", f"{item.kind!r} is not one of {', '.join(KINDS)}"
            )
        if len(item.dose) != len(DOSE_FIELDS):
            raise RuleInputError(
                f"{where}.dose", f"give {len(DOSE_FIELDS)} values: {', '.join(DOSE_FIELDS)}"
            )
        allowed = {
            SELF_CARE: SELF_CARE_CODES,
            EXERCISE: EXERCISE_CODES,
            EDUCATION: ("97535",),
        }[item.kind]
        if item.billing_code not in allowed:
            raise RuleInputError(
                f"{where}.billing_code",
                f"{item.entry_key}: {item.kind} items are billed under {', '.join(allowed)}, "
                f"not {item.billing_code or 'no code'}",
            )


def normalize_instructions(text: str) -> str:
    """Case-folded text without punctuation, white space collapsed (apostrophes dropped)."""
    text = unicodedata.normalize("NFKC", text).casefold().replace("'", "").replace("\u2019", "")
    text = "".join(c if c.isalnum() or c.isspace() else " " for c in text)
    return " ".join(text.split())


def _distance(a: str, b: str, limit: int) -> int:
    """Levenshtein distance of a and b, or limit + 1 once it is known to exceed limit."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    previous = list(range(len(b) + 1))
    for i, char_a in enumerate(a, 1):
        current = [i]
        for j, char_b in enumerate(b, 1):
            current.append(
                min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (char_a != char_b))
            )
        if min(current) > limit:
            return limit + 1
        previous = current
    return previous[-1]


def is_typo_edit(before: str, after: str) -> bool:
    """True when `after` says the same as `before` (see the module's typo-sized decision)."""
    a, b = normalize_instructions(before), normalize_instructions(after)
    if a == b:
        return True
    if re.findall(r"\d+", a) != re.findall(r"\d+", b):
        return False
    if {w for w in a.split() if w in _NEGATIONS} != {w for w in b.split() if w in _NEGATIONS}:
        return False
    return _distance(a, b, TYPO_DISTANCE) <= TYPO_DISTANCE


def _dose_change(before: tuple[int | None, ...], after: tuple[int | None, ...]) -> str:
    parts = [
        f"{name} {old if old is not None else '-'} -> {new if new is not None else '-'}"
        for name, old, new in zip(DOSE_FIELDS, before, after, strict=True)
        if old != new
    ]
    return ", ".join(parts)


def instruction_codes(items: Sequence[TaughtItem]) -> tuple[InstructionLine, ...]:
    """The billing lines of taught items, in `CODE_ORDER`, entry keys in program order.

    Self-care items go under their own code (97535, or 97537 for community/work); exercise
    items under theirs (97110, 97112, 97530), never 97535 (SOURCE_BOUNDARIES). Education items
    join the 97535 line when the same items hold a 97535 self-care item (SOURCE_EDUCATION);
    otherwise they make no line (`unbilled_education` lists them).
    """
    _check_items(items, "items")
    return _lines(items, _carries_education(items))


def _carries_education(items: Sequence[TaughtItem]) -> bool:
    return any(i.kind == SELF_CARE and i.billing_code == "97535" for i in items)


def _lines(items: Sequence[TaughtItem], education_carried: bool) -> tuple[InstructionLine, ...]:
    by_code: dict[str, list[str]] = {}
    for item in items:
        if item.kind == EDUCATION and not education_carried:
            continue
        by_code.setdefault(item.billing_code, []).append(item.entry_key)
    return tuple(
        InstructionLine(code, tuple(by_code[code])) for code in CODE_ORDER if code in by_code
    )


def unbilled_education(items: Sequence[TaughtItem]) -> tuple[str, ...]:
    """Education items that no 97535 self-care item carries: taught, but not billed."""
    _check_items(items, "items")
    if _carries_education(items):
        return ()
    return tuple(i.entry_key for i in items if i.kind == EDUCATION)


def instruction_event(
    previous: Sequence[TaughtItem] | None, current: Sequence[TaughtItem]
) -> InstructionEvent:
    """Compare the program as issued before (None: never issued) with the one issued now.

    New instruction (SOURCE_NEW_INSTRUCTION): an item not in the previous issue, or an item
    whose dose or instructions changed (beyond a typo-sized edit). Not new: the same items
    reordered, items only removed, or typo-sized edits. The billing lines are those of the
    added and changed items; an education item counts with the self-care items of the whole
    current program, since that is the training it supports.
    """
    _check_items(current, "current")
    if previous is not None:
        _check_items(previous, "previous")
    before = {item.entry_key: item for item in previous or ()}
    now_keys = {item.entry_key for item in current}
    added: list[str] = []
    changed: list[str] = []
    reasons: list[str] = []
    if not previous and current:
        reasons.append("First issue of the program: every item is taught for the first time.")
    for item in current:
        old = before.get(item.entry_key)
        if old is None:
            added.append(item.entry_key)
            if previous:
                reasons.append(f"Added {item.entry_key}: not taught before.")
            continue
        if old.dose != item.dose:
            changed.append(item.entry_key)
            reasons.append(
                f"Changed dose of {item.entry_key}: {_dose_change(old.dose, item.dose)}."
            )
        elif not is_typo_edit(old.instructions, item.instructions):
            changed.append(item.entry_key)
            reasons.append(f"Changed instructions of {item.entry_key}.")
        elif old.instructions != item.instructions:
            reasons.append(
                f"Edited instructions of {item.entry_key} (case, punctuation or a typo only):"
                " not new instruction."
            )
    removed = tuple(key for key in before if key not in now_keys)
    if removed:
        reasons.append("Removed " + ", ".join(removed) + ": taking items out teaches nothing new.")
    kept_before = [key for key in before if key in now_keys]
    kept_now = [item.entry_key for item in current if item.entry_key in before]
    if kept_before != kept_now:
        reasons.append("Reordered items: the order alone is not new instruction.")
    is_new = bool(added or changed)
    if previous and not is_new and not reasons:
        reasons.append("No change from the previous issue.")
    if not current:
        reasons.append("The program holds no items.")
    taught_keys = set(added) | set(changed)
    taught = [item for item in current if item.entry_key in taught_keys]
    # An education item rides on the program's 97535 training, taught now or before.
    carried = _carries_education(current)
    lines = _lines(taught, carried)
    unbilled = () if carried else tuple(i.entry_key for i in taught if i.kind == EDUCATION)
    return InstructionEvent(
        is_new_instruction=is_new,
        added=tuple(added),
        changed=tuple(changed),
        removed=removed,
        reasons=tuple(reasons),
        lines=lines,
        unbilled=unbilled,
    )


def billing_answer(event: InstructionEvent, during_visit: bool) -> BillingAnswer:
    """Whether issuing the program is billable instruction, under which code, and why.

    Billable only when it is new instruction (SOURCE_NEW_INSTRUCTION), taught during a visit
    one-on-one with the patient (SOURCE_ONE_ON_ONE), and some taught item makes a billing line
    (education alone does not, SOURCE_EDUCATION). The minutes and the 8-minute rule are the
    visit note's: this answer only says whether the instruction belongs on it.
    """
    code = event.lines[0].code if event.lines else ""
    if not event.is_new_instruction:
        return BillingAnswer(
            code="",
            billable=False,
            reason=(
                "Not new instruction: nothing was added and no dose or instructions changed "
                "(reordering, removing items and typo fixes teach nothing new). "
                f"Source: {SOURCE_NEW_INSTRUCTION.label()}."
            ),
        )
    if not event.lines:
        return BillingAnswer(
            code="",
            billable=False,
            reason=(
                "Only education items are new, and no self-care training in the program "
                "carries them: education is billed as part of the 97535 training it supports, "
                f"not on its own. Source: {SOURCE_EDUCATION.label()}."
            ),
        )
    others = [line.code for line in event.lines[1:]]
    also = f" Also bill {', '.join(others)} for the other items taught." if others else ""
    if not during_visit:
        return BillingAnswer(
            code=code,
            billable=False,
            reason=(
                f"Issued outside a visit: {code} is billed only for one-on-one teaching with the "
                "patient present, so this revision is sent but not billable. Teach it at the "
                f"next visit to bill it. Source: {SOURCE_ONE_ON_ONE.label()}."
            ),
        )
    taught = ", ".join(event.lines[0].entry_keys)
    return BillingAnswer(
        code=code,
        billable=True,
        reason=(
            f"New instruction taught during the visit: bill {code} for {taught} with the "
            f"minutes spent teaching it.{also} Source: {SOURCE_NEW_INSTRUCTION.label()}; "
            f"{SOURCE_ONE_ON_ONE.label()}."
        ),
    )

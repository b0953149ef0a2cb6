"""Home-program instruction: new-instruction events, billing lines and the billing answer."""

from __future__ import annotations

import pytest

from handrail.library import DOSE_FIELDS as LIBRARY_DOSE_FIELDS
from handrail.library import Dose
from handrail.rules.home_program import (
    DOSE_FIELDS,
    BillingAnswer,
    InstructionEvent,
    InstructionLine,
    TaughtItem,
    billing_answer,
    instruction_codes,
    instruction_event,
    is_typo_edit,
    normalize_instructions,
    unbilled_education,
)
from handrail.rules.model import RuleInputError

DOSE = (2, 10, None, 1, 7, None)


def item(
    key: str,
    code: str = "97535",
    kind: str = "self_care",
    dose: tuple[int | None, ...] = DOSE,
    text: str = "Sit on the bench, then lift the legs over.",
) -> TaughtItem:
    return TaughtItem(key, code, kind, dose, text)


TUB = item("tub-bench")
SOCKS = item("sock-aid", text="Slide the sock on the aid and pull both straps.")
BRIDGE = item("bridge", "97110", "exercise", text="Lift the hips and hold.")
BALANCE = item("tandem", "97112", "exercise", text="Heel to toe beside the counter.")
STAND = item("sit-to-stand", "97530", "exercise", text="Stand without the hands.")
BUS = item("bus-ride", "97537", text="Board at the front door with the cane.")
FALLS = item("falls-talk", "97535", "education", text="Fix one hazard a day.")


class TypoEditTests:
    @pytest.mark.parametrize(
        ("before", "after", "typo"),
        [
            ("Hold for 5 seconds.", "Hold for 5 seconds.", True),
            ("Hold for 5 seconds.", "hold for 5 seconds", True),
            ("Hold for 5 seconds.", "Hold  for 5 seconds!", True),
            ("Hold for 5 seconds.", "Hold for 5 secnods.", True),  # transposition: 2 edits
            ("Hold for 5 seconds.", "Hodl fro 5 seconds.", False),  # 4 edits
            ("Hold for 5 seconds.", "Hold for 10 seconds.", False),  # a number changed
            ("Hold for 5 seconds.", "Hold for 6 seconds.", False),  # one character, a number
            ("Bend the knee.", "Do not bend the knee.", False),  # a negation added
            ("Don't twist.", "Dont twist", True),  # apostrophe only
            ("Do not twist.", "Do now twist.", False),  # the negation is gone
            ("Use the left hand.", "Use the right hand.", False),  # 3 edits
            ("Step up with the good leg.", "Step down with the bad leg.", False),
            ("", "", True),
            ("", "Keep the elbow in.", False),
        ],
    )
    def test_it_tells_a_typo_from_a_real_change(self, before: str, after: str, typo: bool) -> None:
        assert is_typo_edit(before, after) is typo

    def test_it_normalizes_case_punctuation_and_spaces(self) -> None:
        assert normalize_instructions("  Don\u2019t  LIFT >5 lb!\n") == "dont lift 5 lb"


class InstructionEventTests:
    def test_it_counts_the_first_issue_as_new_instruction(self) -> None:
        event = instruction_event(None, [TUB, BRIDGE, FALLS])
        assert event == InstructionEvent(
            is_new_instruction=True,
            added=("tub-bench", "bridge", "falls-talk"),
            changed=(),
            removed=(),
            reasons=("First issue of the program: every item is taught for the first time.",),
            lines=(
                InstructionLine("97535", ("tub-bench", "falls-talk")),
                InstructionLine("97110", ("bridge",)),
            ),
            unbilled=(),
        )

    def test_it_counts_an_empty_previous_issue_as_never_issued(self) -> None:
        assert instruction_event([], [TUB]).added == ("tub-bench",)
        assert instruction_event([], [TUB]).is_new_instruction is True

    @pytest.mark.parametrize(
        ("previous", "current", "new", "added", "changed", "removed", "reasons"),
        [
            (
                [TUB, BRIDGE],
                [TUB, BRIDGE],
                False,
                (),
                (),
                (),
                ("No change from the previous issue.",),
            ),
            (
                [TUB, BRIDGE],
                [BRIDGE, TUB],
                False,
                (),
                (),
                (),
                ("Reordered items: the order alone is not new instruction.",),
            ),
            (
                [TUB, BRIDGE, SOCKS],
                [TUB],
                False,
                (),
                (),
                ("bridge", "sock-aid"),
                ("Removed bridge, sock-aid: taking items out teaches nothing new.",),
            ),
            (
                [TUB],
                [TUB, SOCKS],
                True,
                ("sock-aid",),
                (),
                (),
                ("Added sock-aid: not taught before.",),
            ),
            (
                [TUB, BRIDGE],
                [
                    TUB,
                    item(
                        "bridge",
                        "97110",
                        "exercise",
                        (3, 12, None, 1, 7, None),
                        "Lift the hips and hold.",
                    ),
                ],
                True,
                (),
                ("bridge",),
                (),
                ("Changed dose of bridge: sets 2 -> 3, reps 10 -> 12.",),
            ),
            (
                [TUB],
                [item("tub-bench", dose=(None, 10, None, 1, 7, None))],
                True,
                (),
                ("tub-bench",),
                (),
                ("Changed dose of tub-bench: sets 2 -> -.",),
            ),
            (
                [TUB],
                [
                    item(
                        "tub-bench", text="Sit on the bench, then lift the legs over with a strap."
                    )
                ],
                True,
                (),
                ("tub-bench",),
                (),
                ("Changed instructions of tub-bench.",),
            ),
            (
                [TUB],
                [item("tub-bench", text="sit on the bench then lift the legs ovr")],
                False,
                (),
                (),
                (),
                (
                    "Edited instructions of tub-bench (case, punctuation or a typo only): "
                    "not new instruction.",
                ),
            ),
            (
                [TUB, BRIDGE, SOCKS],
                [SOCKS, item("tub-bench", text="Sit on the bench first."), BUS],
                True,
                ("bus-ride",),
                ("tub-bench",),
                ("bridge",),
                (
                    "Changed instructions of tub-bench.",
                    "Added bus-ride: not taught before.",
                    "Removed bridge: taking items out teaches nothing new.",
                    "Reordered items: the order alone is not new instruction.",
                ),
            ),
        ],
    )
    def test_it_tells_new_instruction_from_a_cosmetic_revision(
        self,
        previous: list[TaughtItem],
        current: list[TaughtItem],
        new: bool,
        added: tuple[str, ...],
        changed: tuple[str, ...],
        removed: tuple[str, ...],
        reasons: tuple[str, ...],
    ) -> None:
        event = instruction_event(previous, current)
        assert event.is_new_instruction is new
        assert event.added == added
        assert event.changed == changed
        assert event.removed == removed
        assert event.reasons == reasons

    def test_it_bills_only_what_was_taught_now(self) -> None:
        event = instruction_event([TUB, BRIDGE], [TUB, BRIDGE, BALANCE])
        assert event.lines == (InstructionLine("97112", ("tandem",)),)

    def test_it_carries_new_education_on_the_program_self_care_taught_before(self) -> None:
        event = instruction_event([TUB], [TUB, FALLS])
        assert event.lines == (InstructionLine("97535", ("falls-talk",)),)
        assert event.unbilled == ()

    def test_it_leaves_education_without_self_care_unbilled(self) -> None:
        event = instruction_event([BRIDGE], [BRIDGE, FALLS])
        assert event.is_new_instruction is True
        assert event.lines == ()
        assert event.unbilled == ("falls-talk",)

    def test_it_says_when_the_program_is_empty(self) -> None:
        event = instruction_event([TUB], [])
        assert event.is_new_instruction is False
        assert event.removed == ("tub-bench",)
        assert event.reasons[-1] == "The program holds no items."

    @pytest.mark.parametrize(
        ("items", "field", "message"),
        [
            ([TUB, TUB], "current[1].entry_key", "tub-bench is in the program twice"),
            ([item("")], "current[0].entry_key", "give the library entry's key"),
            ([item("x", kind="stretch")], "current[0].kind", "'stretch' is not one of"),
            ([item("x", dose=(1, 2))], "current[0].dose", "give 6 values"),
            (
                [item("x", "97535", "exercise")],
                "current[0].billing_code",
                "x: exercise items are billed under 97110, 97112, 97530, not 97535",
            ),
            (
                [item("x", "97110", "self_care")],
                "current[0].billing_code",
                "self_care items are billed under 97535, 97537, not 97110",
            ),
            (
                [item("x", "", "education")],
                "current[0].billing_code",
                "education items are billed under 97535, not no code",
            ),
        ],
    )
    def test_it_refuses_bad_items_naming_the_field(
        self, items: list[TaughtItem], field: str, message: str
    ) -> None:
        with pytest.raises(RuleInputError) as raised:
            instruction_event(None, items)
        assert raised.value.field == field
        assert message in raised.value.message

    def test_it_takes_the_dose_in_the_library_order(self) -> None:
        assert DOSE_FIELDS == LIBRARY_DOSE_FIELDS
        changed = item("tub-bench", dose=Dose(sets=2, reps=12, times_per_day=1).as_tuple())
        event = instruction_event(
            [item("tub-bench", dose=Dose(sets=2, reps=10).as_tuple())], [changed]
        )
        assert event.reasons == (
            "Changed dose of tub-bench: reps 10 -> 12, times_per_day - -> 1.",
        )

    def test_it_checks_the_previous_items_too(self) -> None:
        with pytest.raises(RuleInputError) as raised:
            instruction_event([BRIDGE, BRIDGE], [BRIDGE])
        assert raised.value.field == "previous[1].entry_key"


class InstructionCodesTests:
    @pytest.mark.parametrize(
        ("items", "lines", "unbilled"),
        [
            ([], (), ()),
            ([TUB], (InstructionLine("97535", ("tub-bench",)),), ()),
            ([BUS], (InstructionLine("97537", ("bus-ride",)),), ()),
            ([BRIDGE], (InstructionLine("97110", ("bridge",)),), ()),
            ([BALANCE], (InstructionLine("97112", ("tandem",)),), ()),
            ([STAND], (InstructionLine("97530", ("sit-to-stand",)),), ()),
            ([FALLS], (), ("falls-talk",)),
            ([BUS, FALLS], (InstructionLine("97537", ("bus-ride",)),), ("falls-talk",)),
            ([BRIDGE, FALLS], (InstructionLine("97110", ("bridge",)),), ("falls-talk",)),
            (
                [BRIDGE, BALANCE, STAND, SOCKS, FALLS, TUB, BUS],
                (
                    InstructionLine("97535", ("sock-aid", "falls-talk", "tub-bench")),
                    InstructionLine("97537", ("bus-ride",)),
                    InstructionLine("97530", ("sit-to-stand",)),
                    InstructionLine("97112", ("tandem",)),
                    InstructionLine("97110", ("bridge",)),
                ),
                (),
            ),
        ],
    )
    def test_it_puts_each_item_under_its_code_and_never_exercise_under_97535(
        self,
        items: list[TaughtItem],
        lines: tuple[InstructionLine, ...],
        unbilled: tuple[str, ...],
    ) -> None:
        assert instruction_codes(items) == lines
        assert unbilled_education(items) == unbilled


class BillingAnswerTests:
    def test_it_bills_new_instruction_during_a_visit(self) -> None:
        answer = billing_answer(instruction_event(None, [TUB, BRIDGE]), during_visit=True)
        assert answer.code == "97535"
        assert answer.billable is True
        assert answer.reason.startswith(
            "New instruction taught during the visit: bill 97535 for tub-bench with the minutes "
            "spent teaching it. Also bill 97110 for the other items taught. Source: "
        )
        assert "[unverified]" in answer.reason

    def test_it_bills_an_exercise_only_program_under_its_own_code(self) -> None:
        answer = billing_answer(instruction_event(None, [BRIDGE, BALANCE]), during_visit=True)
        assert (answer.code, answer.billable) == ("97112", True)
        assert "Also bill 97110" in answer.reason

    def test_it_does_not_bill_a_program_issued_outside_a_visit(self) -> None:
        answer = billing_answer(instruction_event(None, [TUB]), during_visit=False)
        assert answer.code == "97535"
        assert answer.billable is False
        assert answer.reason.startswith(
            "Issued outside a visit: 97535 is billed only for one-on-one teaching with the "
            "patient present, so this revision is sent but not billable. Teach it at the next "
            "visit to bill it."
        )

    @pytest.mark.parametrize("during_visit", [True, False])
    def test_it_does_not_bill_a_revision_that_teaches_nothing_new(
        self, during_visit: bool
    ) -> None:
        event = instruction_event([TUB, BRIDGE], [BRIDGE])
        answer = billing_answer(event, during_visit=during_visit)
        assert answer == BillingAnswer(
            code="",
            billable=False,
            reason=(
                "Not new instruction: nothing was added and no dose or instructions changed "
                "(reordering, removing items and typo fixes teach nothing new). Source: "
                "Handrail reference (home programs): a 97535 event at first instruction and at "
                "each revision with information not given before [unverified]."
            ),
        )

    def test_it_does_not_bill_education_alone(self) -> None:
        answer = billing_answer(instruction_event([BRIDGE], [BRIDGE, FALLS]), during_visit=True)
        assert (answer.code, answer.billable) == ("", False)
        assert answer.reason.startswith("Only education items are new")

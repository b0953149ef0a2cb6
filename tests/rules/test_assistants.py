"""The CQ/CO split of units furnished in whole or in part by a PTA/OTA."""

from __future__ import annotations

import itertools

import pytest

from handrail.rules.assistants import assistant_modifier, split_units
from handrail.rules.model import Explanation
from handrail.rules.units import units_for_minutes


def split(code: str, units: int, therapist: int, assistant: int) -> tuple[int, int]:
    result = split_units(code, units, therapist, assistant, Explanation())
    return result.units_without, result.units_with


class AssistantModifierTests:
    def test_it_uses_cq_for_pt_co_for_ot_and_none_for_slp(self) -> None:
        assert [assistant_modifier(d) for d in ("PT", "OT", "SLP")] == ["CQ", "CO", None]


class TimedSplitTests:
    def test_it_reproduces_cms_scenario_1(self) -> None:
        # PTA 23 min + PT 13 min of 97110 = 36 min = 2 units: the PTA's full 15 minutes are a
        # CQ unit; the last unit has the PT's 13 minutes (8 or more): no CQ (exception 1).
        assert split("97110", 2, 13, 23) == (1, 1)

    def test_it_applies_exception_2_to_two_remaining_units(self) -> None:
        # PT 14 + PTA 14 = 28 min = 2 units: one with and one without (exception 2)
        assert split("97110", 2, 14, 14) == (1, 1)
        assert split("97110", 2, 9, 14) == (1, 1)  # 23 minutes, the low end
        assert split("97110", 1, 9, 9) == (1, 0)  # 18 min is 1 unit, PT has 9: no CQ

    @pytest.mark.parametrize(
        ("therapist", "assistant", "expected"),
        [
            (0, 30, (0, 2)),  # assistant furnished everything: "in whole"
            (30, 0, (2, 0)),  # therapist furnished everything
            (20, 10, (1, 1)),  # last unit: PT 5 min (< 8), PTA 10 of 15 min > 10%
            (15, 1, (1, 0)),  # 16 min = 1 unit, the therapist's full 15 minutes
            (7, 1, (0, 1)),  # 8 min = 1 unit: PT under 8, PTA 1 of 8 min = 12.5% > 10%
            (0, 8, (0, 1)),  # 8 min all by the assistant
            (8, 7, (1, 0)),  # PT 8 min in the final unit: exception 1
            (7, 8, (0, 1)),  # PT 7 min: the assistant's 8 of 15 min > 10%
            (30, 8, (2, 1)),  # 38 min = 3 units: PT 2 full, last unit is the PTA's 8 min
        ],
    )
    def test_it_shares_units_by_full_blocks_then_the_last_unit(
        self, therapist: int, assistant: int, expected: tuple[int, int]
    ) -> None:
        units = units_for_minutes(therapist + assistant)
        assert split("97110", units, therapist, assistant) == expected

    @pytest.mark.parametrize(("therapist", "assistant"), [(13, 1), (12, 2), (14, 1), (10, 1)])
    def test_it_treats_small_assistant_shares_as_de_minimis(
        self, therapist: int, assistant: int
    ) -> None:
        # the therapist furnished 8+ minutes of the only unit: billed without CQ
        assert split("97110", 1, therapist, assistant) == (1, 0)

    def test_it_never_loses_or_invents_units(self) -> None:
        for therapist, assistant in itertools.product(range(0, 61), repeat=2):
            units = units_for_minutes(therapist + assistant)
            without, with_modifier = split("97110", units, therapist, assistant)
            assert without + with_modifier == units
            if assistant == 0:
                assert with_modifier == 0
            if therapist == 0 and units:
                assert without == 0


class WholeServiceSplitTests:
    @pytest.mark.parametrize(
        ("therapist", "assistant", "expected"),
        [(45, 0, (1, 0)), (41, 4, (1, 0)), (40, 5, (0, 1)), (0, 45, (0, 1))],
    )
    def test_it_tests_untimed_codes_on_the_whole_service(
        self, therapist: int, assistant: int, expected: tuple[int, int]
    ) -> None:
        # 4 of 45 min = 8.9% (de minimis); 5 of 45 = 11.1% (CQ)
        assert split("97150", 1, therapist, assistant) == expected

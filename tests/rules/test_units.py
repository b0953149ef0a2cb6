"""Minutes to units: the CMS total-time rule, the per-code rule, untimed and caregiver codes."""

from __future__ import annotations

import itertools

import pytest

from handrail.rules.units import CodeMinutes, UnitsResult, apply_units, units_for_minutes

# CMS Pub 100-04 ch.5 §20.2 table, written out as the manual gives it (and continued past 2 h
# with the same 15-minute pattern: "The pattern remains the same for treatment times in
# excess of 2 hours").
CMS_BANDS = [
    (0, 7, 0),
    (8, 22, 1),
    (23, 37, 2),
    (38, 52, 3),
    (53, 67, 4),
    (68, 82, 5),
    (83, 97, 6),
    (98, 112, 7),
    (113, 127, 8),
    (128, 142, 9),
    (143, 157, 10),
    (158, 172, 11),
]
TIMED = ("97535", "97530", "97110", "97140")


def band(minutes: int) -> int:
    for low, high, units in CMS_BANDS:
        if low <= minutes <= high:
            return units
    raise AssertionError(f"no band for {minutes}")


def evaluate(rule: str, **minutes: int) -> UnitsResult:
    items = [CodeMinutes(code.removeprefix("c"), value) for code, value in minutes.items()]
    return apply_units(items, rule)  # type: ignore[arg-type]


def units_of(result: UnitsResult) -> dict[str, int]:
    return {item.code: item.units for item in result.codes}


class UnitTableTests:
    @pytest.mark.parametrize("minutes", range(0, 131))
    def test_it_matches_the_cms_table_for_one_code(self, minutes: int) -> None:
        assert units_for_minutes(minutes) == band(minutes)
        result = evaluate("cms", c97535=minutes)
        assert units_of(result) == {"97535": band(minutes)}
        assert result.total_timed_minutes == minutes

    @pytest.mark.parametrize("minutes", range(0, 131))
    def test_it_gives_the_per_code_rule_the_same_answer_for_one_code(self, minutes: int) -> None:
        assert units_of(evaluate("per-code", c97535=minutes)) == {"97535": band(minutes)}

    @pytest.mark.parametrize(
        ("minutes", "units"),
        [(7, 0), (8, 1), (22, 1), (23, 2), (37, 2), (38, 3), (127, 8), (128, 9)],
    )
    def test_it_flips_exactly_at_each_boundary(self, minutes: int, units: int) -> None:
        assert units_for_minutes(minutes) == units


class CmsTotalTimeTests:
    """CMS Pub 100-04 ch.5 §20.2 examples 1-5, with the manual's outcomes."""

    def test_it_bills_example_1_two_of_the_larger_leftover(self) -> None:
        # 24 min 97112 + 23 min 97110 = 47 min = 3 units: 2 x 97112, 1 x 97110
        result = evaluate("cms", c97112=24, c97110=23)
        assert units_of(result) == {"97112": 2, "97110": 1}
        assert result.total_units == 3 and not result.tie_broken

    def test_it_bills_example_2_the_short_code_over_the_leftover(self) -> None:
        # 33 min 97110 + 7 min 97112 = 40 min = 3 units: 2 x 97110, 1 x 97112
        assert units_of(evaluate("cms", c97110=33, c97112=7)) == {"97110": 2, "97112": 1}

    def test_it_breaks_the_tie_of_example_3_deterministically(self) -> None:
        # 33 min 97110, 7 min 97140, 7 min 97112 = 47 min = 3 units; the third to either
        result = evaluate("cms", c97110=33, c97140=7, c97112=7)
        assert units_of(result) == {"97110": 2, "97140": 1, "97112": 0}
        assert result.tie_broken
        assert any(step.startswith("Tie: 97140, 97112") for step in result.explanation.steps)

    def test_it_bills_example_4_the_two_largest_leftovers(self) -> None:
        # 18 97110 + 13 97140 + 10 97116 + 8 97035 = 49 min = 3 units: 97110, 97140, 97116
        result = evaluate("cms", c97110=18, c97140=13, c97116=10, c97035=8)
        assert units_of(result) == {"97110": 1, "97140": 1, "97116": 1, "97035": 0}

    def test_it_bills_example_5_one_unit_for_two_short_services(self) -> None:
        # 7 min 97110 + 7 min 97140 = 14 min = 1 unit, to either; entered first wins the tie
        result = evaluate("cms", c97110=7, c97140=7)
        assert units_of(result) == {"97110": 1, "97140": 0}
        assert result.tie_broken

    def test_it_breaks_ties_toward_more_total_minutes_before_entry_order(self) -> None:
        # 59 min = 4 units; full units 97530 1 + 97535 2; leftovers 97110 7 and 97530 7 tie:
        # 97530 has 22 minutes in all, so it wins over 97110 although 97110 was entered first
        result = evaluate("cms", c97110=7, c97530=22, c97535=30)
        assert units_of(result) == {"97110": 0, "97530": 2, "97535": 2}
        assert result.tie_broken

    def test_it_bills_nothing_under_eight_total_minutes(self) -> None:
        result = evaluate("cms", c97110=3, c97140=4)
        assert units_of(result) == {"97110": 0, "97140": 0}
        assert result.total_units == 0
        assert "Under 8 timed minutes" in result.explanation.steps[-1]

    def test_it_explains_each_step_with_its_source(self) -> None:
        result = evaluate("cms", c97535=24, c97530=16)
        assert result.explanation.steps == [
            "CMS total-time rule: timed minutes 97535 24 + 97530 16 = 40 minutes; "
            "38-52 minutes = 3 unit(s) in all (CMS Pub 100-04 ch.5 §20.2)",
            "97535: 24 min = 1 full 15-minute unit(s), 9 min left over",
            "97530: 16 min = 1 full 15-minute unit(s), 1 min left over",
            "1 more unit(s) go to the largest leftover(s): 97535 (9 min)",
        ]


def _check_cms_invariants(minutes: tuple[int, ...]) -> None:
    codes = TIMED[: len(minutes)]
    result = apply_units([CodeMinutes(c, m) for c, m in zip(codes, minutes, strict=True)], "cms")
    got = units_of(result)
    total = sum(minutes)
    assert sum(got.values()) == band(total), (minutes, got)
    extra = [code for code, m in zip(codes, minutes, strict=True) if got[code] == m // 15 + 1]
    for code, m in zip(codes, minutes, strict=True):
        assert m // 15 <= got[code] <= m // 15 + 1, (minutes, got)
    # Every code that won an extra unit has a leftover at least as large as every loser's.
    losers = [m % 15 for code, m in zip(codes, minutes, strict=True) if code not in extra]
    for code, m in zip(codes, minutes, strict=True):
        if code in extra:
            assert all(m % 15 >= left for left in losers), (minutes, got)


class CmsSweepTests:
    def test_it_holds_for_every_pair_of_codes_from_0_to_65_minutes(self) -> None:
        for pair in itertools.product(range(0, 66), repeat=2):
            _check_cms_invariants(pair)

    def test_it_holds_for_three_codes_across_all_boundaries(self) -> None:
        values = [0, 1, 7, 8, 9, 14, 15, 16, 22, 23, 24, 29, 30, 37, 38, 44, 45, 52, 53]
        for triple in itertools.product(values, repeat=3):
            _check_cms_invariants(triple)

    def test_it_holds_for_four_codes_up_to_130_minutes(self) -> None:
        values = [0, 5, 7, 8, 11, 14, 15, 22, 23, 30, 33]
        for quad in itertools.product(values, repeat=4):
            if sum(quad) <= 130:
                _check_cms_invariants(quad)


class PerCodeTests:
    def test_it_counts_each_code_on_its_own(self) -> None:
        # CMS would give 47 min = 3 units; per code: 24 -> 2, 23 -> 2
        assert units_of(evaluate("per-code", c97112=24, c97110=23)) == {"97112": 2, "97110": 2}

    def test_it_drops_two_short_services_that_cms_would_combine(self) -> None:
        assert units_of(evaluate("per-code", c97110=7, c97140=7)) == {"97110": 0, "97140": 0}

    def test_it_sweeps_pairs_against_the_table(self) -> None:
        for first, second in itertools.product(range(0, 66), repeat=2):
            got = units_of(evaluate("per-code", c97535=first, c97530=second))
            assert got == {"97535": band(first), "97530": band(second)}


class UntimedAndCaregiverTests:
    def test_it_bills_one_unit_of_an_untimed_code_whatever_the_minutes(self) -> None:
        result = evaluate("cms", c97165=55, c97535=23)
        assert units_of(result) == {"97165": 1, "97535": 2}
        assert result.total_timed_minutes == 23  # evaluation minutes are not timed minutes

    @pytest.mark.parametrize(
        ("minutes", "first", "addon"),
        [
            (15, 0, None),
            (16, 1, None),
            (30, 1, None),
            (37, 1, None),
            (38, 1, 1),
            (52, 1, 1),
            (53, 1, 2),
            (67, 1, 2),
            (68, 1, 3),
        ],
    )
    def test_it_applies_the_caregiver_time_rule(
        self, minutes: int, first: int, addon: int | None
    ) -> None:
        got = units_of(evaluate("cms", c97550=minutes))
        expected = {"97550": first} if addon is None else {"97550": first, "97551": addon}
        assert got == expected

    def test_it_adds_caregiver_minutes_entered_on_both_codes(self) -> None:
        assert units_of(evaluate("cms", c97550=30, c97551=15)) == {"97550": 1, "97551": 1}

    def test_it_keeps_caregiver_minutes_out_of_the_timed_total(self) -> None:
        result = evaluate("cms", c97550=40, c97535=8)
        assert result.total_timed_minutes == 8
        assert units_of(result) == {"97550": 1, "97551": 1, "97535": 1}

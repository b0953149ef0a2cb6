from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from handrail.claims.denials import (
    Action,
    Cause,
    LineContext,
    NcciPartner,
    likely_causes,
)

DAY = date(2026, 3, 10)


def _line(**changes: object) -> LineContext:
    line = LineContext(code="97140", modifiers=("GP",), service_date=DAY, plan_discipline="GP")
    return replace(line, **changes)  # type: ignore[arg-type]


def _causes(line: LineContext) -> list[tuple[Cause, int, Action]]:
    return [(c.cause, c.score, c.action) for c in likely_causes(line)]


class LikelyCausesTests:
    def test_a_clean_line_with_no_pointing_codes_has_no_cause(self) -> None:
        assert likely_causes(_line(carcs=("45",))) == []

    def test_an_ncci_pair_without_59_under_carc_97_is_the_top_cause(self) -> None:
        line = _line(carcs=("97",), rarcs=("M15",), ncci_partners=(NcciPartner("97530"),))
        [cause] = likely_causes(line)
        assert (cause.cause, cause.score, cause.action) == (
            Cause.NCCI_BUNDLING, 3, Action.CORRECTED_CLAIM,
        )  # fmt: skip
        assert cause.summary == (
            "97140 was billed with 97530 on the same day with no 59 or X modifier, so the "
            "payer bundled it."
        )
        assert cause.evidence == (
            "NCCI pair with 97530 and no 59/X modifier on the line",
            "the payer's reason codes point at it (97, M15)",
        )

    @pytest.mark.parametrize("modifier", ["59", "XU", "XS", "XE", "XP"])
    def test_a_distinct_service_modifier_turns_it_into_an_appeal(self, modifier: str) -> None:
        line = _line(
            modifiers=("GP", modifier), carcs=("97",), ncci_partners=(NcciPartner("97530"),)
        )
        assert _causes(line) == [(Cause.NCCI_BUNDLING, 1, Action.APPEAL)]

    def test_a_pair_that_can_never_be_bypassed_is_a_write_off(self) -> None:
        line = _line(code="97750", ncci_partners=(NcciPartner("97163", bypassable=False),))
        [cause] = likely_causes(line)
        assert (cause.action, cause.evidence) == (
            Action.WRITE_OFF, ("NCCI pair with 97163 (modifier indicator 0)",),
        )  # fmt: skip

    def test_past_the_threshold_without_kx_on_medicare(self) -> None:
        line = _line(carcs=("119",), rarcs=("N640",), past_threshold=True)
        assert _causes(line) == [(Cause.MISSING_KX, 3, Action.CORRECTED_CLAIM)]

    def test_kx_present_or_a_commercial_payer_is_not_a_missing_kx(self) -> None:
        assert _causes(_line(past_threshold=True, modifiers=("GP", "KX"))) == []
        assert _causes(_line(past_threshold=True, medicare=False)) == []

    def test_a_missing_discipline_modifier_names_the_plan_discipline(self) -> None:
        [cause] = likely_causes(_line(modifiers=(), plan_discipline="GO", carcs=("4",)))
        assert (cause.cause, cause.score) == (Cause.DISCIPLINE_MODIFIER, 3)
        assert cause.fix == (
            "Add GO (the discipline of the plan of care) and send a corrected claim."
        )

    def test_a_discipline_modifier_that_differs_from_the_plan(self) -> None:
        [cause] = likely_causes(_line(modifiers=("GN",), plan_discipline="GP"))
        assert (cause.cause, cause.score) == (Cause.DISCIPLINE_MODIFIER, 2)
        assert cause.summary == "The line carries GN but the plan of care is under GP."

    def test_no_authorization_when_the_payer_requires_one(self) -> None:
        line = _line(carcs=("197",), authorization_required=True, medicare=False)
        assert _causes(line) == [(Cause.NO_AUTHORIZATION, 3, Action.CORRECTED_CLAIM)]
        assert _causes(replace(line, authorization_number="AUTH1")) == [
            (Cause.NO_AUTHORIZATION, 1, Action.APPEAL)
        ]

    def test_a_non_billable_diagnosis_on_the_date(self) -> None:
        [cause] = likely_causes(_line(carcs=("146",), non_billable_diagnoses=("M545",)))
        assert (cause.cause, cause.score) == (Cause.NON_BILLABLE_DIAGNOSIS, 3)
        assert cause.summary == "Diagnosis M545 was not billable on 2026-03-10."

    @pytest.mark.parametrize(
        ("submitted", "expected"),
        [
            (date(2027, 3, 10), []),  # 365 days: the last day in time
            (date(2027, 3, 11), [(Cause.TIMELY_FILING, 3, Action.WRITE_OFF)]),  # 366 days
        ],
    )
    def test_timely_filing_at_the_one_year_boundary(
        self, submitted: date, expected: list[tuple[Cause, int, Action]]
    ) -> None:
        line = _line(carcs=("29",), submitted_on=submitted)
        if not expected:
            assert _causes(line) == [(Cause.TIMELY_FILING, 1, Action.APPEAL)]
        else:
            assert _causes(line) == expected

    def test_a_shorter_commercial_filing_limit(self) -> None:
        line = _line(medicare=False, submitted_on=date(2026, 6, 9), timely_filing_days=90)
        [cause] = likely_causes(line)
        assert cause.summary == (
            "The claim was first sent 91 days after the date of service, past the 90-day "
            "filing limit."
        )

    def test_a_missing_referring_provider(self) -> None:
        line = _line(rarcs=("n286",), referring_required=True)
        assert _causes(line) == [(Cause.REFERRING_PROVIDER, 3, Action.CORRECTED_CLAIM)]

    def test_causes_are_ordered_most_likely_first(self) -> None:
        line = _line(
            modifiers=(),
            carcs=("197",),
            ncci_partners=(NcciPartner("97530"),),
            authorization_required=False,
            past_threshold=True,
            submitted_on=date(2026, 3, 20),
        )
        # CARC 197 with no authorization requirement: codes only (1). The visit shows a
        # bundling pair, a missing KX and a missing GP/GO/GN (2 each), in table order.
        assert _causes(line) == [
            (Cause.NCCI_BUNDLING, 2, Action.CORRECTED_CLAIM),
            (Cause.MISSING_KX, 2, Action.CORRECTED_CLAIM),
            (Cause.DISCIPLINE_MODIFIER, 2, Action.CORRECTED_CLAIM),
            (Cause.NO_AUTHORIZATION, 1, Action.APPEAL),
        ]

    def test_a_cause_backed_by_codes_outranks_one_the_visit_alone_shows(self) -> None:
        line = _line(
            carcs=("146",), non_billable_diagnoses=("M545",), ncci_partners=(NcciPartner("97530"),)
        )
        assert [c.cause for c in likely_causes(line)] == [
            Cause.NON_BILLABLE_DIAGNOSIS,
            Cause.NCCI_BUNDLING,
        ]

from __future__ import annotations

from decimal import Decimal

from handrail.claims.posting import (
    ClaimOutcome,
    LineOutcome,
    PostedAdjustment,
    PostedLine,
    claim_outcome,
    line_outcome,
    net_adjustments,
    payer_matches,
)

D = Decimal


def _line(paid: str, *adjustments: tuple[str, str, str]) -> PostedLine:
    return PostedLine(D(paid), tuple(PostedAdjustment(g, r, D(a)) for g, r, a in adjustments))


class LineOutcomeTests:
    def test_paid_with_contractual_and_coinsurance_is_paid(self) -> None:
        line = _line("96.00", ("CO", "45", "30.00"), ("PR", "2", "24.00"))
        assert line_outcome(line) == LineOutcome.PAID

    def test_all_to_the_deductible_is_not_a_denial(self) -> None:
        assert line_outcome(_line("0", ("CO", "45", "30"), ("PR", "1", "120"))) == (
            LineOutcome.PAID
        )

    def test_nothing_paid_nothing_to_the_patient_is_denied(self) -> None:
        assert line_outcome(_line("0", ("CO", "97", "90.00"))) == LineOutcome.DENIED

    def test_a_non_routine_reduction_is_short(self) -> None:
        line = _line("50.00", ("CO", "45", "20.00"), ("CO", "151", "20.00"))
        assert line_outcome(line) == LineOutcome.SHORT

    def test_sequestration_and_multiple_procedure_reductions_are_routine(self) -> None:
        line = _line("70.00", ("CO", "253", "1.43"), ("CO", "59", "8.57"), ("CO", "45", "10"))
        assert line_outcome(line) == LineOutcome.PAID

    def test_a_reversal_cancels_the_original(self) -> None:
        line = _line(
            "0.00",
            ("CO", "45", "30.00"), ("PR", "2", "24.00"),
            ("CO", "45", "-30.00"), ("PR", "2", "-24.00"),
        )  # fmt: skip
        assert net_adjustments(line.adjustments) == {}
        assert line_outcome(line) == LineOutcome.DENIED


class ClaimOutcomeTests:
    def test_every_line_paid(self) -> None:
        assert claim_outcome([_line("96"), _line("80")]) == ClaimOutcome.PAID

    def test_one_line_denied(self) -> None:
        line = _line("0", ("CO", "97", "90"))
        assert claim_outcome([_line("96"), line]) == ClaimOutcome.PARTLY_PAID

    def test_every_line_denied(self) -> None:
        denied = _line("0", ("CO", "50", "90"))
        assert claim_outcome([denied, denied]) == ClaimOutcome.DENIED


def _matches(name: str, payer_id: str, trace: str, claim_name: str, claim_id: str) -> bool:
    return payer_matches(
        file_name=name,
        file_payer_id=payer_id,
        file_trace_id=trace,
        claim_payer_name=claim_name,
        claim_payer_id=claim_id,
    )


class PayerMatchTests:
    def test_it_matches_the_payer_id_whatever_the_name(self) -> None:
        assert _matches("CMS JURISDICTION 15", "00952", "1512345678", "Medicare Part B", "00952")

    def test_it_refuses_another_payer_id_even_under_the_same_name(self) -> None:
        assert not _matches("MEDICARE PART B", "60054", "1512345678", "Medicare Part B", "00952")

    def test_it_matches_a_trn03_that_carries_the_payer_id(self) -> None:
        assert _matches("CMS", "", "100952", "Medicare Part B", "00952")
        assert _matches("CMS", "", "00952", "Medicare Part B", "00952")
        assert not _matches("CMS", "", "1512345678", "Medicare Part B", "00952")

    def test_it_falls_back_to_the_name_without_ids(self) -> None:
        assert _matches("MEDICARE PART B", "", "1512345678", "Medicare  part-B", "00952")
        assert _matches("MEDICARE PART B", "00952", "", "Medicare Part B", "")
        assert not _matches("ACME HEALTH", "", "1512345678", "Medicare Part B", "")
        assert not _matches("", "", "", "", "")

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from handrail.claims.x835 import Adjustment, RemittanceError, read_835
from tests.claims.builders import X12_SAMPLES

SAMPLE = X12_SAMPLES / "sample_835.x12"
pytestmark = pytest.mark.skipif(not SAMPLE.exists(), reason="the shared X12 samples are absent")


def _sample(*replacements: tuple[str, str]) -> str:
    """The sample 835 with some segments replaced, SE01 recounted."""
    text = SAMPLE.read_text()
    for old, new in replacements:
        assert old in text, old
        text = text.replace(old, new, 1)
    segments = [s for s in text.splitlines() if s]
    start = next(i for i, s in enumerate(segments) if s.startswith("ST*"))
    end = next(i for i, s in enumerate(segments) if s.startswith("SE*"))
    segments[end] = f"SE*{end - start + 1}*0001~"
    return "\n".join(segments) + "\n"


class Read835Tests:
    def test_it_reads_the_hand_checked_sample(self) -> None:
        [remittance] = read_835(SAMPLE.read_text())
        assert (remittance.total_paid, remittance.trace_number) == (
            Decimal("176.00"),
            "12345678901",
        )
        assert remittance.payment_date == date(2026, 12, 1)
        assert (remittance.payer_name, remittance.payee_npi) == ("MEDICARE PART B", "1234567893")
        [claim] = remittance.claims
        assert (claim.control_number, claim.status, claim.payer_claim_number) == (
            "PTCLM0001", "1", "26123456789000",
        )  # fmt: skip
        assert (claim.charge, claim.paid, claim.patient_responsibility) == (
            Decimal("275.00"), Decimal("176.00"), Decimal("44.00"),
        )  # fmt: skip
        first, second = claim.lines
        assert (first.code, first.modifiers, first.units) == ("97535", ("GP",), Decimal("2"))
        assert (first.charge, first.paid, first.allowed) == (
            Decimal("150.00"), Decimal("96.00"), Decimal("120.00"),
        )  # fmt: skip
        assert first.adjustments == [
            Adjustment("CO", "45", Decimal("30.00")),
            Adjustment("PR", "2", Decimal("24.00")),
        ]
        assert (second.code, second.modifiers, second.service_date) == (
            "97530", ("GP", "59"), date(2026, 11, 20),
        )  # fmt: skip

    def test_it_reads_the_payer_ids_of_trn03_and_ref_2u(self) -> None:
        [plain] = read_835(SAMPLE.read_text())
        assert (plain.payer_id, plain.payer_trace_id) == ("", "1512345678")
        text = _sample(("N4*INDIANAPOLIS*IN*46206~", "N4*INDIANAPOLIS*IN*46206~\nREF*2U*00952~"))
        [with_ref] = read_835(text)
        assert (with_ref.payer_name, with_ref.payer_id, with_ref.payer_trace_id) == (
            "MEDICARE PART B", "00952", "1512345678",
        )  # fmt: skip
        n104 = ("N1*PR*MEDICARE PART B~", "N1*PR*MEDICARE PART B*XV*04412~")
        [with_n104] = read_835(_sample(n104))
        assert with_n104.payer_id == "04412"

    def test_it_keeps_line_control_numbers_remarks_and_every_cas_triplet(self) -> None:
        text = _sample(
            ("CAS*CO*45*30.00~\nCAS*PR*2*24.00~", "CAS*CO*45*30.00~\nCAS*PR*1*20.00**2*4.00~"),
            ("AMT*B6*120.00~", "REF*6R*PTCLM0001-1~\nAMT*B6*120.00~\nLQ*HE*N130~"),
        )
        [remittance] = read_835(text)
        line = remittance.claims[0].lines[0]
        assert line.control_number == "PTCLM0001-1"
        assert line.remarks == ["N130"]
        assert line.adjustments == [
            Adjustment("CO", "45", Decimal("30.00")),
            Adjustment("PR", "1", Decimal("20.00")),
            Adjustment("PR", "2", Decimal("4.00")),
        ]

    def test_provider_adjustments_balance_the_payment(self) -> None:
        text = _sample(
            ("BPR*I*176.00", "BPR*I*166.00"),
            ("SE*", "PLB*1234567893*20261231*WO:PTCLM0000*10.00~\nSE*"),
        )
        [remittance] = read_835(text)
        [withheld] = remittance.provider_adjustments
        assert (withheld.reason, withheld.reference, withheld.amount) == (
            "WO", "PTCLM0000", Decimal("10.00"),
        )  # fmt: skip

    def test_a_line_that_does_not_add_up_is_refused_with_its_figures(self) -> None:
        text = _sample(("SVC*HC:97535:GP*150.00*96.00", "SVC*HC:97535:GP*150.00*97.00"))
        with pytest.raises(RemittanceError) as raised:
            read_835(text)
        assert raised.value.problems == [
            "claim PTCLM0001 (segment 14) line 97535 (segment 18): charge 150.00 - adjustments "
            "54.00 = 96.00, but the payer says it paid 97.00"
        ]

    def test_a_claim_that_does_not_add_up_is_refused(self) -> None:
        text = _sample(("CLP*PTCLM0001*1*275.00*176.00", "CLP*PTCLM0001*1*275.00*186.00"))
        with pytest.raises(RemittanceError) as raised:
            read_835(text)
        assert raised.value.problems == [
            "claim PTCLM0001 (segment 14): charge 275.00 - adjustments 99.00 = 176.00, but "
            "the payer says it paid 186.00",
            "payment 12345678901: claims paid 186.00 - provider adjustments 0 = 186.00, but "
            "BPR02 says 176.00",
        ]

    def test_a_payment_total_that_does_not_add_up_is_refused(self) -> None:
        with pytest.raises(RemittanceError) as raised:
            read_835(_sample(("BPR*I*176.00", "BPR*I*5.00")))
        assert raised.value.problems == [
            "payment 12345678901: claims paid 176.00 - provider adjustments 0 = 176.00, but "
            "BPR02 says 5.00"
        ]

    def test_a_grammar_error_is_refused_naming_the_segment(self) -> None:
        with pytest.raises(RemittanceError) as raised:
            read_835(_sample(("DTM*472*20261120~", "DTM*472*20261340~")))
        assert raised.value.problems == [
            'X12 DTM (line 19): Data element "Service Date" (DTM02) contains an invalid date '
            "(20261340)"
        ]

    def test_a_file_on_one_line_reads_the_same(self) -> None:
        text = SAMPLE.read_text()
        assert read_835(text.replace("\n", "")) == read_835(text)

    def test_another_component_separator_reads_the_same(self) -> None:
        """ISA16 declares the component separator; many payers use ">" (or "^")."""
        text = SAMPLE.read_text()
        other = text.replace("*T*:~", "*T*>~", 1).replace("HC:97535:GP", "HC>97535>GP")
        other = other.replace("HC:97530:GP:59", "HC>97530>GP>59")
        [remittance] = read_835(other)
        assert [line.modifiers for line in remittance.claims[0].lines] == [("GP",), ("GP", "59")]
        assert read_835(other) == read_835(text)

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal

import pytest

from handrail.claims.model import (
    Address,
    ClaimInputError,
    Clinician,
    ControlNumbers,
    Coverage,
    Frequency,
    Insured,
    Person,
)
from handrail.claims.x12_validation import x12_errors
from handrail.claims.x837p import batch_problems, write_837p
from tests.claims.builders import (
    JOHN,
    MEDICARE,
    X12_SAMPLES,
    sample_batch,
    sample_claim,
    sample_line,
)

needs_samples = pytest.mark.skipif(
    not (X12_SAMPLES / "sample_837p.x12").exists(), reason="the shared X12 samples are absent"
)


def _segments(text: str) -> list[str]:
    return [line for line in text.splitlines() if line]


class Write837pTests:
    @needs_samples
    def test_it_writes_the_hand_checked_sample_plus_line_control_numbers(self) -> None:
        """The sample has no REF*6R; Handrail sends one per line so the 835 can match lines,
        which adds two segments to SE01."""
        expected = _segments((X12_SAMPLES / "sample_837p.x12").read_text())
        first_date = expected.index("DTP*472*D8*20261120~")
        expected.insert(first_date + 1, "REF*6R*PTCLM0001-1~")
        second_date = expected.index("DTP*472*D8*20261120~", first_date + 2)
        expected.insert(second_date + 1, "REF*6R*PTCLM0001-2~")
        expected[expected.index("SE*29*0001~")] = "SE*31*0001~"
        assert _segments(write_837p(sample_batch())) == expected

    def test_pyx12_finds_no_error_in_what_it_writes(self) -> None:
        assert x12_errors(write_837p(sample_batch())) == []

    def test_the_same_batch_gives_the_same_bytes(self) -> None:
        assert write_837p(sample_batch()) == write_837p(sample_batch())

    def test_a_patient_who_is_not_the_subscriber_gets_a_patient_loop(self) -> None:
        spouse = Insured(
            Person("Doe", "Mary"), Address("456 Oak Ave", "Springfield", "IL", "62704"),
            date(1952, 3, 4), "F",
        )  # fmt: skip
        payer = replace(MEDICARE, name="Acme Health Plan", payer_id="60054", filing_indicator="CI")
        claim = sample_claim(
            coverage=Coverage(JOHN, "W123456789", payer, relationship="01", group_number="G77"),
            patient=spouse,
        )
        text = write_837p(sample_batch(claims=(claim,)))
        segments = _segments(text)
        assert "HL*2*1*22*1~" in segments
        assert "SBR*P**G77******CI~" in segments
        assert segments[segments.index("HL*3*2*23*0~") + 1] == "PAT*01~"
        assert "NM1*QC*1*DOE*MARY~" in segments
        assert "DMG*D8*19520304*F~" in segments
        assert x12_errors(text) == []

    def test_a_replacement_claim_names_the_claim_it_replaces(self) -> None:
        claim = sample_claim(frequency=Frequency.REPLACEMENT, payer_claim_number="26123456789000")
        segments = _segments(write_837p(sample_batch(claims=(claim,))))
        assert "CLM*PTCLM0001*275.00***11:B:7*Y*A*Y*Y~" in segments
        assert "REF*F8*26123456789000~" in segments

    def test_several_claims_share_one_billing_provider_loop(self) -> None:
        second = sample_claim(
            control_number="PTCLM0002",
            lines=(sample_line(control_number="PTCLM0002-1"),),
            referring=Clinician(Person("Lee", "Ann"), "1234567893"),
            prior_authorization="AUTH-991",
        )
        text = write_837p(sample_batch(claims=(sample_claim(), second)))
        segments = _segments(text)
        assert [s for s in segments if s.startswith("HL*")] == [
            "HL*1**20*1~", "HL*2*1*22*0~", "HL*3*1*22*0~",
        ]  # fmt: skip
        assert "NM1*DN*1*LEE*ANN****XX*1234567893~" in segments
        assert "REF*G1*AUTH-991~" in segments
        assert "CLM*PTCLM0002*150.00***11:B:1*Y*A*Y*Y~" in segments
        assert x12_errors(text) == []

    def test_claim_total_is_the_sum_of_the_line_charges(self) -> None:
        lines = (
            sample_line(charge=Decimal("33.33"), control_number="a"),
            sample_line(charge=Decimal("66.67"), control_number="b"),
        )
        text = write_837p(sample_batch(claims=(sample_claim(lines=lines),)))
        assert "CLM*PTCLM0001*100.00***11:B:1*Y*A*Y*Y~" in _segments(text)


class BatchProblemsTests:
    def test_a_good_batch_has_none(self) -> None:
        assert batch_problems(sample_batch()) == []

    @pytest.mark.parametrize(
        ("changes", "where", "message"),
        [
            (
                {"rendering": Clinician(Person("Smith", "Jane"), "1245319590")},
                "claim 1 (PTCLM0001)",
                "rendering provider NPI: 1245319590: the check digit is wrong (the tenth "
                "digit should be 9 for 124531959); check the number against NPPES",
            ),
            (
                {"diagnoses": ("I69351",)},
                "claim 1 (PTCLM0001) line 1",
                "diagnosis pointer 2 points past the claim's 1 codes",
            ),
            (
                {"diagnoses": ("I69.351", "Z471")},
                "claim 1 (PTCLM0001)",
                "diagnosis 'I69.351' is not an ICD-10-CM code written without its dot",
            ),
            (
                {"frequency": Frequency.VOID},
                "claim 1 (PTCLM0001)",
                "a void claim (frequency 8) must carry the payer's claim number of the claim "
                "it replaces or voids",
            ),
            (
                {"place_of_service": "1"},
                "claim 1 (PTCLM0001)",
                "place of service '1' must be two digits (11, 02, 10...)",
            ),
            (
                {"diagnoses": tuple(f"M54{n:02d}" for n in range(13))},
                "claim 1 (PTCLM0001)",
                "13 diagnoses; a claim holds at most 12",
            ),
            (
                {"control_number": "X" * 21},
                "claim 1 (PTCLM0001)".replace("PTCLM0001", "X" * 21),
                "the claim control number must be 1 to 20 characters",
            ),
        ],
    )
    def test_it_names_the_claim_and_what_to_fix(
        self, changes: dict[str, object], where: str, message: str
    ) -> None:
        problems = batch_problems(sample_batch(claims=(sample_claim(**changes),)))
        assert (where, message) in [(p.where, p.message) for p in problems]

    @pytest.mark.parametrize(
        ("line_changes", "message"),
        [
            ({"charge": Decimal("0")}, "charge 0 must be more than zero (set the clinic's "
             "charge for 97535)"),
            ({"charge": Decimal("10.005")}, "charge 10.005 has more than two decimals"),
            ({"units": 0}, "0 units; a billed line has at least one unit"),
            ({"diagnosis_pointers": (1, 2, 1, 2, 1)}, "a line points to 1 to 4 diagnoses, not 5"),
            ({"diagnosis_pointers": ()}, "a line points to 1 to 4 diagnoses, not 0"),
            ({"modifiers": ("GP", "KX", "59", "CQ", "95")},
             "5 modifiers; a line takes at most 4"),
            ({"modifiers": ("G",)}, "modifier 'G' must be two letters or digits"),
            ({"code": "9753"}, "'9753' is not a CPT/HCPCS code (five characters)"),
        ],
    )  # fmt: skip
    def test_it_names_the_line_and_what_to_fix(
        self, line_changes: dict[str, object], message: str
    ) -> None:
        claim = sample_claim(lines=(sample_line(**line_changes),))
        problems = batch_problems(sample_batch(claims=(claim,)))
        assert ("claim 1 (PTCLM0001) line 1", message) in [(p.where, p.message) for p in problems]

    def test_it_refuses_x12_delimiters_in_text(self) -> None:
        claim = sample_claim(prior_authorization="A*1")
        problems = batch_problems(sample_batch(claims=(claim,)))
        assert [p.message for p in problems] == [
            "claim PTCLM0001 prior authorization 'A*1' contains one of * ~ : ^, which X12 "
            "reserves; remove it"
        ]

    def test_one_payer_per_batch(self) -> None:
        other = sample_claim(
            control_number="B2",
            coverage=Coverage(JOHN, "X1", replace(MEDICARE, payer_id="60054")),
        )
        problems = batch_problems(sample_batch(claims=(sample_claim(), other)))
        assert [p.message for p in problems] == ["one payer per batch; this one has 00952, 60054"]

    def test_control_numbers_stay_in_range(self) -> None:
        batch = sample_batch(control=ControlNumbers(0, 1, 1_000_000_000))
        assert [p.message for p in batch_problems(batch)] == [
            "interchange control number 0 is outside 1-999999999",
            "transaction control number 1000000000 is outside 1-999999999",
        ]

    def test_it_asks_the_diagnosis_check_for_every_code_and_date(self) -> None:
        seen: list[tuple[str, date]] = []

        def check(code: str, on: date) -> str | None:
            seen.append((code, on))
            return "not billable: use a more specific code" if code == "I69351" else None

        problems = batch_problems(sample_batch(), check)
        assert seen == [("I69351", date(2026, 11, 20)), ("Z471", date(2026, 11, 20))]
        assert [str(p) for p in problems] == [
            "claim 1 (PTCLM0001): diagnosis I69351 on 2026-11-20: not billable: use a more "
            "specific code"
        ]

    def test_write_refuses_a_batch_with_a_problem(self) -> None:
        claim = sample_claim(lines=(sample_line(units=0),))
        with pytest.raises(ClaimInputError) as raised:
            write_837p(sample_batch(claims=(claim,)))
        assert raised.value.field_name == "claim 1 (PTCLM0001) line 1"

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from handrail.claims.identifiers import (
    ein_digits,
    ein_problem,
    npi_check_digit,
    npi_problem,
    taxonomy_problem,
)


class NpiTests:
    @pytest.mark.parametrize("npi", ["1234567893", "1245319599"])
    def test_it_accepts_a_number_whose_check_digit_is_right(self, npi: str) -> None:
        assert npi_problem(npi) is None

    def test_it_names_the_right_check_digit_of_a_mistyped_number(self) -> None:
        assert npi_problem("1245319590") == (
            "1245319590: the check digit is wrong (the tenth digit should be 9 for "
            "124531959); check the number against NPPES"
        )

    @pytest.mark.parametrize(
        ("value", "problem"),
        [
            ("123456789", "'123456789' is not an NPI: an NPI is exactly 10 digits"),
            ("12345678931", "'12345678931' is not an NPI: an NPI is exactly 10 digits"),
            ("12345A7893", "'12345A7893' is not an NPI: an NPI is exactly 10 digits"),
            ("3234567893", "3234567893: an NPI starts with 1 or 2"),
        ],
    )
    def test_it_refuses_a_malformed_number(self, value: str, problem: str) -> None:
        assert npi_problem(value) == problem

    @given(st.from_regex(r"[12]\d{8}", fullmatch=True))
    def test_it_completes_every_stem_with_exactly_one_digit(self, stem: str) -> None:
        valid = [d for d in "0123456789" if npi_problem(stem + d) is None]
        assert valid == [npi_check_digit(stem)]


class EinTests:
    @pytest.mark.parametrize("value", ["37-1234567", "371234567"])
    def test_it_accepts_nine_digits_with_or_without_the_hyphen(self, value: str) -> None:
        assert ein_problem(value) is None
        assert ein_digits(value) == "371234567"

    @pytest.mark.parametrize("value", ["3712345678", "371-234567", "37-123456", "AB-1234567"])
    def test_it_refuses_other_shapes(self, value: str) -> None:
        assert ein_problem(value) == (
            f"{value!r} is not a tax id: 9 digits, written 12-3456789 or 123456789"
        )
        with pytest.raises(ValueError):
            ein_digits(value)


class TaxonomyTests:
    def test_it_accepts_the_physical_therapist_code(self) -> None:
        assert taxonomy_problem("225100000X") is None

    @pytest.mark.parametrize("value", ["225100000", "225100000Y", "2251000000X"])
    def test_it_refuses_other_shapes(self, value: str) -> None:
        assert taxonomy_problem(value) is not None

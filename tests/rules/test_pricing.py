"""price_code: one code on a date at a locality, with the releases it used."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from handrail.rules.model import RuleInputError
from handrail.rules.pricing import check_code, price_code
from handrail.rules.ruleset import RuleSet


class PriceCodeTests:
    def test_it_prices_manhattan_with_the_built_in_tables(self, rules: RuleSet) -> None:
        priced = price_code(rules.fees, "97535", date(2026, 3, 12), units=3, zip5="10001")
        assert (priced.place.key, priced.release.label, priced.summary) == (
            "13202-01",
            "RVU26C",
            "Self-care/home management training",
        )
        # Full: 36.3161 -> 36.32; half PE: (0.4788 + 0.29631 + 0.01586) x 33.4009 = 26.4198
        assert (priced.unit_amount, priced.amount, priced.amount_with_mppr) == (
            Decimal("36.32"),
            Decimal("108.96"),
            Decimal("89.16"),
        )
        assert priced.notes == ()
        assert priced.source == (
            "RVU26C; CY2026 non-qualifying APM CF 33.4009 (CMS PFS RVU26C "
            "(PPRRVU2026_Jul_nonQPP, CONV FACTOR column)); GPCI GPCI2026; ZIP5 2025Q4"
        )

    def test_it_prices_a_restricted_code_and_states_its_condition(self, rules: RuleSet) -> None:
        priced = price_code(rules.fees, "97026", date(2026, 3, 12))
        # (0.06 + 0.13 + 0.01) x 33.4009 = 6.68
        assert (priced.status.code, priced.status.paid, priced.unit_amount) == (
            "R",
            True,
            Decimal("6.68"),
        )
        assert priced.notes == (
            "Status R in RVU26C (restricted coverage): paid only when Medicare's special "
            "coverage instructions for it are met.",
        )

    def test_it_prices_a_bundled_code_at_zero(self, rules: RuleSet) -> None:
        priced = price_code(rules.fees, "97010", date(2025, 11, 3), units=2, locality="13202-01")
        assert (priced.unit_amount, priced.amount, priced.amount_with_mppr) == (
            Decimal("0.00"),
            Decimal("0.00"),
            Decimal("0.00"),
        )
        assert priced.notes[0].startswith("Status B in RVU25D (bundled into other services)")

    @pytest.mark.parametrize("code", ["97535", " 97535 ", "g0283", "0001F", "A0021", "0591T"])
    def test_it_accepts_the_hcpcs_shapes(self, code: str) -> None:
        assert check_code(code) == code.strip().upper()

    @pytest.mark.parametrize("code", ["", "9753", "975355", "97 35", "AB123", "9753-", "97535X"])
    def test_it_rejects_what_is_not_a_hcpcs_code(self, code: str) -> None:
        with pytest.raises(RuleInputError) as error:
            check_code(code)
        assert (error.value.field, error.value.message) == (
            "code",
            f"{code!r} is not a HCPCS/CPT code; give 5 characters, e.g. 97535 or G0283",
        )

    @pytest.mark.parametrize("units", [0, -1, 101])
    def test_it_rejects_units_out_of_range(self, rules: RuleSet, units: int) -> None:
        with pytest.raises(RuleInputError) as error:
            price_code(rules.fees, "97535", date(2026, 3, 12), units=units)
        assert error.value.field == "units"

    @pytest.mark.parametrize("units", [1, 100])
    def test_it_accepts_the_unit_boundaries(self, rules: RuleSet, units: int) -> None:
        priced = price_code(rules.fees, "97535", date(2026, 3, 12), units=units)
        assert priced.amount == Decimal("32.40") * units

    def test_it_names_the_release_a_missing_code_was_looked_for_in(self, rules: RuleSet) -> None:
        with pytest.raises(RuleInputError) as error:
            price_code(rules.fees, "99213", date(2025, 11, 3))
        assert (error.value.field, error.value.message) == (
            "code",
            "99213 is not in the fee schedule loaded for 2025 (RVU25D, therapy codes only); "
            "check the code, or import the year's full CMS PPRRVU file with "
            "`handrail data import pfs FILE` to price any code of the fee schedule",
        )

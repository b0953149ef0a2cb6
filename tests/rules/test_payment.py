"""Medicare fee schedule payment: reproduce the CMS files to the cent; MPPR; CQ/CO at 85%."""

from __future__ import annotations

import csv
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

import pytest

from handrail.rules import payment
from handrail.rules.catalog import CATALOG
from handrail.rules.conversion import conversion_factor
from handrail.rules.model import Explanation, RuleInputError
from handrail.rules.ruleset import RuleSet
from tests.rules.conftest import shared_cms_file

PFS_FILES = {
    2025: ("PPRRVU2025_Oct.csv", Decimal("32.3465")),
    2026: ("PPRRVU2026_Jul_nonQPP.csv", Decimal("33.4009")),
}
GPCI_FILES = {2025: "GPCI2025.csv", 2026: "GPCI2026.csv"}


def cents(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def cms_rows(year: int) -> dict[str, dict[str, str]]:
    """The CMS file read independently of Handrail's importer: header row starts 'HCPCS'."""
    name, _ = PFS_FILES[year]
    with shared_cms_file(name).open(encoding="latin-1", newline="") as handle:
        rows = list(csv.reader(handle))
    start = next(i for i, row in enumerate(rows) if row and row[0] == "HCPCS")
    wanted = {}
    for row in rows[start + 1 :]:
        if row and row[0] in CATALOG and row[1] == "":
            wanted[row[0]] = row
    header = rows[start]
    totals = [i for i, cell in enumerate(header) if cell == "TOTAL"]
    return {
        code: {"nf_total": row[totals[0]], "work": row[5], "nf_pe": row[6], "mp": row[10]}
        for code, row in wanted.items()
    }


def cms_gpci(year: int, mac: str, locality: str) -> tuple[Decimal, Decimal, Decimal]:
    with shared_cms_file(GPCI_FILES[year]).open(encoding="latin-1", newline="") as handle:
        for row in csv.reader(handle):
            if len(row) >= 7 and row[0] == mac and row[2] == locality:
                return Decimal(row[4]), Decimal(row[5]), Decimal(row[6])
    raise AssertionError(f"{mac}-{locality} not in {GPCI_FILES[year]}")


def price(rules: RuleSet, code: str, on: date, locality: str | None = None) -> Decimal:
    row = payment.rvu_for(rules.fees, code, on)
    place = payment.resolve_locality(rules.fees, on, locality=locality, zip5=None)
    return payment.unit_amount(row, place, conversion_factor(on), facility=False)


class NationalAmountTests:
    @pytest.mark.parametrize("year", [2025, 2026])
    def test_it_reproduces_every_paid_therapy_code_of_the_cms_file(
        self, rules: RuleSet, year: int
    ) -> None:
        _, factor = PFS_FILES[year]
        rows = cms_rows(year)
        assert set(rows) == set(CATALOG)  # all 43 catalog codes are in the CMS file
        for code, cms in rows.items():
            expected = cents(Decimal(cms["nf_total"]) * factor)
            assert price(rules, code, date(year, 6, 1)) == expected, code

    def test_it_gives_the_reference_figures_for_97535(self, rules: RuleSet) -> None:
        # 0.99 x 32.3465 = 32.023 -> 32.02 ; 0.97 x 33.4009 = 32.399 -> 32.40
        assert price(rules, "97535", date(2025, 3, 1)) == Decimal("32.02")
        assert price(rules, "97535", date(2026, 3, 1)) == Decimal("32.40")


class LocalityAmountTests:
    @pytest.mark.parametrize("year", [2025, 2026])
    @pytest.mark.parametrize(
        "locality", ["01182-18", "13202-01", "02102-01", "10112-00", "09102-04", "06102-16"]
    )
    def test_it_prices_with_the_cms_gpcis_out_of_the_box(
        self, rules: RuleSet, year: int, locality: str
    ) -> None:
        # `rules` holds the built-in tables only: the shipped GPCIs must equal CMS's.
        mac, number = locality.split("-")
        work_g, pe_g, mp_g = cms_gpci(year, mac, number)
        _, factor = PFS_FILES[year]
        for code, cms in cms_rows(year).items():
            raw = (
                Decimal(cms["work"]) * work_g
                + Decimal(cms["nf_pe"]) * pe_g
                + Decimal(cms["mp"]) * mp_g
            )
            assert price(rules, code, date(year, 6, 1), locality) == cents(raw * factor), code

    def test_it_gives_los_angeles_2026_for_97535(self, local_rules: RuleSet) -> None:
        # (0.45 x 1.041 + 0.51 x 1.183 + 0.01 x 0.664) x 33.4009 = 36.0202
        assert price(local_rules, "97535", date(2026, 6, 1), "01182-18") == Decimal("36.02")

    def test_it_finds_the_locality_of_a_zip_code(self, rules: RuleSet) -> None:
        place = payment.resolve_locality(rules.fees, date(2026, 6, 1), locality=None, zip5="99501")
        assert (place.key, place.work, place.pe, place.mp, place.source) == (
            "02102-01",
            Decimal("1.500"),
            Decimal("1.065"),
            Decimal("0.551"),
            "GPCI2026; ZIP5 2025Q4",
        )

    @pytest.mark.parametrize(
        ("on", "expected"),
        [
            # (0.45 x 1.065 + 0.53 x 1.166 + 0.01 x 1.656) x 32.3465 = 36.0272
            (date(2025, 1, 1), "36.03"),
            (date(2025, 12, 31), "36.03"),
            # (0.45 x 1.064 + 0.51 x 1.162 + 0.01 x 1.586) x 33.4009 = 36.3161
            (date(2026, 1, 1), "36.32"),
            (date(2026, 12, 31), "36.32"),
        ],
    )
    def test_it_prices_manhattan_by_zip_and_by_locality_out_of_the_box(
        self, rules: RuleSet, on: date, expected: str
    ) -> None:
        by_zip = payment.resolve_locality(rules.fees, on, locality=None, zip5="10001")
        by_locality = payment.resolve_locality(rules.fees, on, locality="13202-01", zip5=None)
        assert by_zip.key == by_locality.key == "13202-01"
        assert (by_zip.name, by_zip.missing_data, by_locality.missing_data) == (
            "Manhattan (NY)",
            "",
            "",
        )
        assert price(rules, "97535", on, "13202-01") == Decimal(expected)

    def test_it_prices_nationally_and_says_why_for_a_year_without_gpcis(
        self, rules: RuleSet
    ) -> None:
        # Handrail ships the CY2025 and CY2026 GPCIs; another year's are the clinic's import.
        for zip5, locality in (("10001", None), (None, "13202-01")):
            place = payment.resolve_locality(
                rules.fees, date(2024, 6, 1), locality=locality, zip5=zip5
            )
            assert (place.key, place.missing_data, place.source) == (
                "national",
                "no GPCI file is loaded for 2024",
                "national (no locality data loaded)",
            )
            assert place.missing_fix == (
                "Import the CMS 2024 GPCI file (Addendum E) with `handrail data import gpci FILE`"
            )

    def test_it_prices_nationally_and_says_so_only_for_a_zip_missing_from_the_table(
        self, rules: RuleSet
    ) -> None:
        place = payment.resolve_locality(rules.fees, date(2026, 1, 5), locality=None, zip5="00000")
        assert (place.key, place.missing_data, place.source) == (
            "national",
            "ZIP 00000 is not in the ZIP-to-locality table ZIP5 2025Q4",
            "national (ZIP not in the ZIP-to-locality table)",
        )
        assert place.missing_fix == (
            "Check the ZIP; if it is right, give its Medicare locality as MAC-LOC "
            "(e.g. 13202-01 (Manhattan)) or import a newer CMS ZIP5 file with "
            "`handrail data import zip5 FILE`"
        )
        for zip5 in ("00501", "99950", "10001", "35958"):  # first, last, Manhattan, ZIP+4
            found = payment.resolve_locality(
                rules.fees, date(2026, 1, 5), locality=None, zip5=zip5
            )
            assert (found.key != "national", found.missing_data) == (True, ""), zip5

    def test_it_rejects_an_unknown_locality(self, rules: RuleSet) -> None:
        with pytest.raises(RuleInputError) as error:
            payment.resolve_locality(rules.fees, date(2026, 1, 5), locality="99999-01", zip5=None)
        assert (error.value.field, error.value.message) == (
            "locality",
            "no Medicare locality 99999-01 in GPCI2026; write MAC-LOC as in the GPCI file, "
            "e.g. 13202-01 (Manhattan)",
        )

    @pytest.mark.parametrize("zip5", ["ABCDE", "1000", "100011", "1000A", "", " ", "10001-1234"])
    def test_it_rejects_a_malformed_zip(self, rules: RuleSet, zip5: str) -> None:
        with pytest.raises(RuleInputError) as error:
            payment.resolve_locality(rules.fees, date(2026, 1, 5), locality=None, zip5=zip5)
        assert (error.value.field, error.value.message) == (
            "zip",
            f"{zip5!r} is not a ZIP code; give 5 digits, e.g. 10001",
        )

    @pytest.mark.parametrize(
        "locality", ["abc", "13202", "1320201", "13202-1", "13202-001", "1320-201", "", "A3202-01"]
    )
    def test_it_rejects_a_malformed_locality(self, rules: RuleSet, locality: str) -> None:
        with pytest.raises(RuleInputError) as error:
            payment.resolve_locality(rules.fees, date(2026, 1, 5), locality=locality, zip5=None)
        assert (error.value.field, error.value.message) == (
            "locality",
            f"{locality!r} is not a Medicare locality; write MAC-LOC as in the GPCI file "
            "(5-digit MAC, 2-digit locality), e.g. 13202-01 (Manhattan)",
        )


class ConversionFactorTests:
    @pytest.mark.parametrize(
        ("on", "qp", "amount"),
        [
            (date(2024, 1, 1), False, "32.7442"),
            (date(2024, 3, 8), False, "32.7442"),
            (date(2024, 3, 9), False, "33.2875"),
            (date(2024, 12, 31), False, "33.2875"),
            (date(2025, 1, 1), False, "32.3465"),
            (date(2025, 12, 31), True, "32.3465"),
            (date(2026, 1, 1), False, "33.4009"),
            (date(2026, 12, 31), True, "33.5675"),
        ],
    )
    def test_it_selects_by_date_of_service(self, on: date, qp: bool, amount: str) -> None:
        assert conversion_factor(on, qp=qp).amount == Decimal(amount)

    def test_it_refuses_a_date_with_no_factor(self) -> None:
        with pytest.raises(RuleInputError, match="no Medicare conversion factor"):
            conversion_factor(date(2027, 1, 4))

    def test_it_refuses_a_year_with_no_fee_schedule_loaded(self, rules: RuleSet) -> None:
        with pytest.raises(RuleInputError, match="no fee schedule with 97535 is loaded for 2024"):
            payment.rvu_for(rules.fees, "97535", date(2024, 5, 1))


def priced(rules: RuleSet, on: date, *lines: tuple[str, int, bool]) -> list[tuple[Decimal, ...]]:
    result = payment.price_lines(
        [payment.LineToPrice(code, units, assistant) for code, units, assistant in lines],
        on=on,
        fees=rules.fees,
        place=payment.PricingLocality.national(),
        factor=conversion_factor(on),
        facility=False,
        medicare_reductions=True,
        explanation=Explanation(),
    )
    return [line.unit_amounts for line in result]


class MpprTests:
    def test_it_pays_the_highest_pe_unit_in_full_and_halves_every_other_pe(
        self, rules: RuleSet
    ) -> None:
        # 2026: 97530 PE 0.60 is the highest: full (0.44+0.60+0.01) x 33.4009 = 35.07;
        # 97535 units: (0.45 + 0.255 + 0.01) x 33.4009 = 23.88; 97530 2nd: 25.05
        assert priced(rules, date(2026, 3, 2), ("97535", 2, False), ("97530", 2, False)) == [
            (Decimal("23.88"), Decimal("23.88")),
            (Decimal("35.07"), Decimal("25.05")),
        ]

    def test_it_ranks_an_evaluation_first(self, rules: RuleSet) -> None:
        # 2025: 97165 PE 1.53 in full = 3.11 x 32.3465 = 100.60; 97535 (0.45+0.265+0.01)
        # x 32.3465 = 23.45
        assert priced(rules, date(2025, 5, 5), ("97535", 1, False), ("97165", 1, False)) == [
            (Decimal("23.45"),),
            (Decimal("100.60"),),
        ]

    def test_it_reduces_a_single_codes_later_units(self, rules: RuleSet) -> None:
        assert priced(rules, date(2026, 3, 2), ("97110", 3, False)) == [
            (Decimal("29.06"), Decimal("22.21"), Decimal("22.21"))
        ]

    def test_it_leaves_caregiver_codes_out_of_the_mppr(self, rules: RuleSet) -> None:
        # 97550 (MULT PROC 0) 2026: 1.58 x 33.4009 = 52.77, never reduced
        assert priced(rules, date(2026, 3, 2), ("97530", 1, False), ("97550", 1, False)) == [
            (Decimal("35.07"),),
            (Decimal("52.77"),),
        ]


class AssistantPaymentTests:
    def test_it_pays_cq_lines_at_85_percent_after_the_mppr(self, rules: RuleSet) -> None:
        # 97110 2026 full 0.87 x 33.4009 = 29.06 for the therapist's unit; the CQ unit:
        # (0.45 + 0.205 + 0.01) x 33.4009 x 0.85 = 18.88
        assert priced(rules, date(2026, 3, 2), ("97110", 1, False), ("97110", 1, True)) == [
            (Decimal("29.06"),),
            (Decimal("18.88"),),
        ]

    def test_it_gives_the_full_unit_to_the_therapists_line_on_a_tie(self, rules: RuleSet) -> None:
        assert priced(rules, date(2026, 3, 2), ("97110", 1, True), ("97110", 1, False)) == [
            (Decimal("18.88"),),
            (Decimal("29.06"),),
        ]

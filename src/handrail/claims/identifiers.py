"""Identifiers on a claim: NPI (with its check digit), employer identification number, and
the provider taxonomy code's shape.

# NPI check digit
CMS, "Requirements for National Provider Identifier (NPI) and NPI Enumeration"
(45 CFR 162.406; the check-digit annex): the tenth digit is a Luhn (ISO/IEC 7812) check digit
computed over the nine identifier digits prefixed with 80840, the card-issuer prefix
assigned to US health applications. Equivalently: Luhn over "80840" + all ten digits is valid.
"""

from __future__ import annotations

import re
from typing import Final

NPI_PREFIX: Final = "80840"
_TEN_DIGITS: Final = re.compile(r"\d{10}")
_NINE_DIGITS: Final = re.compile(r"\d{9}")
# Health Care Provider Taxonomy codes (NUCC): 10 characters, the last one an "X".
_TAXONOMY: Final = re.compile(r"[0-9A-Z]{9}X")


def luhn_sum_is_valid(digits: str) -> bool:
    """Luhn: from the right, double every second digit (subtract 9 past 9); valid when the
    total is a multiple of 10."""
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char)
        if position % 2 == 1:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return total % 10 == 0


def npi_check_digit(first_nine: str) -> str:
    """The check digit that completes a nine-digit NPI stem."""
    if not _NINE_DIGITS.fullmatch(first_nine):
        raise ValueError(f"{first_nine!r}: an NPI stem is nine digits")
    for digit in "0123456789":
        if luhn_sum_is_valid(NPI_PREFIX + first_nine + digit):
            return digit
    raise AssertionError("unreachable: one Luhn digit always completes a number")


def npi_problem(value: str) -> str | None:
    """None for a valid NPI; otherwise what is wrong with it, in words a biller can act on."""
    if not _TEN_DIGITS.fullmatch(value):
        return f"{value!r} is not an NPI: an NPI is exactly 10 digits"
    if value[0] not in "12":
        return f"{value}: an NPI starts with 1 or 2"
    if not luhn_sum_is_valid(NPI_PREFIX + value):
        expected = npi_check_digit(value[:9])
        return (
            f"{value}: the check digit is wrong (the tenth digit should be {expected} for "
            f"{value[:9]}); check the number against NPPES"
        )
    return None


def ein_problem(value: str) -> str | None:
    """None for a well-formed employer identification number (9 digits, an optional hyphen
    after the second); the IRS assigns the numbers, so only the shape can be checked."""
    digits = value.replace("-", "", 1) if len(value) == 10 and value[2] == "-" else value
    if not _NINE_DIGITS.fullmatch(digits):
        return f"{value!r} is not a tax id: 9 digits, written 12-3456789 or 123456789"
    return None


def ein_digits(value: str) -> str:
    """The nine digits of a well-formed EIN, as X12 REF*EI carries them."""
    problem = ein_problem(value)
    if problem:
        raise ValueError(problem)
    return value.replace("-", "")


def taxonomy_problem(value: str) -> str | None:
    """None for a code shaped like a NUCC provider taxonomy code (e.g. 225100000X, PT)."""
    if not _TAXONOMY.fullmatch(value):
        return f"{value!r} is not a provider taxonomy code: 10 characters ending in X"
    return None

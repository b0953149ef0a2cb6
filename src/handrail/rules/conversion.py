"""Medicare physician fee schedule conversion factors by date of service.

Each period carries its source: CY2025 and the CY2026 non-qualifying-APM factor are read from
the CONV FACTOR column of the CMS relative value files (RVU25D, RVU26C); the others come from
agreeing secondary sources quoting the final rules (labelled unverified).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import lru_cache

from handrail.rules.model import RuleInputError, Source
from handrail.rules.tables import FeeScheduleTables, Release


@dataclass(frozen=True, slots=True)
class ConversionFactor:
    start: date
    end: date  # inclusive
    amount: Decimal
    qp: bool | None  # True: qualifying APM participants only; False: everyone else; None: all
    label: str
    source: Source


_SEC_2024 = "CY2024 PFS final rule Table 116, as quoted by paltc.org, asco.org and others"
CONVERSION_FACTORS: tuple[ConversionFactor, ...] = (
    ConversionFactor(
        date(2023, 1, 1),
        date(2023, 12, 31),
        Decimal("33.8872"),
        None,
        "CY2023",
        Source(_SEC_2024, verified=False),
    ),
    # CY2024 had two factors: the Consolidated Appropriations Act, 2024 raised it from 9 March.
    ConversionFactor(
        date(2024, 1, 1),
        date(2024, 3, 8),
        Decimal("32.7442"),
        None,
        "CY2024 (1 Jan-8 Mar)",
        Source(_SEC_2024, verified=False),
    ),
    ConversionFactor(
        date(2024, 3, 9),
        date(2024, 12, 31),
        Decimal("33.2875"),
        None,
        "CY2024 (9 Mar-31 Dec)",
        Source("Consolidated Appropriations Act, 2024 (+1.68%), as quoted by MACs", False),
    ),
    ConversionFactor(
        date(2025, 1, 1),
        date(2025, 12, 31),
        Decimal("32.3465"),
        None,
        "CY2025",
        Source("CMS PFS RVU25D (PPRRVU2025_Oct, CONV FACTOR column)"),
    ),
    ConversionFactor(
        date(2026, 1, 1),
        date(2026, 12, 31),
        Decimal("33.4009"),
        False,
        "CY2026 non-qualifying APM",
        Source("CMS PFS RVU26C (PPRRVU2026_Jul_nonQPP, CONV FACTOR column)"),
    ),
    ConversionFactor(
        date(2026, 1, 1),
        date(2026, 12, 31),
        Decimal("33.5675"),
        True,
        "CY2026 qualifying APM participant",
        Source("CY2026 PFS final rule, as quoted by pbn.decisionhealth.com and others", False),
    ),
)


# Separate factors for qualifying APM participants start with CY2026 (MACRA; CY2026 PFS final
# rule, reference §1): before it one factor applies to everyone, so `qp` changes nothing.
QP_FACTORS_FROM = 2026


def conversion_factor(
    on: date, *, qp: bool = False, fees: FeeScheduleTables | None = None
) -> ConversionFactor:
    """The factor in force on `on`; `qp` picks the qualifying-APM factor where one exists.

    Handrail's table (each factor with its source) answers first. For any other date, earlier
    or later, the CONV FACTOR column of the year's imported PPRRVU file answers (a QPP file
    for `qp` from CY2026): a clinic prices another year by importing its fee schedule.
    """
    qp = qp and on.year >= QP_FACTORS_FROM
    for factor in CONVERSION_FACTORS:
        if factor.start <= on <= factor.end and factor.qp in (None, qp):
            return factor
    if fees is not None:
        found = fees.conversion_factor_in_file(on, qp)
        if found is not None:
            return _factor_from_file(on.year, qp, *found)
    known = f"CY{CONVERSION_FACTORS[0].start.year}-CY{CONVERSION_FACTORS[-1].end.year}"
    file_hint = "qualifying APM (QPP) " if qp else ""
    raise RuleInputError(
        "date",
        f"no Medicare conversion factor is loaded for {on.isoformat()} (Handrail ships "
        f"{known}); import the CY{on.year} {file_hint}PPRRVU file with "
        "`handrail data import pfs FILE`: its CONV FACTOR column gives it",
    )


@lru_cache(maxsize=64)
def _factor_from_file(year: int, qp: bool, amount: Decimal, release: Release) -> ConversionFactor:
    if year < QP_FACTORS_FROM:
        kind = ""
    else:
        kind = " qualifying APM participant" if qp else " non-qualifying APM"
    return ConversionFactor(
        date(year, 1, 1),
        date(year, 12, 31),
        amount,
        qp,
        f"CY{year}{kind} (from {release.label})",
        Source(f"CMS PFS {release.label} (CONV FACTOR column)", verified=release.source.verified),
    )

"""Medicare physician fee schedule payment: RVUs x GPCIs x conversion factor, per unit.

Sources:
- Payment formula: CMS PFS relative value file documentation (RVU25D): amount =
  [(work RVU x work GPCI) + (PE RVU x PE GPCI) + (MP RVU x MP GPCI)] x CF.
- Outpatient therapy is paid at the non-facility rate in all settings (Pub 100-04 ch.5 §10;
  the "always therapy" codes carry facility pricing "NA" in the PPRRVU files).
- Therapy MPPR: full payment for the unit with the highest PE, 50% of the PE part for every
  other "always therapy" unit of the patient's day, same or different code (CMS Therapy
  Services page; NGS/Novitas; ATRA 2012 since 2013-04-01). Ties go to the higher total fee.
- PTA/OTA services (CQ/CO) are paid at 85% from 2022-01-01 (SSA §1834(v)).
- Medicare pays 80% after the Part B deductible; the patient's coinsurance is 20%
  (Pub 100-04 ch.5). The deductible itself is not estimated here.
Whether MACs round before or after the MPPR and CQ/CO reductions is not documented: we round
each unit to the cent after applying both [unverified].
"""

from __future__ import annotations

import re
import weakref
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache
from typing import Any

from handrail.rules.conversion import ConversionFactor
from handrail.rules.fee_status import not_paid_reason
from handrail.rules.model import Explanation, RuleInputError, Source
from handrail.rules.tables import FeeScheduleTables, GpciRow, RvuRow

CENT = Decimal("0.01")
ONE = Decimal("1")
HALF = Decimal("0.5")
ASSISTANT_SHARE = Decimal("0.85")
COINSURANCE_SHARE = Decimal("0.20")
ASSISTANT_REDUCTION_FROM = date(2022, 1, 1)
SOURCE_FORMULA = Source("CMS PFS relative value file documentation (RVU25D), payment formula")
SOURCE_MPPR = Source(
    "CMS Therapy Services page: therapy MPPR, 50% of PE after the highest-PE unit"
)
SOURCE_ASSISTANT_PAY = Source("SSA §1834(v); CMS Therapy Services page: CQ/CO lines paid at 85%")
SOURCE_ROUNDING = Source(
    "Handrail: each unit rounded to the cent after MPPR and CQ/CO reductions", verified=False
)
SOURCE_ZIP_PLUS_FOUR = Source(
    "CMS ZIP code to carrier locality file layout (ZIP5lyout.txt): plus-four flag; "
    "such ZIPs are priced from the ZIP9 file"
)
SOURCE_COINSURANCE = Source("CMS Pub 100-04 ch.5: Medicare pays 80%, coinsurance 20%")


def money(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


@dataclass(frozen=True, slots=True)
class PricingLocality:
    key: str  # "01182-18" or "national"
    name: str
    work: Decimal
    pe: Decimal
    mp: Decimal
    source: str  # release label(s) behind the locality
    zip5: str | None = None
    # Set when a locality was asked for but cannot be priced (no GPCIs for the year, or a ZIP
    # the ZIP-to-locality table lacks): priced nationally.
    missing_data: str = ""  # what is missing
    missing_fix: str = ""  # how to load it
    # Set when the ZIP spans localities (CMS prices it by ZIP+4, which Handrail does not load):
    # the locality of the ZIP5 row was used.
    zip_spans_localities: bool = False

    @property
    def zip_spans_note(self) -> str:
        """The first words of what to say when `zip_spans_localities`."""
        return (
            f"ZIP {self.zip5} lies in more than one Medicare locality (CMS prices it by "
            f"ZIP+4); priced in {self.key}"
        )

    @classmethod
    def national(
        cls, missing: tuple[str, str] = ("", ""), why: str = "no locality data loaded"
    ) -> PricingLocality:
        what, fix = missing
        source = "national" + (f" ({why})" if what else "")
        name = "National (all GPCIs 1.000)"
        return cls("national", name, ONE, ONE, ONE, source, None, what, fix)

    @classmethod
    def from_gpci(
        cls, row: GpciRow, *, zip5: str | None = None, via: str = "", spans: bool = False
    ) -> PricingLocality:
        label = row.release.label + (f"; {via}" if via else "")
        name = f"{row.name.title()} ({row.state})"
        return cls(
            row.key, name, row.work, row.pe, row.mp, label, zip5, zip_spans_localities=spans
        )


# (the answer, the GPCI and ZIP releases it was made from: kept alive while it is cached)
_LocalityEntry = tuple[PricingLocality, object, object]
_LOCALITY_CACHE: weakref.WeakKeyDictionary[Any, dict[tuple[Any, ...], _LocalityEntry]] = (
    weakref.WeakKeyDictionary()
)


def resolve_locality(
    fees: FeeScheduleTables, on: date, *, locality: str | None, zip5: str | None
) -> PricingLocality:
    """The GPCIs to price with: a MAC-locality, a ZIP code's locality, or national."""
    last_fees, last_cache = _LAST_LOCALITY_CACHE
    cache: dict[tuple[Any, ...], _LocalityEntry] = last_cache
    if last_fees() is not fees:  # a batch asks with one provider: skip the weak-key lookup
        try:
            cache = _LOCALITY_CACHE.setdefault(fees, {})
        except TypeError:  # a table provider that cannot be weakly referenced: no caching
            return _resolve_locality(fees, on, locality=locality, zip5=zip5)
        _LAST_LOCALITY_CACHE[:] = [weakref.ref(fees), cache]
    # The answer depends on the date only through the year (which GPCI file must be loaded,
    # named in messages) and the two releases in force; keyed so, a year of visits at one ZIP
    # shares one entry. The entry keeps the releases alive, so their ids are not reused.
    gpci, zip_release = fees.locality_releases(on)
    key = (on.year, id(gpci), id(zip_release), locality, zip5)
    found = cache.get(key)
    if found is None:
        place = _resolve_locality(fees, on, locality=locality, zip5=zip5)
        # One object per distinct locality value, so caches further down (price_lines) can
        # key on its identity.
        place = _CANONICAL_LOCALITIES.setdefault(place, place)
        if len(cache) >= MAX_CACHED_LOCALITIES:
            cache.clear()
        found = cache[key] = (place, gpci, zip_release)
    return found[0]


# Made-up ZIPs and localities in input answer with errors, not entries; this bounds the
# valid ones (about 43,000 ZIPs and 109 localities per year).
MAX_CACHED_LOCALITIES = 100_000
_CANONICAL_LOCALITIES: dict[PricingLocality, PricingLocality] = {}
# The provider asked last (weakly held) and its cache.
_LAST_LOCALITY_CACHE: list[Any] = [lambda: None, {}]


def _loaded(fees: FeeScheduleTables, kind: str, on: date) -> bool:
    """Whether any table of `kind` is loaded (GPCIs: for the year of `on`).

    Handrail ships the CY2025 and CY2026 GPCIs and the latest ZIP-to-locality file; another
    year's GPCIs are the clinic's to import, so their absence is not an input error.
    """
    return any(
        release.kind == kind and (kind != "gpci" or release.effective_from.year == on.year)
        for release in fees.releases()
    )


def _missing_locality_data(
    fees: FeeScheduleTables, on: date, zip5: str | None
) -> tuple[str, str] | None:
    """(what is missing, how to load it), or None when the locality can be priced."""
    if zip5 and not _loaded(fees, "zip5", on):
        return (
            "no ZIP-to-locality file is loaded",
            "Import the CMS ZIP5 file with `handrail data import zip5 FILE` and the year's "
            "GPCI file with `handrail data import gpci FILE`",
        )
    if not _loaded(fees, "gpci", on):
        return (
            f"no GPCI file is loaded for {on.year}",
            f"Import the CMS {on.year} GPCI file (Addendum E) with "
            "`handrail data import gpci FILE`",
        )
    return None


# A ZIP code is 5 digits; a Medicare payment locality is written MAC-LOC as in the GPCI file
# (5-digit MAC number, 2-digit locality number).
ZIP_SHAPE = re.compile(r"\d{5}")
LOCALITY_SHAPE = re.compile(r"\d{5}-\d{2}")
LOCALITY_EXAMPLE = "13202-01 (Manhattan)"


def check_zip(zip5: str, field: str = "zip") -> str:
    """`zip5` without surrounding blanks, or a RuleInputError naming `field`."""
    text = zip5.strip()
    if not ZIP_SHAPE.fullmatch(text):
        raise RuleInputError(field, f"{zip5!r} is not a ZIP code; give 5 digits, e.g. 10001")
    return text


def check_locality(locality: str, field: str = "locality") -> str:
    """`locality` without surrounding blanks, or a RuleInputError naming `field`."""
    text = locality.strip()
    if not LOCALITY_SHAPE.fullmatch(text):
        raise RuleInputError(
            field,
            f"{locality!r} is not a Medicare locality; write MAC-LOC as in the GPCI file "
            f"(5-digit MAC, 2-digit locality), e.g. {LOCALITY_EXAMPLE}",
        )
    return text


def _resolve_locality(
    fees: FeeScheduleTables, on: date, *, locality: str | None, zip5: str | None
) -> PricingLocality:
    zip5 = None if zip5 is None else check_zip(zip5)
    locality = None if locality is None else check_locality(locality)
    if zip5 or locality:
        missing = _missing_locality_data(fees, on, zip5)
        if missing is not None:
            return PricingLocality.national(missing)
    if zip5:
        found = fees.locality_for_zip(zip5, on)
        if found is None:
            # A well-formed ZIP the table lacks (new, or mistyped): national, with a warning,
            # so one address does not stop the visit from being priced.
            _, table = fees.locality_releases(on)
            label = "" if table is None else f" {table.label}"
            return PricingLocality.national(
                (
                    f"ZIP {zip5} is not in the ZIP-to-locality table{label}",
                    "Check the ZIP; if it is right, give its Medicare locality as MAC-LOC "
                    f"(e.g. {LOCALITY_EXAMPLE}) or import a newer CMS ZIP5 file with "
                    "`handrail data import zip5 FILE`",
                ),
                why="ZIP not in the ZIP-to-locality table",
            )
        row = fees.gpci(found.mac, found.locality, on)
        if row is None:
            raise RuleInputError(
                "zip", f"ZIP {zip5} maps to {found.mac}-{found.locality}, which has no GPCIs"
            )
        return PricingLocality.from_gpci(
            row, zip5=zip5, via=found.release.label, spans=found.plus_four
        )
    if locality:
        mac, _, number = locality.partition("-")
        row = fees.gpci(mac, number, on)
        if row is None:
            gpci, _ = fees.locality_releases(on)
            where = f"the {on.year} GPCI file" if gpci is None else gpci.label
            raise RuleInputError(
                "locality",
                f"no Medicare locality {locality} in {where}; write MAC-LOC as in the GPCI "
                f"file, e.g. {LOCALITY_EXAMPLE}",
            )
        return PricingLocality.from_gpci(row)
    return PricingLocality.national()


def rvu_for(fees: FeeScheduleTables, code: str, on: date) -> RvuRow:
    row = fees.rvu(code, on)
    if row is None:
        raise RuleInputError(
            "date",
            f"no fee schedule with {code} is loaded for {on.year}; import that year's CMS "
            "PPRRVU file with `handrail data import pfs FILE`",
        )
    return row


def pe_rvu(row: RvuRow, facility: bool) -> tuple[Decimal, bool]:
    """The PE RVU to use, and whether the facility rate was used."""
    if facility and not row.facility_na:
        return row.pe_facility, True
    return row.pe_nonfacility, False


def unit_amount(
    row: RvuRow,
    place: PricingLocality,
    factor: ConversionFactor,
    *,
    facility: bool,
    pe_share: Decimal = ONE,
    pay_share: Decimal = ONE,
) -> Decimal:
    """One unit's payment, rounded to the cent."""
    pe, _ = pe_rvu(row, facility)
    key = (
        row.work,
        pe,
        row.mp,
        place.work,
        place.pe,
        place.mp,
        factor.amount,
        pe_share,
        pay_share,
    )
    amount = _UNIT_AMOUNTS.get(key)
    if amount is None:
        raw = row.work * place.work + pe * place.pe * pe_share + row.mp * place.mp
        amount = _UNIT_AMOUNTS[key] = money(raw * factor.amount * pay_share)
    return amount


# Keyed by every value the amount depends on, so it can never serve a stale figure.
_UNIT_AMOUNTS: dict[tuple[Decimal, ...], Decimal] = {}


@dataclass(frozen=True, slots=True)
class LineToPrice:
    code: str
    units: int
    assistant: bool  # a CQ/CO line


@dataclass(frozen=True, slots=True)
class PricedLine:
    code: str
    units: int
    assistant: bool
    unit_amounts: tuple[Decimal, ...]
    status: str
    release: str
    amount: Decimal = field(init=False, compare=False)  # sum of unit_amounts

    def __post_init__(self) -> None:
        # Computed once: the line is frozen, and the total is read several times per visit.
        object.__setattr__(self, "amount", sum(self.unit_amounts, Decimal("0")))


def price_lines(
    lines: Sequence[LineToPrice],
    *,
    on: date,
    fees: FeeScheduleTables,
    place: PricingLocality,
    factor: ConversionFactor,
    facility: bool,
    medicare_reductions: bool,
    explanation: Explanation,
    same_day: Sequence[LineToPrice] = (),
) -> list[PricedLine]:
    """Price every unit of the visit's claim lines, with MPPR and CQ/CO reductions if Medicare.

    `same_day` are the patient's lines from other visits that day: the therapy MPPR pays one
    full-PE unit per patient per day, so they compete for it (and keep it on a tie, having
    been billed first) but are not priced here.
    """
    rows = [rvu_for(fees, line.code, on) for line in lines]
    assistant_cut = medicare_reductions and on >= ASSISTANT_REDUCTION_FROM
    shares = [ASSISTANT_SHARE if line.assistant and assistant_cut else ONE for line in lines]
    full_unit = _mppr_full_unit(lines, rows, place, factor, facility, shares, medicare_reductions)
    elsewhere = None
    if full_unit is not None and same_day:
        elsewhere = _same_day_full_unit(
            full_unit, lines, rows, same_day, on, fees, place, factor, facility, assistant_cut
        )
    priced = []
    for index, (line, row) in enumerate(zip(lines, rows, strict=True)):
        if not medicare_reductions or not row.always_therapy or full_unit is None:
            mode = _FULL_PE
        elif elsewhere is None and index == full_unit[0]:
            mode = _FIRST_UNIT_FULL_PE
        else:
            mode = _HALF_PE
        one, story = _priced_line(line, row, place, factor, facility, shares[index], mode)
        priced.append(one)
        explanation.steps.append(story)
    if elsewhere is not None:
        explanation.steps.append(_mppr_elsewhere_story(elsewhere))
    elif medicare_reductions and full_unit is not None:
        explanation.steps.append(_mppr_story(lines[full_unit[0]].code))
    if full_unit is not None or any(share != ONE for share in shares):
        explanation.steps.append(_ROUNDING_STORY)
    return priced


def _same_day_full_unit(
    here: tuple[int, int],
    lines: Sequence[LineToPrice],
    rows: Sequence[RvuRow],
    same_day: Sequence[LineToPrice],
    on: date,
    fees: FeeScheduleTables,
    place: PricingLocality,
    factor: ConversionFactor,
    facility: bool,
    assistant_cut: bool,
) -> str | None:
    """The code of another visit's line that takes the day's full-PE unit, or None if this
    visit's best unit keeps it. Ranked like _mppr_full_unit (PE, then the full fee, then the
    first billed); a tie goes to the other visit, billed first."""
    index = here[0]
    share = ASSISTANT_SHARE if lines[index].assistant and assistant_cut else ONE
    ours = _pe_and_full_fee(rows[index], place, factor, facility, share)
    best: tuple[Decimal, Decimal] | None = None
    best_code = None
    for other in same_day:
        row = rvu_for(fees, other.code, on)
        if not row.always_therapy or other.units <= 0 or not_paid_reason(row.status):
            continue
        other_share = ASSISTANT_SHARE if other.assistant and assistant_cut else ONE
        rank = _pe_and_full_fee(row, place, factor, facility, other_share)
        if best is None or rank > best:
            best, best_code = rank, other.code
    return best_code if best is not None and best >= ours else None


@lru_cache(maxsize=256)
def _mppr_elsewhere_story(code: str) -> str:
    return (
        f"MPPR: {code}, billed in another visit the same day, has the highest practice "
        "expense and keeps the day's one full-PE unit; every 'always therapy' unit of this "
        f"visit is paid with 50% of its practice expense ({SOURCE_MPPR.label()})"
    )


# Said whenever a reduction changed a unit's amount: the order of rounding is ours to choose.
_ROUNDING_STORY = (
    "Rounding: each unit is priced in full precision, reduced (MPPR, CQ/CO), then rounded to "
    f"the cent; CMS does not publish this order, so a cent may differ ({SOURCE_ROUNDING.label()})"
)


# How the therapy MPPR treats the PE of a line's units (see _pe_share).
_FULL_PE = 0  # every unit at full PE
_FIRST_UNIT_FULL_PE = 1  # the day's full-PE unit is this line's first; the rest at 50%
_HALF_PE = 2  # every unit at 50% PE


def _priced_line(
    line: LineToPrice,
    row: RvuRow,
    place: PricingLocality,
    factor: ConversionFactor,
    facility: bool,
    share: Decimal,
    mode: int,
) -> tuple[PricedLine, str]:
    """One priced line and its explanation step, cached.

    Both depend only on the line, the row, the locality, the factor, the facility flag, the
    CQ/CO share and the MPPR mode. Rows, localities and factors are frozen and served as one
    object per value (a release's row, a canonical locality, a constant factor), so they are
    keyed by identity; the entry keeps them alive, so no identity is reused while it exists.
    """
    key: tuple[Any, ...] = (line.code, line.units, line.assistant, id(row), id(place))
    key += (id(factor), facility, share, mode)
    found = _PRICED_LINES.get(key)
    if found is None:
        if not_paid_reason(row.status):
            amounts = tuple(Decimal("0.00") for _ in range(line.units))
        else:
            amounts = tuple(
                unit_amount(
                    row,
                    place,
                    factor,
                    facility=facility,
                    pe_share=_unit_pe_share(mode, unit),
                    pay_share=share,
                )
                for unit in range(line.units)
            )
        one = PricedLine(
            line.code, line.units, line.assistant, amounts, row.status, row.release.label
        )
        story = _line_story(line, row, amounts, place, factor, facility, share)
        if len(_PRICED_LINES) >= MAX_PRICED_LINES:
            _PRICED_LINES.clear()
        found = _PRICED_LINES[key] = (one, story, (row, place, factor))
    return found[0], found[1]


def _unit_pe_share(mode: int, unit: int) -> Decimal:
    if mode == _FULL_PE or (mode == _FIRST_UNIT_FULL_PE and unit == 0):
        return ONE
    return HALF


MAX_PRICED_LINES = 100_000  # bounds memory on odd input; real days repeat far fewer
_PRICED_LINES: dict[tuple[Any, ...], tuple[PricedLine, str, Any]] = {}


@lru_cache(maxsize=256)
def _mppr_story(code: str) -> str:
    return (
        f"MPPR: {code} has the highest practice expense and is paid in full once; every "
        "other 'always therapy' unit of the day is paid with 50% of its practice expense"
        f" ({SOURCE_MPPR.label()})"
    )


def _mppr_full_unit(
    lines: Sequence[LineToPrice],
    rows: Sequence[RvuRow],
    place: PricingLocality,
    factor: ConversionFactor,
    facility: bool,
    shares: Sequence[Decimal],
    reductions: bool,
) -> tuple[int, int] | None:
    """(line, unit) paid in full: highest PE RVU, ties to the higher total fee, then first."""
    if not reductions:
        return None
    best: tuple[Decimal, Decimal, int] | None = None
    for index, (line, row) in enumerate(zip(lines, rows, strict=True)):
        if row.always_therapy and line.units > 0 and not not_paid_reason(row.status):
            pe, fee = _pe_and_full_fee(row, place, factor, facility, shares[index])
            rank = (pe, fee, -index)
            if best is None or rank > best:
                best = rank
    return None if best is None else (-best[2], 0)


def _pe_and_full_fee(
    row: RvuRow, place: PricingLocality, factor: ConversionFactor, facility: bool, share: Decimal
) -> tuple[Decimal, Decimal]:
    """A unit's PE RVU and full fee, cached by the identity of the frozen row, locality and
    factor (kept alive by the entry, so no identity is reused while it exists)."""
    key = (id(row), id(place), id(factor), facility, share)
    found = _FULL_FEES.get(key)
    if found is None:
        pe = pe_rvu(row, facility)[0]
        fee = unit_amount(row, place, factor, facility=facility, pay_share=share)
        if len(_FULL_FEES) >= MAX_PRICED_LINES:
            _FULL_FEES.clear()
        found = _FULL_FEES[key] = (pe, fee, (row, place, factor))
    return found[0], found[1]


_FULL_FEES: dict[tuple[Any, ...], tuple[Decimal, Decimal, Any]] = {}


def _line_story(
    line: LineToPrice,
    row: RvuRow,
    amounts: Sequence[Decimal],
    place: PricingLocality,
    factor: ConversionFactor,
    facility: bool,
    share: Decimal,
) -> str:
    if reason := not_paid_reason(row.status):
        return f"{line.code}: status {row.status} in {row.release.label} ({reason}): paid $0.00"
    pe, used_facility = pe_rvu(row, facility)
    rate = "facility" if used_facility else "non-facility"
    cut = f" x 85% (assistant: {SOURCE_ASSISTANT_PAY.label()})" if share != ONE else ""
    listed = " + ".join(f"${amount}" for amount in amounts) or "$0.00"
    return (
        f"{line.code}{' CQ/CO' if line.assistant else ''}: ({row.work} work x {place.work} + "
        f"{pe} {rate} PE x {place.pe} + {row.mp} MP x {place.mp}) x CF {factor.amount}{cut}"
        f" per unit: {listed} = ${sum(amounts, Decimal('0')):.2f} ({row.release.label}, "
        f"{factor.label}, {place.key})"
    )


def coinsurance(allowed: Decimal) -> Decimal:
    return money(allowed * COINSURANCE_SHARE)

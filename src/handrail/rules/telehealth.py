"""Telehealth: place of service, the PT/OT/SLP telehealth window and the dated list of
therapy codes Medicare pays by telehealth.

Sources: CMS POS codes 02 (telehealth other than the patient's home) and 10 (telehealth in the
patient's home; paid at the non-facility rate from 2024); PT/OT/SLP may furnish Medicare
telehealth under the statutory waiver from the PHE (2020-03-01) through 2027-12-31
(Consolidated Appropriations Act, 2026 §6209, retroactive over the Oct-Nov 2025 lapse).

# Medicare Telehealth Services List (42 CFR 410.78(f); changed by each year's PFS rule)
A service is paid by telehealth only while its code is on the list for the date of service.
`TELEHEALTH_LIST` holds the therapy codes of Handrail's catalog as dated rows, each with its
source. What is verified and what is not (reference: medicare-therapy-billing.md §9, §10):
- PT codes 97161-97164, 97110, 97112, 97116, 97150, 97530, 97535, 97542, 97750, 97755,
  97760, 97761 were added from 2020-03-01 for the PHE, which ended 2023-05-11 (APTA,
  2020-04-30). That they stayed on the list after it is not confirmed: unverified.
- OT evaluations 97165-97168 and the SLP treatment codes 92507 and 92526 are on the PHE list
  from 2020-03-01 in secondary copies of the CMS list only: unverified.
- Caregiver training 97550-97552: not on the list in 2024 (their first year); added
  provisionally for 2025 (CY2025 PFS final rule, per two secondary sources); 2026 status
  unverified.
- Codes without a row (manual therapy 97140, the modalities, 97533, 97537, 97763, G0283)
  were never on the list as far as Handrail's sources show: unverified.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from handrail.rules.model import Source
from handrail.rules.visit_record import Telehealth

SOURCE_POS = Source("CMS place of service code set (02, 10, 11, 22)")
SOURCE_WINDOW = Source("Consolidated Appropriations Act, 2026 §6209; CMS Therapy Services page")
PLACE_NAMES = {
    "02": "telehealth, not in the patient's home",
    "10": "telehealth in the patient's home",
    "11": "office",
    "22": "on-campus outpatient hospital",
}
WINDOW_START = date(2020, 3, 1)
WINDOW_END = date(2027, 12, 31)


def place_of_service(telehealth: Telehealth | None, facility: bool) -> str:
    if telehealth == "home":
        return "10"
    if telehealth == "other":
        return "02"
    return "22" if facility else "11"


def therapist_telehealth_allowed(on: date) -> bool:
    return WINDOW_START <= on <= WINDOW_END


@dataclass(frozen=True, slots=True)
class TelehealthListing:
    """A period during which `code` is on the Medicare Telehealth Services List."""

    code: str
    effective_from: date
    effective_to: date | None  # inclusive; None while no end is known
    source: Source

    def covers(self, on: date) -> bool:
        return self.effective_from <= on and (self.effective_to is None or on <= self.effective_to)

    def period(self) -> str:
        end = self.effective_to.isoformat() if self.effective_to else "onward"
        return f"{self.effective_from.isoformat()}..{end}"


PHE_START = WINDOW_START
PHE_END = date(2023, 5, 11)
SOURCE_PHE_PT_CODES = Source(
    "CMS telehealth list PHE additions from 2020-03-01 (APTA, 2020-04-30: PT codes eligible "
    "for telehealth for the duration of the PHE)"
)
SOURCE_PT_CODES_LATER = Source(
    "CMS List of Telehealth Services: PT/OT codes kept on the list after the PHE",
    verified=False,
    note="on the list for the PHE; whether it stayed on the list after 2023-05-11 is unverified",
)
SOURCE_OT_SLP_CODES = Source(
    "CMS telehealth list PHE additions from 2020-03-01 (secondary copies of the CMS list)",
    verified=False,
)
SOURCE_CAREGIVER_2025 = Source(
    "CY2025 PFS final rule: 97550-97552 added provisionally to the Medicare Telehealth "
    "Services List (givershealth.com, outsourcemanagementgroup.com); not on the 2024 list"
)
SOURCE_CAREGIVER_2026 = Source(
    "CY2025 PFS final rule: 97550-97552 provisional telehealth codes", verified=False
)
SOURCE_NOT_LISTED = Source(
    "CMS List of Telehealth Services: the code is not among the therapy codes Handrail's "
    "sources show on the list",
    verified=False,
)
PT_CODES_FROM_PHE = (
    "97110",
    "97112",
    "97116",
    "97150",
    "97161",
    "97162",
    "97163",
    "97164",
    "97530",
    "97535",
    "97542",
    "97750",
    "97755",
    "97760",
    "97761",
)
OT_SLP_CODES_FROM_PHE = ("97165", "97166", "97167", "97168", "92507", "92526")
CAREGIVER_CODES = ("97550", "97551", "97552")

TELEHEALTH_LIST: tuple[TelehealthListing, ...] = (
    *(
        TelehealthListing(code, PHE_START, PHE_END, SOURCE_PHE_PT_CODES)
        for code in PT_CODES_FROM_PHE
    ),
    *(
        TelehealthListing(code, PHE_END + timedelta(days=1), None, SOURCE_PT_CODES_LATER)
        for code in PT_CODES_FROM_PHE
    ),
    *(
        TelehealthListing(code, PHE_START, None, SOURCE_OT_SLP_CODES)
        for code in OT_SLP_CODES_FROM_PHE
    ),
    *(
        TelehealthListing(code, date(2025, 1, 1), date(2025, 12, 31), SOURCE_CAREGIVER_2025)
        for code in CAREGIVER_CODES
    ),
    *(
        TelehealthListing(code, date(2026, 1, 1), None, SOURCE_CAREGIVER_2026)
        for code in CAREGIVER_CODES
    ),
)
_BY_CODE: dict[str, tuple[TelehealthListing, ...]] = {}
for _row in TELEHEALTH_LIST:
    _BY_CODE[_row.code] = (*_BY_CODE.get(_row.code, ()), _row)


def listings(code: str) -> tuple[TelehealthListing, ...]:
    """Every period `code` is on the list, earliest first (empty: never listed)."""
    return _BY_CODE.get(code, ())


def listing_on(code: str, on: date) -> TelehealthListing | None:
    """The row that puts `code` on the telehealth list on `on`, or None."""
    for row in _BY_CODE.get(code, ()):
        if row.covers(on):
            return row
    return None


# Modifier 95 on therapy telehealth lines (CY2024 PFS final rule pp. 78874-78876); the
# reference found no CMS text that continues it for 2025/2026, so from 2025 it is unverified.
SOURCE_MODIFIER_95 = Source("CY2024 PFS final rule pp. 78874-78876: 95 on therapy telehealth")
SOURCE_MODIFIER_95_LATER = Source(
    "CY2024 PFS final rule pp. 78874-78876: 95 on therapy telehealth; continued for 2025/2026",
    verified=False,
)
MODIFIER_95_VERIFIED_THROUGH = date(2024, 12, 31)


def modifier_95_source(on: date) -> Source:
    return SOURCE_MODIFIER_95 if on <= MODIFIER_95_VERIFIED_THROUGH else SOURCE_MODIFIER_95_LATER

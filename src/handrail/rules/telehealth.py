"""Telehealth place of service and the PT/OT/SLP telehealth window for Medicare.

Sources: CMS POS codes 02 (telehealth other than the patient's home) and 10 (telehealth in the
patient's home; paid at the non-facility rate from 2024); PT/OT/SLP may furnish Medicare
telehealth under the statutory waiver from the PHE (2020-03-01) through 2027-12-31
(Consolidated Appropriations Act, 2026 §6209, retroactive over the Oct-Nov 2025 lapse).
"""

from __future__ import annotations

from datetime import date

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

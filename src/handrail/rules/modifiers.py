"""Line modifiers: discipline (GP/GO/GN), CQ/CO, 59/X, 95 and KX, in claim order.

Sources: CMS Pub 100-04 ch.5 §20.1 (GP/GO/GN on every line of a therapy plan of care; CQ/CO);
NCCI (59/XE/XS/XP/XU on the column-2 code of a pair with modifier indicator 1); CY2024 PFS
final rule (95 on outpatient therapy furnished via telehealth; its sources are in
telehealth.py, unverified from 2025); BBA 2018 §50202 (KX above the
therapy threshold with medical necessity documented). The 837P carries at most four modifiers
per line (X12 005010X222A1 SV101-3..6).
"""

from __future__ import annotations

from functools import lru_cache

from handrail.rules.catalog import Discipline
from handrail.rules.model import Source

DISCIPLINE_MODIFIERS: dict[Discipline, str] = {"PT": "GP", "OT": "GO", "SLP": "GN"}
SOURCE_DISCIPLINE = Source("CMS Pub 100-04 ch.5 §20.1 (GP/GO/GN)")
# 95 as CY2024 introduced it; by date of service use telehealth.modifier_95_source (2025 on:
# unverified).
SOURCE_TELEHEALTH = Source("CY2024 PFS final rule pp. 78874-78876: 95 on therapy telehealth")
SOURCE_KX = Source("BBA 2018 §50202; CMS Therapy Services page (KX modifier)")
MAX_MODIFIERS_ON_837P = 4


@lru_cache(maxsize=1024)  # a pure function of a few flags: one answer per combination
def line_modifiers(
    *,
    discipline: Discipline,
    assistant_modifier: str | None,
    distinct_modifier: str | None,
    telehealth: bool,
    kx: bool,
) -> tuple[str, ...]:
    """Modifiers of one claim line: payment-affecting ones before informational ones."""
    modifiers = [DISCIPLINE_MODIFIERS[discipline]]
    if assistant_modifier:
        modifiers.append(assistant_modifier)
    if distinct_modifier:
        modifiers.append(distinct_modifier)
    if telehealth:
        modifiers.append("95")
    if kx:
        modifiers.append("KX")
    return tuple(modifiers)

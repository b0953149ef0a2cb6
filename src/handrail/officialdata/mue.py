"""Importer of medically unlikely edits (MUEs) for practitioner services.

Sources: CMS NCCI MUE tables, Medicare practitioner file
`MCR_MUE_PractitionerServices_Eff_MM-DD-YYYY.csv` (columns HCPCS/CPT Code, Practitioner
Services MUE Values, MUE Adjudication Indicator such as "3 Date of Service Edit: Clinical",
MUE Rationale; copyright notice rows come first). Also reads the derived CSV shipped with
Handrail (hcpcs, mue_value, mue_rationale, note), which is marked unverified.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date
from pathlib import Path

from handrail.officialdata.errors import OfficialDataError
from handrail.officialdata.files import (
    REDOWNLOAD,
    Parsed,
    ParsedMeta,
    Row,
    check_width,
    code_field,
    csv_rows,
    data_section,
    display_name,
    is_blank,
    open_text,
    quarter_in,
    quarter_label,
    quarter_start,
    wrong_format,
)

HEADER_SEARCH_ROWS = 30
EXPECTED = "CMS practitioner MUE file (MCR_MUE_PractitionerServices_Eff_*.csv)"
_EFFECTIVE_IN_NAME = re.compile(r"EFF[-_ ]?(\d{2})[-_](\d{2})[-_](\d{4})", re.IGNORECASE)
_MAI = re.compile(r"\s*([123])(?!\d)")
DERIVED_HEADER = ["HCPCS", "MUE_VALUE", "MUE_RATIONALE", "NOTE"]
DERIVED_NOTE = (
    "LOW CONFIDENCE: derived from the CMS Medicaid NCCI practitioner MUE file via a"
    " third-party JSON; MUE adjudication indicator (MAI) unknown; Medicare values may differ"
)


def _squash(text: str) -> str:
    return "".join(text.split()).upper()


def parse_mue(path: Path, *, release: str | None, effective: date | None) -> Parsed:
    name = display_name(path)
    handle = open_text(path)
    try:
        rows = csv_rows(handle, name)
        derived = False
        header_line = 0
        for count, (number, cells) in enumerate(rows, start=1):
            header_line = number
            squashed = [_squash(cell) for cell in cells]
            if squashed[:4] == DERIVED_HEADER:
                derived = True
                break
            if (
                squashed
                and squashed[0].startswith("HCPCS")
                and any("MUEVALUE" in cell for cell in squashed)
            ):
                break
            if count >= HEADER_SEARCH_ROWS:
                raise wrong_format(path, EXPECTED, "mue")
        else:
            raise wrong_format(path, EXPECTED, "mue")
        value_header = next((c for c in squashed if "MUEVALUE" in c), "")
        if not derived and "PRACTITIONER" not in value_header:
            # CMS also publishes outpatient hospital and DME supplier MUE tables: other values.
            raise OfficialDataError(
                f"this MUE table is not the practitioner services one (column {value_header!r})",
                "import the practitioner file MCR_MUE_PractitionerServices_Eff_*.csv",
                file=name,
                line=header_line,
            )
        width = len(cells)
        index = (
            {"code": 0, "value": 1, "mai": None, "rationale": 2}
            if derived
            else {
                "code": 0,
                "value": next(i for i, c in enumerate(squashed) if "MUEVALUE" in c),
                "mai": next((i for i, c in enumerate(squashed) if "ADJUDICATION" in c), None),
                "rationale": next((i for i, c in enumerate(squashed) if "RATIONALE" in c), None),
            }
        )
        meta = _release_meta(path, derived, release, effective)
    except BaseException:
        handle.close()
        raise
    return Parsed(meta, _rows(rows, index, width, name), handle)


def _release_meta(
    path: Path, derived: bool, release: str | None, effective: date | None
) -> ParsedMeta:
    start = effective
    if start is None:
        match = _EFFECTIVE_IN_NAME.search(path.name)
        if match:
            start = date(int(match.group(3)), int(match.group(1)), int(match.group(2)))
        elif (quarter := quarter_in(path.name) or quarter_in(release or "")) is not None:
            start = quarter_start(*quarter)
    if start is None:
        raise OfficialDataError(
            "the file name does not say from when the edits apply",
            "give --effective YYYY-MM-DD (and --release, e.g. 'MUE practitioner 2026Q3')",
            file=display_name(path),
        )
    medicaid = "MEDICAID" in path.name.upper()
    program = "Medicaid" if medicaid else "Medicare"
    if release:
        label = release
    elif derived:
        label = f"MUE {program} practitioner {quarter_label(start)} (derived)"
    else:
        label = f"MUE {program} practitioner {quarter_label(start)}"
    return ParsedMeta(
        kind="mue",
        label=label,
        effective_from=start,
        effective_to=None,
        citation=f"CMS NCCI {program} practitioner MUEs, release {label} ({path.name})",
        verified=not derived,
        note=DERIVED_NOTE if derived else "",
    )


def _rows(
    rows: Iterator[tuple[int, list[str]]], index: dict[str, int | None], width: int, name: str
) -> Iterator[Row]:
    data = data_section(rows, is_blank, name, unit="row", empty="a header but no MUE rows")
    for number, cells in data:
        yield _row(cells, index, width, name, number)


def _row(
    cells: list[str], index: dict[str, int | None], width: int, name: str, number: int
) -> Row:
    check_width(cells, width, file=name, line=number)

    def cell(key: str) -> str:
        position = index[key]
        return "" if position is None else cells[position].strip()

    code = code_field(cell("code"), "HCPCS/CPT Code", file=name, line=number)
    value = cell("value")
    if not value.isdigit():
        raise OfficialDataError(
            f"MUE value {value!r} is not a whole number",
            f"correct the row or {REDOWNLOAD}",
            file=name,
            line=number,
        )
    mai: int | None = None
    if index["mai"] is not None:
        match = _MAI.match(cell("mai"))
        if match is None:
            raise OfficialDataError(
                f"MUE Adjudication Indicator {cell('mai')!r} does not start with 1, 2 or 3",
                f"correct the row or {REDOWNLOAD}",
                file=name,
                line=number,
            )
        mai = int(match.group(1))
    return (code, int(value), mai, cell("rationale"))

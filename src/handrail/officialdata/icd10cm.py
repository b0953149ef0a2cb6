"""Importer of the CDC ICD-10-CM release files.

Source: CDC NCHS ICD-10-CM files, fiscal year FY (in force October 1 of FY-1 through
September 30 of FY): `icd10cm-codes-FY.txt` (billable codes: code, spaces, description) and
`icd10cm-order-FY.txt` (fixed width: order number 1-5, code 7-13, billable flag 15 (0/1),
short description 17-76, long description 78-).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date
from itertools import chain
from pathlib import Path

from handrail.officialdata.errors import OfficialDataError
from handrail.officialdata.files import (
    REDOWNLOAD,
    Parsed,
    ParsedMeta,
    Row,
    data_section,
    display_name,
    is_blank_line,
    open_text,
    text_lines,
    wrong_format,
)

# An ICD-10-CM code: a letter, two letters or digits, then up to four more characters. The second
# character is a digit in every code up to FY2025; FY2026 added the category QA0.
CODE_SHAPE = re.compile(r"[A-Z][0-9A-Z]{2}(?:[0-9A-Z]{1,4})?")
_FY_IN_NAME = re.compile(r"ICD10CM[-_ ]?(?:CODES|ORDER)[-_ ]?(\d{4})", re.IGNORECASE)
_FY_IN_LABEL = re.compile(r"FY\s*(\d{4})", re.IGNORECASE)
_ORDER = re.compile(r"(\d{5}) ([A-Z][0-9A-Z]{2,6}) *([01]) (.*)")
_CODES = re.compile(r"([A-Z][0-9A-Z]{2,6})\s+(\S.*)")
EXPECTED = "CDC ICD-10-CM codes or order file (icd10cm-codes-YYYY.txt / icd10cm-order-YYYY.txt)"


def icd_citation(label: str) -> str:
    """ "CDC ICD-10-CM FY2027" for the label "ICD-10-CM FY2027" or "FY2027"."""
    return f"CDC {label}" if label.upper().startswith("ICD-10-CM") else f"CDC ICD-10-CM {label}"


def parse_icd10cm(path: Path, *, release: str | None, effective: date | None) -> Parsed:
    name = display_name(path)
    handle = open_text(path)
    try:
        lines = text_lines(handle)
        first = next(lines, None)
        if first is None:
            raise wrong_format(path, EXPECTED, "icd10cm")
        if _ORDER.fullmatch(first[1]):
            order = True
        elif _CODES.fullmatch(first[1]):
            order = False
        else:
            raise wrong_format(path, EXPECTED, "icd10cm")
        meta = _release_meta(path, release, effective)
        meta.extra["format"] = "order" if order else "codes"
    except BaseException:
        handle.close()
        raise
    return Parsed(meta, _rows(first, lines, order, name), handle)


def _release_meta(path: Path, release: str | None, effective: date | None) -> ParsedMeta:
    match = _FY_IN_LABEL.search(release or "") or _FY_IN_NAME.search(path.name)
    if match is None:
        raise OfficialDataError(
            "neither the file name nor --release names the fiscal year",
            "give --release FY2027 (the CDC release's fiscal year)",
            file=display_name(path),
        )
    fiscal_year = int(match.group(1))
    start = date(fiscal_year - 1, 10, 1)
    end = date(fiscal_year, 9, 30)
    if effective is not None and not start <= effective <= end:
        raise OfficialDataError(
            f"--effective {effective.isoformat()} is outside FY{fiscal_year}"
            f" ({start.isoformat()} to {end.isoformat()})",
            "give a date inside the fiscal year (e.g. the April 1 update) or leave it out",
            file=display_name(path),
        )
    label = release if release and not _FY_IN_LABEL.fullmatch(release.strip()) else None
    label = label or f"ICD-10-CM FY{fiscal_year}"
    return ParsedMeta(
        kind="icd10cm",
        label=label,
        effective_from=effective or start,
        effective_to=end,
        citation=f"{icd_citation(label)} ({path.name})",
    )


def _rows(
    first: tuple[int, str], lines: Iterator[tuple[int, str]], order: bool, name: str
) -> Iterator[Row]:
    data = data_section(chain((first,), lines), is_blank_line, name, unit="line", empty="no codes")
    for number, line in data:
        yield _order_row(line, name, number) if order else _codes_row(line, name, number)


def _order_row(line: str, name: str, number: int) -> Row:
    code = line[6:13].strip()
    flag = line[14:15]
    if not line[:5].isdigit() or not CODE_SHAPE.fullmatch(code) or flag not in ("0", "1"):
        raise OfficialDataError(
            "the line is not order number (5 digits), code (columns 7-13) and billable flag"
            " 0/1 (column 15)",
            f"correct the line or {REDOWNLOAD}",
            file=name,
            line=number,
        )
    short = line[16:76].strip()
    long = line[77:].strip() or short
    if not short:
        raise OfficialDataError(
            "the line has no description",
            f"the line is cut short: {REDOWNLOAD}",
            file=name,
            line=number,
        )
    return (code, int(flag), short, long)


def _codes_row(line: str, name: str, number: int) -> Row:
    match = _CODES.fullmatch(line.rstrip())
    if match is None:
        raise OfficialDataError(
            "the line is not an ICD-10-CM code followed by its description",
            f"correct the line or {REDOWNLOAD}",
            file=name,
            line=number,
        )
    description = match.group(2).strip()
    return (match.group(1), 1, description, description)


def normalize_icd(code: str) -> tuple[str, str]:
    """(undotted, dotted) forms of an ICD-10-CM code: "i69351" -> ("I69351", "I69.351").

    Text that cannot be a code keeps its shape (stripped, upper case) so messages show it.
    """
    undotted = code.strip().upper().replace(".", "")
    if not CODE_SHAPE.fullmatch(undotted):
        return undotted, code.strip().upper()
    dotted = undotted if len(undotted) <= 3 else f"{undotted[:3]}.{undotted[3:]}"
    return undotted, dotted

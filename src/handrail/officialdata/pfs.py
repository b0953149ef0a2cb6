"""Importer of the CMS Physician Fee Schedule national relative value file (PPRRVU*.csv).

Source: CMS PFS Relative Value Files (RVUyyX bundles, record layout in RVUyyX.pdf). The
header is stacked over several rows and the layout changes between years (CY2026 added
PRIC IND, which moved CONV FACTOR one column right), so columns are found by header name.
The DESCRIPTION column (AMA CPT text) is never read.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
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
    decimal_field,
    display_name,
    is_blank,
    norm,
    open_text,
    wrong_format,
    year_end,
)

# Release letter of the quarterly files: January A, April B, July C, October D.
RELEASE_MONTHS = {"JANUARY": ("A", 1), "APRIL": ("B", 4), "JULY": ("C", 7), "OCTOBER": ("D", 10)}
_LETTER_MONTH = dict(RELEASE_MONTHS.values())
_TITLE = re.compile(
    r"(\d{4})\s+NATIONAL PHYSICIAN FEE SCHEDULE RELATIVE VALUE FILE\s+"
    r"(JANUARY|APRIL|JULY|OCTOBER)\s+RELEASE"
)
_LABEL = re.compile(r"RVU(\d{2})([A-D])", re.IGNORECASE)
# "QPP" in a file name or label marks the qualifying-APM-participant file; "nonQPP" does not.
_QPP = re.compile(r"(?<![A-Z])(NON[-_ ]?)?QPP(?![A-Z])", re.IGNORECASE)
HEADER_SEARCH_ROWS = 40

# Columns we read, by their composed header name.
COLUMNS = {
    "code": "HCPCS",
    "modifier": "MOD",
    "status": "STATUS CODE",
    "work": "WORK RVU",
    "pe_nonfacility": "NON-FAC PE RVU",
    "pe_facility": "FACILITY PE RVU",
    "facility_na": "FACILITY NA INDICATOR",
    "mp": "MP RVU",
    "pctc": "PCTC IND",
    "global_days": "GLOB DAYS",
    "mult_proc": "MULT PROC",
    "conversion_factor": "CONV FACTOR",
}
_MODIFIER = re.compile(r"[A-Z0-9]{2}")


def is_qpp(text: str) -> bool:
    return any(match.group(1) is None for match in _QPP.finditer(text))


def compose_header(block: list[list[str]], width: int) -> list[str]:
    """One unique name per column from a header stacked over several rows."""
    names: list[str] = []
    seen: Counter[str] = Counter()
    for index in range(width):
        parts = [norm(row[index]) for row in block if index < len(row) and row[index].strip()]
        name = " ".join(parts) or f"COLUMN {index + 1}"
        seen[name] += 1
        names.append(name if seen[name] == 1 else f"{name} #{seen[name]}")
    return names


def parse_pfs(path: Path, *, release: str | None, effective: date | None) -> Parsed:
    name = display_name(path)
    handle = open_text(path)
    try:
        rows = csv_rows(handle, name)
        head: list[tuple[int, list[str]]] = []
        for number, cells in rows:
            head.append((number, cells))
            if cells and norm(cells[0]) == "HCPCS":
                break
            if len(head) >= HEADER_SEARCH_ROWS:
                raise wrong_format(path, "CMS PFS relative value file (PPRRVU*.csv)", "pfs")
        else:
            raise wrong_format(path, "CMS PFS relative value file (PPRRVU*.csv)", "pfs")
        header_line, header = head[-1]
        start = len(head) - 1
        # The header block: the rows just above "HCPCS" that carry column titles (the
        # title, copyright and "RELEASED" lines only fill the first three cells).
        while start > 0 and any(cell.strip() for cell in head[start - 1][1][3:]):
            start -= 1
        width = len(header)
        names = compose_header([cells for _, cells in head[start:]], width)
        index: dict[str, int] = {}
        for key, wanted in COLUMNS.items():
            if wanted not in names:
                raise OfficialDataError(
                    f"the header has no {wanted!r} column (columns found: {', '.join(names)})",
                    f"import the PPRRVU*.csv file of a CMS RVU bundle as published; {REDOWNLOAD}",
                    file=name,
                    line=header_line,
                )
            index[key] = names.index(wanted)
        title = " ".join(norm(" ".join(cells)) for _, cells in head[:start])
        meta = _release_meta(path, title, release, effective)
    except BaseException:
        handle.close()
        raise
    return Parsed(meta, _rows(rows, index, width, meta, name), handle)


def _release_meta(
    path: Path, title: str, release: str | None, effective: date | None
) -> ParsedMeta:
    name = display_name(path)
    qp = is_qpp(path.name) or (release is not None and is_qpp(release))
    match = _TITLE.search(title)
    year: int | None = None
    month: int | None = None
    letter = ""
    if match:
        year = int(match.group(1))
        letter, month = RELEASE_MONTHS[match.group(2)]
    elif release and (label_match := _LABEL.search(release)):
        year = 2000 + int(label_match.group(1))
        letter = label_match.group(2).upper()
        month = _LETTER_MONTH[letter]
    if effective is not None:
        if year is not None and effective.year != year:
            raise OfficialDataError(
                f"--effective {effective.isoformat()} is not in the file's year {year}",
                f"give a date in {year}, or leave --effective out to use the release date",
                file=name,
            )
        year = effective.year
        start = effective
    elif year is not None and month is not None:
        start = date(year, month, 1)
    else:
        raise OfficialDataError(
            "the file has no title row naming its year and release",
            "give --release (e.g. --release RVU26C) or --effective YYYY-MM-DD",
            file=name,
        )
    label = release or f"RVU{year % 100:02d}{letter}" + (" QPP" if qp else "")
    kind_text = "qualifying APM participant (QPP)" if qp else "non-QPP"
    return ParsedMeta(
        kind="pfs",
        label=label,
        effective_from=start,
        effective_to=year_end(year),
        citation=f"CMS CY{year} PFS relative value file {label} ({path.name}, {kind_text})",
        qp=qp,
    )


def _rows(
    rows: Iterator[tuple[int, list[str]]],
    index: dict[str, int],
    width: int,
    meta: ParsedMeta,
    name: str,
) -> Iterator[Row]:
    factors: Counter[Decimal] = Counter()
    data = data_section(rows, is_blank, name, unit="row", empty="a header but no data rows")
    for number, cells in data:
        yield _row(cells, index, width, factors, name, number)
    if factors:
        meta.conversion_factor = factors.most_common(1)[0][0]


def _row(
    cells: list[str],
    index: dict[str, int],
    width: int,
    factors: Counter[Decimal],
    name: str,
    number: int,
) -> Row:
    check_width(cells, width, file=name, line=number, exact=True)

    def cell(key: str) -> str:
        return cells[index[key]].strip()

    code = code_field(cell("code"), "HCPCS", file=name, line=number)
    modifier = cell("modifier").upper()
    if modifier and not _MODIFIER.fullmatch(modifier):
        raise OfficialDataError(
            f"MOD {modifier!r} is not a 2-character modifier",
            f"correct the row or {REDOWNLOAD}",
            file=name,
            line=number,
        )
    status = cell("status").upper()
    if len(status) != 1 or not status.isalpha():
        raise OfficialDataError(
            f"STATUS CODE {status!r} is not a one-letter status",
            f"correct the row or {REDOWNLOAD}",
            file=name,
            line=number,
        )
    values = {
        key: decimal_field(cell(key), COLUMNS[key], file=name, line=number)
        for key in ("work", "pe_nonfacility", "pe_facility", "mp")
    }
    na_flag = cell("facility_na").upper()
    if na_flag not in ("", "NA"):
        raise OfficialDataError(
            f"FACILITY NA INDICATOR {na_flag!r} is neither empty nor NA",
            f"correct the row or {REDOWNLOAD}",
            file=name,
            line=number,
        )
    factor_text = cell("conversion_factor")
    factor = (
        decimal_field(factor_text, "CONV FACTOR", file=name, line=number) if factor_text else None
    )
    if factor is not None:
        factors[factor] += 1
    return (
        code,
        modifier,
        status,
        str(values["work"]),
        str(values["pe_nonfacility"]),
        str(values["pe_facility"]),
        1 if na_flag == "NA" else 0,
        str(values["mp"]),
        cell("pctc"),
        cell("mult_proc"),
        cell("global_days").upper(),
        None if factor is None else str(factor),
    )

"""Importer of the CMS ZIP code to carrier locality file (ZIP5_<MON><YYYY>.txt).

Source: CMS "Zip Code to Carrier Locality File", fixed-width layout ZIP5lyout.txt: state 1-2,
ZIP 3-7, carrier (MAC) 8-12, pricing locality 13-14, plus-four flag 21, year/quarter
(YYYYQ) 76-80.
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
    quarter_start,
    text_lines,
    wrong_format,
)

RECORD_LENGTH = 80
_RECORD = re.compile(r"[A-Z]{2}\d{5}[0-9A-Z]{5}\d{2}")
_YEAR_QUARTER = re.compile(r"(\d{4})([1-4])")
EXPECTED = "CMS ZIP5 locality file (ZIP5_*.txt, 80-character records)"


def parse_zip5(path: Path, *, release: str | None, effective: date | None) -> Parsed:
    name = display_name(path)
    handle = open_text(path)
    try:
        lines = text_lines(handle)
        first = next(lines, None)
        if first is None or not _RECORD.match(first[1]):
            raise wrong_format(path, EXPECTED, "zip5")
        stamp = first[1][75:80]
        match = _YEAR_QUARTER.fullmatch(stamp)
        if match is None:
            raise OfficialDataError(
                f"year/quarter (columns 76-80) {stamp!r} is not YYYYQ",
                f"import the file as published; {REDOWNLOAD}",
                file=name,
                line=1,
            )
        year, quarter = int(match.group(1)), int(match.group(2))
        label = release or f"ZIP5 {year}Q{quarter}"
        meta = ParsedMeta(
            kind="zip5",
            label=label,
            effective_from=effective or quarter_start(year, quarter),
            effective_to=None,
            citation=f"CMS ZIP code to carrier locality file {label} ({path.name})",
        )
    except BaseException:
        handle.close()
        raise
    return Parsed(meta, _rows(first, lines, stamp, name), handle)


def _rows(
    first: tuple[int, str], lines: Iterator[tuple[int, str]], stamp: str, name: str
) -> Iterator[Row]:
    data = data_section(chain((first,), lines), is_blank_line, name, unit="line", empty="no ZIPs")
    for number, line in data:
        yield _row(line, stamp, name, number)


def _row(line: str, stamp: str, name: str, number: int) -> Row:
    if len(line) < RECORD_LENGTH:
        raise OfficialDataError(
            f"the record has {len(line)} characters, expected {RECORD_LENGTH}",
            f"the line is cut short: {REDOWNLOAD}",
            file=name,
            line=number,
        )
    if not _RECORD.match(line):
        raise OfficialDataError(
            f"{line[:14]!r} is not state (2 letters), ZIP (5 digits), carrier (5) and"
            " locality (2 digits)",
            f"correct the line or {REDOWNLOAD}",
            file=name,
            line=number,
        )
    if line[75:80] != stamp:
        raise OfficialDataError(
            f"year/quarter {line[75:80]!r} differs from the first line's {stamp!r}",
            "import one quarter's file at a time, as published",
            file=name,
            line=number,
        )
    plus_four = line[20]
    if plus_four not in ("0", "1"):
        raise OfficialDataError(
            f"plus four flag (column 21) {plus_four!r} is not 0 or 1",
            f"correct the line or {REDOWNLOAD}",
            file=name,
            line=number,
        )
    return (line[2:7], line[0:2], line[7:12], line[12:14], int(plus_four))

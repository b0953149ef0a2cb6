"""Importer of the NCCI procedure-to-procedure (PTP) edit files for practitioners.

Source: CMS NCCI PTP edits, practitioner files `ccipra-v3XXr0-f1..f4.txt` (tab-delimited:
Column 1, Column 2, *=in existence prior to 1996, Effective Date YYYYMMDD, Deletion Date
YYYYMMDD or *, Modifier 0/1/9, PTP Edit Rationale; notice and header lines come first).
A quarter's edits come in several part files: give the folder that holds them all to import
the quarter as one release. Files have about a million rows, so rows are streamed.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date
from itertools import dropwhile
from pathlib import Path

from handrail.officialdata.errors import OfficialDataError
from handrail.officialdata.files import (
    HCPCS_SHAPE,
    REDOWNLOAD,
    Parsed,
    ParsedMeta,
    Row,
    check_file,
    code_field,
    data_section,
    display_name,
    is_blank_line,
    open_text,
    quarter_in,
    quarter_start,
    text_lines,
    wrong_format,
    ymd_field,
)

FIELDS = 7
# A well-formed row in one match (the common case); anything else goes through `_row`, which
# names the bad field.
_GOOD_ROW = re.compile(
    r"([A-Z0-9]{5})\t([A-Z0-9]{5})\t(\*?)\t((\d{4})(\d{2})(\d{2}))\t(\*|(\d{4})(\d{2})(\d{2}))"
    r"\t([019])\t(.*)"
)
PREAMBLE_LINES = 20
EXPECTED = "NCCI PTP edit file (tab-delimited ccipra-*.txt)"


def ptp_files(path: Path) -> list[Path]:
    """The file itself, or every .txt file of a folder (the f1..f4 parts of one quarter)."""
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.is_file() and p.suffix.lower() == ".txt")
        if not files:
            raise OfficialDataError(
                "the folder holds no .txt PTP file",
                "give the folder that holds the unzipped ccipra-*.txt files, or one file",
                file=display_name(path),
            )
        return files
    return [path]


def _check_practitioner(path: Path) -> None:
    # Outpatient hospital PTP files (ccioph-*) share the layout but not the edits.
    if path.name.lower().startswith("cciop"):
        raise OfficialDataError(
            "this is the outpatient hospital PTP file, not the practitioner one",
            "import the practitioner files ccipra-v3XXr0-f1..f4 for professional claims",
            file=display_name(path),
        )


def ptp_release(path: Path, release: str | None, effective: date | None) -> ParsedMeta:
    if not release:
        raise OfficialDataError(
            "a PTP file does not name its release",
            "give --release, e.g. --release 'NCCI PTP 2026Q3' (and --effective 2026-07-01)",
            file=display_name(path),
        )
    if effective is None:
        quarter = quarter_in(release)
        if quarter is None:
            raise OfficialDataError(
                f"the release {release!r} names no quarter, so its first day is unknown",
                "give --effective YYYY-MM-DD (the quarter's first day, e.g. 2026-07-01)",
                file=display_name(path),
            )
        effective = quarter_start(*quarter)
    return ParsedMeta(
        kind="ptp",
        label=release,
        effective_from=effective,
        effective_to=None,
        citation=f"CMS NCCI practitioner PTP edits {release} ({path.name})",
    )


def parse_ptp(path: Path, *, release: str | None, effective: date | None) -> Parsed:
    files = ptp_files(path)
    meta = ptp_release(path, release, effective)
    for part in files:
        check_file(part, "ptp")
        _check_practitioner(part)
    # Check every part's header before the first row is written.
    for part in files:
        _check_preamble(part)
    return Parsed(meta, _all_rows(files), None)


def _is_row(fields: list[str]) -> bool:
    return (
        len(fields) >= 6
        and bool(HCPCS_SHAPE.fullmatch(fields[0].strip()))
        and fields[3].strip().isdigit()
    )


def _check_preamble(path: Path) -> None:
    with open_text(path) as handle:
        preamble: list[str] = []
        for _, line in text_lines(handle):
            if _is_row(line.split("\t")):
                break
            preamble.append(line.upper())
            if len(preamble) > PREAMBLE_LINES:
                raise wrong_format(path, EXPECTED, "ptp")
        else:
            if not any("COLUMN 1" in text for text in preamble):
                raise wrong_format(path, EXPECTED, "ptp")
            raise OfficialDataError(
                "the file has a header but no edit rows", REDOWNLOAD, file=display_name(path)
            )
        if not any("COLUMN 1" in text for text in preamble):
            raise wrong_format(path, EXPECTED, "ptp")


def _all_rows(files: list[Path]) -> Iterator[Row]:
    for part in files:
        with open_text(part) as handle:
            yield from _rows(text_lines(handle), display_name(part))


def _rows(lines: Iterator[tuple[int, str]], name: str) -> Iterator[Row]:
    # The edit rows start after the title and column-header lines; an empty part file is
    # allowed here (parse_ptp checks the set of files has rows).
    data = dropwhile(lambda numbered: not _is_row(numbered[1].split("\t")), lines)
    for number, line in data_section(data, is_blank_line, name, unit="line", empty=None):
        yield _fast_row(line) or _row(line.split("\t"), name, number)


def _fast_row(line: str) -> Row | None:
    match = _GOOD_ROW.fullmatch(line)
    if match is None:
        return None
    (c1, c2, _, _, y1, m1, d1, _, y2, m2, d2, indicator, rationale) = match.groups()
    try:
        date(int(y1), int(m1), int(d1))
        if y2 is not None:
            date(int(y2), int(m2), int(d2))
    except ValueError:
        return None
    deleted = None if y2 is None else f"{y2}-{m2}-{d2}"
    return (c1, c2, f"{y1}-{m1}-{d1}", deleted, int(indicator), rationale.strip())


def _row(fields: list[str], name: str, number: int) -> Row:
    if len(fields) != FIELDS:
        raise OfficialDataError(
            f"expected {FIELDS} tab-separated fields, found {len(fields)}",
            f"the line is cut short or damaged: {REDOWNLOAD}",
            file=name,
            line=number,
        )
    column1 = code_field(fields[0], "Column 1", file=name, line=number)
    column2 = code_field(fields[1], "Column 2", file=name, line=number)
    if fields[2].strip() not in ("", "*"):
        raise OfficialDataError(
            f"'in existence prior to 1996' {fields[2].strip()!r} is neither empty nor *",
            f"correct the line or {REDOWNLOAD}",
            file=name,
            line=number,
        )
    effective = ymd_field(fields[3], "Effective Date", file=name, line=number)
    deletion_text = fields[4].strip()
    deleted = (
        None
        if deletion_text == "*"
        else ymd_field(deletion_text, "Deletion Date", file=name, line=number)
    )
    indicator = fields[5].strip()
    if indicator not in ("0", "1", "9"):
        raise OfficialDataError(
            f"Modifier indicator {indicator!r} is not 0, 1 or 9",
            f"correct the line or {REDOWNLOAD}",
            file=name,
            line=number,
        )
    return (
        column1,
        column2,
        effective.isoformat(),
        None if deleted is None else deleted.isoformat(),
        int(indicator),
        fields[6].strip(),
    )

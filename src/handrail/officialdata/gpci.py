"""Importer of the CMS GPCI table (PFS Addendum E, GPCIyyyy.csv in each RVU bundle).

Source: CMS PFS final rule Addendum E, "Geographic Practice Cost Indices (GPCIs) by State
and Medicare Locality". Footnotes after the data (floors, MAC assignment date) are not rows.
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
    csv_rows,
    decimal_field,
    display_name,
    is_blank,
    norm,
    open_text,
    wrong_format,
    year_end,
)

_YEAR = re.compile(r"(?<!\d)(20\d{2})(?!\d)")
_MAC = re.compile(r"\d{5}")
_STATE = re.compile(r"[A-Z]{2}")
_LOCALITY = re.compile(r"\d{2}")
HEADER_SEARCH_ROWS = 15
EXPECTED = "CMS GPCI file (PFS Addendum E, GPCIyyyy.csv)"


def _work_column(names: list[str]) -> int | None:
    """The work GPCI column; with floored and unfloored columns side by side, the floored one.

    CMS printed both in some releases (e.g. RVU26A, while the 1.0 work floor had lapsed); the
    floor was restored retroactively (reference §3), so the floored values are the ones paid.
    """
    found = [i for i, name in enumerate(names) if "PW GPCI" in name or "WORK GPCI" in name]
    floored = [i for i in found if "WITH 1.0 FLOOR" in names[i] or "WITH FLOOR" in names[i]]
    candidates = floored or found
    return candidates[0] if candidates else None


def _column(names: list[str], *tests: str) -> int | None:
    for position, header in enumerate(names):
        if any(test in header for test in tests):
            return position
    return None


def parse_gpci(path: Path, *, release: str | None, effective: date | None) -> Parsed:
    name = display_name(path)
    handle = open_text(path)
    try:
        rows = csv_rows(handle, name)
        head: list[tuple[int, list[str]]] = []
        for number, cells in rows:
            head.append((number, cells))
            upper = [norm(cell) for cell in cells if cell.strip()]
            if (
                len(upper) >= 5
                and any("LOCALITY" in cell for cell in upper)
                and any("GPCI" in cell for cell in upper)
            ):
                break
            if len(head) >= HEADER_SEARCH_ROWS:
                raise wrong_format(path, EXPECTED, "gpci")
        else:
            raise wrong_format(path, EXPECTED, "gpci")
        header_line, header = head[-1]
        names = [norm(cell) for cell in header]
        found = {
            "mac": _column(names, "CONTRACTOR", "MAC"),
            "state": _column(names, "STATE"),
            "locality": _column(names, "LOCALITY NUMBER", "LOCALITY NO", "LOCALITY #"),
            "name": _column(names, "LOCALITY NAME"),
            "work": _work_column(names),
            "pe": _column(names, "PE GPCI"),
            "mp": _column(names, "MP GPCI", "MALPRACTICE GPCI"),
        }
        missing = [key for key, position in found.items() if position is None]
        if missing:
            raise OfficialDataError(
                f"the header has no column for {', '.join(missing)}",
                f"import Addendum E as published by CMS; {REDOWNLOAD}",
                file=name,
                line=header_line,
            )
        index = {key: position for key, position in found.items() if position is not None}
        title = " ".join(" ".join(cells) for _, cells in head)
        meta = _release_meta(path, title, release, effective)
    except BaseException:
        handle.close()
        raise
    return Parsed(meta, _rows(list(rows), index, name), handle)


def _release_meta(
    path: Path, title: str, release: str | None, effective: date | None
) -> ParsedMeta:
    match = _YEAR.search(title) or (_YEAR.search(release) if release else None)
    if match is None and effective is None:
        raise OfficialDataError(
            "the file names no year",
            "give --effective YYYY-01-01 (and --release, e.g. GPCI2026)",
            file=display_name(path),
        )
    year = int(match.group(1)) if match else effective.year  # type: ignore[union-attr]
    if effective is not None and effective.year != year:
        raise OfficialDataError(
            f"--effective {effective.isoformat()} is not in the file's year {year}",
            f"give a date in {year}, or leave --effective out to use January 1",
            file=display_name(path),
        )
    label = release or f"GPCI{year}"
    return ParsedMeta(
        kind="gpci",
        label=label,
        effective_from=effective or date(year, 1, 1),
        effective_to=year_end(year),
        citation=f"CMS CY{year} PFS Addendum E GPCIs, release {label} ({path.name})",
    )


def _is_footnote(cells: list[str]) -> bool:
    """Blank, or text in the first cell only (the notes under Addendum E)."""
    return not any(cell.strip() for cell in cells[1:])


def _rows(rows: list[tuple[int, list[str]]], index: dict[str, int], name: str) -> Iterator[Row]:
    count = 0
    width = max(index.values()) + 1
    for position, (number, cells) in enumerate(rows):
        looks_like_data = bool(cells) and bool(_MAC.fullmatch(cells[0].strip()))
        if not looks_like_data:
            # GPCI files end with footnotes: stop only if every row from here on is one.
            if _is_footnote(cells) and all(_is_footnote(c) for _, c in rows[position:]):
                break
            what = (
                "an empty row"
                if is_blank(cells)
                else f"a row that is not a locality ({cells[0].strip()!r})"
            )
            raise OfficialDataError(
                f"{what} in the middle of the data",
                f"each row must start with a 5-digit MAC number: correct it or {REDOWNLOAD}",
                file=name,
                line=number,
            )
        yield _row(cells, index, width, name, number)
        count += 1
    if count == 0:
        raise OfficialDataError(
            "the file has a header but no locality rows", REDOWNLOAD, file=name
        )


def _row(cells: list[str], index: dict[str, int], width: int, name: str, number: int) -> Row:
    check_width(cells, width, file=name, line=number)
    mac = cells[index["mac"]].strip()
    state = cells[index["state"]].strip().upper()
    locality = cells[index["locality"]].strip()
    if not _STATE.fullmatch(state):
        raise OfficialDataError(
            f"State {state!r} is not a 2-letter state code",
            f"correct the row or {REDOWNLOAD}",
            file=name,
            line=number,
        )
    if not _LOCALITY.fullmatch(locality):
        raise OfficialDataError(
            f"Locality Number {locality!r} is not 2 digits",
            f"correct the row or {REDOWNLOAD}",
            file=name,
            line=number,
        )
    # Asterisks in names point at the footnotes (floors): not part of the name.
    locality_name = " ".join(cells[index["name"]].replace("*", " ").split())
    values = [
        str(decimal_field(cells[index[key]], label, file=name, line=number))
        for key, label in (("work", "work GPCI"), ("pe", "PE GPCI"), ("mp", "MP GPCI"))
    ]
    return (mac, state, locality, locality_name, *values)

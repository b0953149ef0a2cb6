"""Reading official files: checksums, line-numbered rows, dates and release labels.

Every reader here fails on the first problem with `OfficialDataError` naming the file and
line and saying how to fix it (style.md convention 5: a malformed row stops the import).
"""

from __future__ import annotations

import csv
import hashlib
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, TextIO, TypeVar

from handrail.officialdata.errors import OfficialDataError
from handrail.rules.tables import TableKind

KINDS: tuple[TableKind, ...] = ("pfs", "gpci", "zip5", "ptp", "mue", "icd10cm")

HCPCS_SHAPE = re.compile(r"[A-Z0-9]{5}")
_QUARTER = re.compile(r"(?<!\d)(\d{4})\s*[-_ ]?\s*Q([1-4])(?!\d)", re.IGNORECASE)
_QUARTER_FIRST = re.compile(r"(?<![A-Z0-9])Q([1-4])[-_ ]?(\d{4})(?!\d)", re.IGNORECASE)
REDOWNLOAD = "download the file again from CMS and import the untouched copy"


@dataclass(slots=True)
class ParsedMeta:
    """What a parser learnt about the release while reading the file."""

    kind: TableKind
    label: str
    effective_from: date
    effective_to: date | None
    citation: str
    verified: bool = True
    note: str = ""
    qp: bool = False
    conversion_factor: Decimal | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def display_name(path: Path) -> str:
    return str(path)


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def check_file(path: Path, kind: str) -> None:
    """The file exists, is not empty and ends with a line break (else it was cut off)."""
    name = display_name(path)
    if not path.exists():
        raise OfficialDataError(
            "no such file", f"check the path of the {kind} file to import", file=name
        )
    if not path.is_file():
        raise OfficialDataError("not a file", f"give the path of one {kind} file", file=name)
    size = path.stat().st_size
    if size == 0:
        raise OfficialDataError("the file is empty", REDOWNLOAD, file=name)
    with path.open("rb") as handle:
        head = handle.read(4096)
        handle.seek(-1, 2)
        last = handle.read(1)
    if head.startswith(b"PK\x03\x04"):
        raise OfficialDataError(
            "this is a ZIP archive (or an Excel workbook), not a text file",
            f"unzip the CMS download and import the {kind} text file inside it",
            file=name,
        )
    if b"\x00" in head:
        raise OfficialDataError(
            "this is a binary file, not a text file",
            f"import the {kind} CSV/TXT file as published by CMS or CDC",
            file=name,
        )
    if last not in (b"\n", b"\r"):
        # CMS and CDC files end every line, the last one included, with a line break: a
        # missing one means the download or copy stopped in the middle of a row.
        raise OfficialDataError(
            "the file ends in the middle of a row (no line break after the last line), so it"
            " looks truncated",
            f"{REDOWNLOAD} (if the file is complete, add a line break at its end)",
            file=name,
            line=count_lines(path),
        )


def count_lines(path: Path) -> int:
    with path.open("rb") as handle:
        count = sum(block.count(b"\n") for block in iter(lambda: handle.read(1 << 20), b""))
    return count + 1


def open_text(path: Path) -> TextIO:
    # Official files are ASCII in practice; a stray Windows-1252 byte in a description must
    # not stop an import, and the code fields are validated one by one anyway.
    return path.open("r", encoding="utf-8-sig", errors="replace", newline="")


def csv_rows(handle: TextIO, name: str) -> Iterator[tuple[int, list[str]]]:
    """(first line number of the row, cells) for each CSV row, quoted line breaks included."""
    reader = csv.reader(handle)
    previous_end = 0
    try:
        for row in reader:
            yield previous_end + 1, row
            previous_end = reader.line_num
    except csv.Error as exc:
        raise OfficialDataError(
            f"the CSV cannot be read ({exc})", REDOWNLOAD, file=name, line=previous_end + 1
        ) from exc


def text_lines(handle: TextIO) -> Iterator[tuple[int, str]]:
    for number, raw in enumerate(handle, start=1):
        yield number, raw.rstrip("\r\n")


def norm(text: str) -> str:
    """Header text compared by name: upper case, single spaces."""
    return " ".join(text.split()).upper()


def is_blank(cells: list[str]) -> bool:
    return not any(cell.strip() for cell in cells)


def is_blank_line(line: str) -> bool:
    return not line.strip()


_Item = TypeVar("_Item")


def data_section(
    numbered: Iterable[tuple[int, _Item]],
    blank: Callable[[_Item], bool],
    name: str,
    *,
    unit: str,
    empty: str | None,
) -> Iterator[tuple[int, _Item]]:
    """The numbered rows (or lines) of a file's data section, without the blank ones.

    Blank rows at the end are skipped: files often end with some. A blank row with data after
    it is refused (a file pasted together or damaged), and so is a section with no data at
    all, said as "the file has {empty}" (unless `empty` is None).
    """
    blank_at: int | None = None
    found = False
    for number, item in numbered:
        if blank(item):
            blank_at = blank_at or number
            continue
        if blank_at is not None:
            raise OfficialDataError(
                f"an empty {unit} in the middle of the data",
                f"remove the empty {unit} at line {blank_at} or {REDOWNLOAD}",
                file=name,
                line=blank_at,
            )
        found = True
        yield number, item
    if not found and empty is not None:
        raise OfficialDataError(f"the file has {empty}", REDOWNLOAD, file=name)


def decimal_field(value: str, column: str, *, file: str, line: int) -> Decimal:
    text = value.strip()
    try:
        number = Decimal(text)
    except InvalidOperation:
        number = Decimal("NaN")
    if not number.is_finite() or number < 0:
        raise OfficialDataError(
            f"{column} {text!r} is not a number of zero or more",
            f"correct the row or {REDOWNLOAD}",
            file=file,
            line=line,
        )
    return number


def check_width(
    cells: list[str], width: int, *, file: str, line: int, exact: bool = False
) -> None:
    """A CSV row has the header's `width` fields (at least, or exactly when `exact`)."""
    if len(cells) < width or (exact and len(cells) != width):
        extra = " or has extra commas" if exact else ""
        raise OfficialDataError(
            f"expected {width} fields, found {len(cells)}",
            f"the row is cut short{extra}: {REDOWNLOAD}",
            file=file,
            line=line,
        )


def code_field(value: str, column: str, *, file: str, line: int) -> str:
    code = value.strip().upper()
    if not HCPCS_SHAPE.fullmatch(code):
        raise OfficialDataError(
            f"{column} {value.strip()!r} is not a 5-character HCPCS/CPT code",
            f"correct the row or {REDOWNLOAD}",
            file=file,
            line=line,
        )
    return code


def ymd_field(value: str, column: str, *, file: str, line: int) -> date:
    text = value.strip()
    try:
        if len(text) != 8 or not text.isdigit():
            raise ValueError(text)
        return date(int(text[:4]), int(text[4:6]), int(text[6:]))
    except ValueError:
        raise OfficialDataError(
            f"{column} {text!r} is not a date written YYYYMMDD",
            f"correct the row or {REDOWNLOAD}",
            file=file,
            line=line,
        ) from None


def quarter_start(year: int, quarter: int) -> date:
    return date(year, 3 * (quarter - 1) + 1, 1)


def quarter_label(on: date) -> str:
    return f"{on.year}Q{(on.month - 1) // 3 + 1}"


def quarter_in(text: str) -> tuple[int, int] | None:
    """(year, quarter) from "2026Q3", "2026 Q3", "Q1_2026"... anywhere in the text."""
    match = _QUARTER.search(text)
    if match:
        return int(match.group(1)), int(match.group(2))
    match = _QUARTER_FIRST.search(text)
    if match:
        return int(match.group(2)), int(match.group(1))
    return None


def parse_effective(value: date | str | None) -> date | None:
    if value is None or isinstance(value, date):
        return value
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise OfficialDataError(
            f"--effective {value!r} is not a date",
            "write it as YYYY-MM-DD, e.g. --effective 2026-07-01",
        ) from None


def year_end(year: int) -> date:
    return date(year, 12, 31)


def wrong_format(path: Path, expected: str, kind: str) -> OfficialDataError:
    """The file is not what `kind` imports: say what it looks like, if we can tell."""
    guess = guess_kind(path)
    hint = f"import a {expected}"
    if guess and guess != kind:
        hint = (
            f"this looks like a {guess} file: import it with `handrail data import {guess} FILE`"
        )
    return OfficialDataError(f"this is not a {expected}", hint, file=display_name(path))


def guess_kind(path: Path) -> str | None:
    """A best guess of which importer a file belongs to, from its first lines."""
    try:
        with open_text(path) as handle:
            head = handle.read(4096)
    except OSError:
        return None
    upper = head.upper()
    first = head.splitlines()[0] if head.splitlines() else ""
    if "PHYSICIAN FEE SCHEDULE RELATIVE VALUE FILE" in upper or "\nHCPCS,MOD," in upper:
        return "pfs"
    if "GEOGRAPHIC PRACTICE COST INDICES" in upper or "PE GPCI" in upper:
        return "gpci"
    if "MUE VALUE" in upper or upper.startswith("HCPCS,MUE_VALUE"):
        return "mue"
    if "COLUMN 1\tCOLUMN 2" in upper or "COLUMN1/COLUMN2" in upper:
        return "ptp"
    if re.match(r"[A-Z]{2}\d{5}[0-9A-Z]{5}\d{2}", first) and len(first) >= 80:
        return "zip5"
    if re.match(r"\d{5} [A-Z][0-9A-Z]{2,6}\s+[01] ", first) or re.match(
        r"[A-Z][0-9A-Z]{2,6}\s+\S", first
    ):
        return "icd10cm"
    return None


Row = tuple[Any, ...]


class Parsed:
    """A file whose header was read: its release facts, then its data rows as they stream."""

    def __init__(self, meta: ParsedMeta, rows: Iterator[Row], handle: TextIO | None) -> None:
        self.meta = meta
        self.rows = rows
        self._handle = handle

    def __enter__(self) -> Parsed:
        return self

    def __exit__(self, *exc: object) -> None:
        close = getattr(self.rows, "close", None)
        if close is not None:
            close()
        if self._handle is not None:
            self._handle.close()

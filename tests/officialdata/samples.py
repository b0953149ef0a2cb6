# ruff: noqa: E501  (CMS header rows are kept verbatim, one file line per source line)
"""Small official files written the way CMS/CDC publish them, for tests that need exact layouts.

Rows carry made-up figures and our own placeholder text, never AMA descriptor text.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

# The real CMS files (never committed): next to the repository, or where HANDRAIL_CMS_DIR says
# (a checkout elsewhere, e.g. a git worktree).
CMS_DIR = Path(
    os.environ.get("HANDRAIL_CMS_DIR")
    or Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "cms"
)


def cms_file(name: str) -> Path:
    path = CMS_DIR / name
    if not path.is_file():
        pytest.skip(
            f"CMS file {name} not found at {path}: put the CMS files in ../shared/data/cms "
            "or set HANDRAIL_CMS_DIR"
        )
    return path


# The stacked header of the CY2026 PPRRVU layout (32 columns, PRIC IND before ENDO BASE).
PFS_2026_HEADER = """\
,,2026 National Physician Fee Schedule Relative Value File July Release,,,,,,,,,,,,,,,,,,,,,,,,,,,,,
,,Copyright notice line,,,,,,,,,,,,,,,,,,,,,,,,,,,,,
,,Second notice line,,,,,,,,,,,,,,,,,,,,,,,,,,,,,
,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,
,,RELEASED 06/30/2026,,,,,,,,,,,,,,,,,,,,,,,,,,,,,
,,,,,,,,,,,,,,,,,,,,,,,,,,,,,NON-FACILITY,FACILITY,
,,,,NOT USED,,,,,,,,,,,,,,,,,,,,,,PHYSICIAN,,DIAGNOSTIC,PE USED,PE USED,MP USED
,,,,FOR,,,NON-FAC,,FACILITY,,,,,,,,,,,,,,,,,SUPERVISION OF,,IMAGING,FOR OPPS,FOR OPPS,FOR OPPS
,,,STATUS,MEDICARE,WORK,NON-FAC,NA,FACILITY,NA,MP,NON-FACILITY,FACILITY,PCTC,GLOB,PRE,INTRA,POST,MULT,BILAT,ASST,CO-,TEAM,PRIC,ENDO,CONV,DIAGNOSTIC,CALCULATION,FAMILY,PAYMENT,PAYMENT,PAYMENT
HCPCS,MOD,DESCRIPTION,CODE,PAYMENT,RVU,PE RVU,INDICATOR,PE RVU,INDICATOR,RVU,TOTAL,TOTAL,IND,DAYS,OP,OP,OP,PROC,SURG,SURG,SURG,SURG,IND,BASE,FACTOR,PROCEDURES,FLAG,INDICATOR,AMOUNT,AMOUNT,AMOUNT
"""
PFS_HEADER_LINES = 10


def pfs_row(
    code: str, work: str = "0.45", pe: str = "0.51", mp: str = "0.01", cf: str = "33.4009"
) -> str:
    """One CY2026-layout row of a timed therapy code (status A, PCTC 7, MULT PROC 5)."""
    return (
        f"{code},,placeholder,A,,{work},{pe},,{pe},NA,{mp},0.97,0.97,7,XXX,0.00,0.00,0.00,"
        f"5,0,0,0,0,9,,{cf},09,0,99,0.00,0.00,0.00"
    )


def write_pfs(path: Path, rows: list[str], *, title: str | None = None) -> Path:
    header = PFS_2026_HEADER
    if title is not None:
        header = header.replace(
            "2026 National Physician Fee Schedule Relative Value File July Release", title
        )
    path.write_text(header + "".join(row + "\n" for row in rows))
    return path


PTP_PREAMBLE = (
    "CPT only copyright notice line\t\t\t\t\t\t\n"
    "Column1/Column2 Edits\t\t\t\t\t\t\n"
    "Column 1\tColumn 2\t*=in existence\tEffective\tDeletion\tModifier\tPTP Edit Rationale\n"
    "\t\tprior to 1996\tDate\tDate\t0=not allowed\t\n"
    "\t\t\t\t*=no data\t1=allowed\t\n"
    "\t\t\t\t\t9=not applicable\t\n"
)
PTP_PREAMBLE_LINES = 6


def ptp_line(
    column1: str,
    column2: str,
    effective: str = "20200101",
    deleted: str = "*",
    modifier: str = "1",
    rationale: str = "Misuse of Column Two code with Column One code",
    prior_1996: str = "",
) -> str:
    return "\t".join((column1, column2, prior_1996, effective, deleted, modifier, rationale))


def write_ptp(path: Path, lines: list[str]) -> Path:
    path.write_text(PTP_PREAMBLE + "".join(line + "\n" for line in lines))
    return path


MUE_PREAMBLE = (
    '"Copyright notice, first line.\n\nSecond paragraph of the notice.\n\n'
    'Third paragraph.",,,\n'
    '"HCPCS/\nCPT Code",Practitioner Services MUE Values,MUE Adjudication Indicator,'
    "MUE Rationale\n"
)
MUE_PREAMBLE_LINES = 7


def write_mue(path: Path, rows: list[str]) -> Path:
    path.write_text(MUE_PREAMBLE + "".join(row + "\n" for row in rows))
    return path


def order_line(number: int, code: str, billable: bool, short: str, long: str = "") -> str:
    """A line of the CDC icd10cm-order file (fixed width)."""
    return f"{number:05d} {code:<7} {int(billable)} {short:<60} {long or short}"


def write_lines(path: Path, lines: list[str]) -> Path:
    path.write_text("".join(line + "\n" for line in lines))
    return path

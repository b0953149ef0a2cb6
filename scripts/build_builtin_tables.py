"""Regenerate the built-in official tables of handrail.officialdata from the CMS files.

Usage: python scripts/build_builtin_tables.py [--source DIR] [--check]

DIR defaults to ../shared/data/cms next to the repository. The same parsers as
`handrail data import` read the CMS files, so a built-in table equals an import of its file
(restricted to the catalog's therapy codes for the fee schedule; whole for the GPCI and
ZIP-to-locality tables). Output is byte-for-byte
reproducible (sorted rows, gzip without a timestamp). `--check` fails if a file would change.
"""

from __future__ import annotations

import argparse
import gzip
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from handrail.officialdata.builtin import render_table
from handrail.officialdata.files import Parsed, Row, sha256_file
from handrail.officialdata.gpci import parse_gpci
from handrail.officialdata.mue import parse_mue
from handrail.officialdata.pfs import parse_pfs
from handrail.officialdata.zip5 import parse_zip5
from handrail.rules.catalog import CATALOG
from handrail.rules.tables import TableKind

REPO = Path(__file__).resolve().parents[1]
DEFAULT_SOURCE = REPO / ".." / "shared" / "data" / "cms"
OUT = REPO / "src" / "handrail" / "officialdata" / "data"

MUE_NOTE = (
    "LOW CONFIDENCE: derived from the CMS Medicaid NCCI Q1-2026 practitioner MUE file"
    " via third-party JSON; MAI unknown; Medicare values may differ"
)
PTP_RATIONALE = (
    "CMS 'Proper use of modifier 59' article, example 9 (distinct 15-minute time blocks)"
)


@dataclass(frozen=True)
class Table:
    out: str
    kind: TableKind
    source: str
    parse: Callable[..., Parsed]
    keep: Callable[[Row], bool] = lambda row: True
    extra: tuple[tuple[str, Any], ...] = ()


TABLES = (
    Table("pfs_RVU25D_derived.csv", "pfs", "PPRRVU2025_Oct.csv", parse_pfs, lambda r: r[0] in CATALOG),
    Table(
        "pfs_RVU26C_derived.csv",
        "pfs",
        "PPRRVU2026_Jul_nonQPP.csv",
        parse_pfs,
        lambda r: r[0] in CATALOG,
    ),
    # The locality tables a clinic needs to price by ZIP or MAC-LOC out of the box: every
    # row of Addendum E and of the latest ZIP5 file (no AMA text in either).
    Table("gpci_GPCI2025_derived.csv", "gpci", "GPCI2025.csv", parse_gpci),
    Table("gpci_GPCI2026_derived.csv", "gpci", "GPCI2026.csv", parse_gpci),
    Table("zip5_2025Q4_derived.csv.gz", "zip5", "ZIP5_OCT2025.txt", parse_zip5),
    Table(
        "mue_2026Q1_derived.csv",
        "mue",
        "MUE_medicaid_practitioner_Q1_2026_97xxx_DERIVED.csv",
        parse_mue,
        extra=(("note", MUE_NOTE), ("verified", False)),
    ),
)


def _render(table: Table, source_dir: Path) -> bytes:
    path = source_dir / table.source
    with table.parse(path, release=None, effective=None) as parsed:
        rows = sorted(row for row in parsed.rows if table.keep(row))
        meta = parsed.meta
    header: dict[str, Any] = {
        "kind": table.kind,
        "label": meta.label,
        "effective_from": meta.effective_from.isoformat(),
        "effective_to": meta.effective_to.isoformat() if meta.effective_to else "",
        "citation": meta.citation,
        "source_file": table.source,
        "source_sha256": sha256_file(path),
        "verified": meta.verified,
        "note": meta.note,
        "qp": meta.qp,
        "conversion_factor": meta.conversion_factor or "",
        "rows": len(rows),
    }
    header.update(dict(table.extra))
    text = render_table(header, table.kind, rows).encode("utf-8")
    return gzip.compress(text, compresslevel=9, mtime=0) if table.out.endswith(".gz") else text


def _ptp() -> bytes:
    """The one therapy PTP pair with a public CMS source (reference §8); no other rows."""
    header: dict[str, Any] = {
        "kind": "ptp",
        "label": "NCCI PTP therapy excerpt (built-in)",
        "effective_from": "2000-01-01",
        "effective_to": "",
        "citation": "CMS 'Proper use of modifier 59' article, example 9",
        "source_file": "",
        "source_sha256": "",
        "verified": False,
        "note": "effective date unverified",
        "qp": False,
        "conversion_factor": "",
        "rows": 1,
    }
    rows: list[Row] = [("97140", "97530", "2000-01-01", None, 1, PTP_RATIONALE)]
    return render_table(header, "ptp", rows).encode("utf-8")


def build(source_dir: Path) -> dict[str, bytes]:
    outputs = {table.out: _render(table, source_dir) for table in TABLES}
    outputs["ptp_therapy_excerpt.csv"] = _ptp()
    return outputs


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--source", type=Path, default=DEFAULT_SOURCE)
    parser.add_argument("--check", action="store_true", help="fail if a file would change")
    args = parser.parse_args(argv)
    if not args.source.is_dir():
        print(f"error: {args.source} not found: give --source DIR with the CMS files")
        return 2
    changed = []
    for name, content in build(args.source).items():
        target = OUT / name
        if target.exists() and target.read_bytes() == content:
            continue
        changed.append(name)
        if not args.check:
            target.write_bytes(content)
    verb = "would change" if args.check else "written"
    print(f"{len(changed)} file(s) {verb}: {', '.join(changed) or 'none'}")
    return 1 if args.check and changed else 0


if __name__ == "__main__":
    sys.exit(main())

"""Regenerate the ICD-10-CM FY2025 table: how FY2025 differs from the packaged FY2026 set.

Usage: python scripts/build_icd10cm_fy2025.py CODE_LIST TABULAR_XML [--check]

CODE_LIST and TABULAR_XML are the FY2025 data files of simple-icd-10-cm 1.4.0
(`code-list-April-2025.txt`, `icd10cm-tabular-April-2025.xml`: the CDC ICD-10-CM FY2025
tabular list with its April 1, 2025 update). The installed simple-icd-10-cm (1.5.0, FY2026)
is read first, then switched to those files with its `change_version`; every category,
subcategory and code whose FY2025 state (absent, category with codes under it, or billable
code) or description differs from FY2026 is written, sorted by code. `--check` fails if the
file would change.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
import warnings
from pathlib import Path

from handrail.officialdata.icd10cm_packaged import (
    EXPECTED_DATA_FILE,
    PREVIOUS_RESOURCE,
    render_previous_release,
)

REPO = Path(__file__).resolve().parents[1]
OUT = REPO / "src" / "handrail" / "officialdata" / "data" / PREVIOUS_RESOURCE
EXPECTED_SOURCE = "icd10cm-tabular-April-2025.xml"

Codes = dict[str, tuple[bool, str]]


def _codes(cm: object) -> Codes:
    out: Codes = {}
    for code in cm.get_all_codes(with_dots=True):  # type: ignore[attr-defined]
        if cm.is_category_or_subcategory(code) and code not in out:  # type: ignore[attr-defined]
            out[code] = (bool(cm.is_leaf(code)), str(cm.get_description(code)))  # type: ignore[attr-defined]
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("code_list", type=Path)
    parser.add_argument("tabular", type=Path)
    parser.add_argument("--check", action="store_true")
    args = parser.parse_args()
    if args.tabular.name != EXPECTED_SOURCE:
        parser.error(f"expected {EXPECTED_SOURCE}, got {args.tabular.name}")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        import simple_icd_10_cm as cm

    current = _codes(cm)
    cm.change_version(str(args.code_list), str(args.tabular))
    previous = _codes(cm)
    rows: list[tuple[str, str, str]] = []
    for code in sorted(set(current) | set(previous)):
        now, then = current.get(code), previous.get(code)
        if now == then:
            continue
        if then is None:
            rows.append((code, "absent", ""))
        else:
            rows.append((code, "code" if then[0] else "category", then[1]))
    digest = hashlib.sha256(args.tabular.read_bytes()).hexdigest()
    text = render_previous_release(rows, source_file=args.tabular.name, source_sha256=digest)
    if args.check:
        if OUT.read_text(encoding="utf-8") != text:
            print(f"{OUT.name} would change", file=sys.stderr)
            return 1
        return 0
    OUT.write_text(text, encoding="utf-8")
    print(f"wrote {OUT.name}: {len(rows)} rows (base {EXPECTED_DATA_FILE})")
    return 0


if __name__ == "__main__":
    sys.exit(main())

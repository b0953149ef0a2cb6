"""A short worked demo of the engine through the CLI: a realistic OT visit, end to end.

Run with `make demo` (or `python -m handrail.demo`). It uses only the built-in tables.
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

from handrail.cli.main import main as cli

VISIT = {
    "date": "2026-03-12",
    "payer": {"type": "medicare", "unit_rule": "cms"},
    "discipline": "OT",
    "zip": "62701",
    "patient_present": True,
    "diagnoses": ["I69.351", "R26.81"],
    "threshold": {"accrued_before": 2391.40, "medical_necessity_attested": True},
    "counters": {"treatment_day": 9, "days_since_certification": 41},
    "lines": [
        {
            "code": "97535",
            "minutes": 26,
            "note": {
                "baseline": "Moderate assist (50%) for upper-body dressing since right "
                "hemiparesis; cannot manage buttons.",
                "task": "Upper-body dressing at edge of bed: pullover and button-down shirts.",
                "technique": "One-handed hemi-dressing sequence and a button hook.",
                "skilled": "Graded cues for motor planning errors and right neglect.",
                "performance": "Pullover with minimal assist and 3 verbal cues; button hook "
                "for 4 of 6 buttons.",
            },
        },
        {
            "code": "97530",
            "minutes": 14,
            "assistant_minutes": 9,
            "note": {"text": "Standing reach at the kitchen counter, 3 rounds, contact guard."},
        },
    ],
}


def _step(title: str, *argv: str) -> None:
    print(f"\n$ handrail {' '.join(argv)}\n# {title}")
    sys.stdout.flush()
    cli(list(argv))


def main() -> int:
    print("Handrail demo: an OT visit with 97535 (self-care training) and 97530.")
    _step(
        "Minutes to units under the CMS 8-minute (total-time) rule",
        "units",
        "97535=26",
        "97530=14",
        "--date",
        "2026-03-12",
    )
    _step(
        "The same minutes under a commercial payer's per-code rule",
        "units",
        "--rule",
        "per-code",
        "97535=26",
        "97530=14",
    )
    _step(
        "What Medicare pays for 97535 at ZIP 62701 (national until GPCI and ZIP5 are imported)",
        "price",
        "97535",
        "--units",
        "2",
        "--date",
        "2026-03-12",
        "--zip",
        "62701",
    )
    _step(
        "Bundling edits among the visit's codes", "edits", "97535", "97530", "--date", "2026-03-12"
    )
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "ot_visit.json"
        path.write_text(json.dumps(VISIT, indent=2), encoding="utf-8")
        print(f"\nThe visit record:\n{json.dumps(VISIT, indent=2)}")
        _step(
            "The whole visit: claim lines, modifiers, payment, threshold, findings",
            "visit",
            str(path),
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())

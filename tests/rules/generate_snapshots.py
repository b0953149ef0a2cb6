"""Write the golden snapshots of engine output: `make snapshots`.

Every scenario visit under tests/rules/scenarios/ is evaluated against the built-in tables
plus the shared CMS GPCI and ZIP5 files (imported, as a clinic would), and its full answer
is written, sorted and pretty-printed, to snapshots/visits/<name>.json. Any change of a rule
or a table then shows up as a reviewable diff, and test_snapshots.py fails until the
snapshot is regenerated on purpose.
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path
from typing import Any

from handrail.officialdata import load_ruleset
from handrail.rules.ruleset import RuleSet
from handrail.rules.visit import evaluate_visit
from handrail.rules.visit_record import visit_record_from_dict
from tests.rules.conftest import import_locality_files

ROOT = Path(__file__).resolve().parents[2]
SCENARIOS = Path(__file__).resolve().parent / "scenarios"
SNAPSHOTS = ROOT / "snapshots" / "visits"


def render(scenario: Path, rules: RuleSet) -> str:
    record = json.loads(scenario.read_text(encoding="utf-8"))
    result: dict[str, Any] = evaluate_visit(visit_record_from_dict(record), rules).to_dict()
    return json.dumps(result, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def scenarios() -> list[Path]:
    return sorted(SCENARIOS.glob("*.json"))


def main() -> int:
    SNAPSHOTS.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as folder:
        import_locality_files(Path(folder))  # the scenarios price by locality and ZIP
        rules = load_ruleset(data_dir=Path(folder))
        for scenario in scenarios():
            (SNAPSHOTS / scenario.name).write_text(render(scenario, rules), encoding="utf-8")
            print(f"wrote snapshots/visits/{scenario.name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

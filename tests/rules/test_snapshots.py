"""Golden snapshots: the engine's full answer for each scenario visit must not drift."""

from __future__ import annotations

from pathlib import Path

import pytest

from handrail.rules.ruleset import RuleSet
from tests.rules.generate_snapshots import SNAPSHOTS, render, scenarios


class SnapshotTests:
    def test_it_has_a_snapshot_for_every_scenario_and_no_orphans(self) -> None:
        assert sorted(p.name for p in SNAPSHOTS.glob("*.json")) == [p.name for p in scenarios()]
        assert len(scenarios()) >= 14

    @pytest.mark.parametrize("scenario", scenarios(), ids=lambda path: path.stem)
    def test_it_matches_the_golden_snapshot(self, local_rules: RuleSet, scenario: Path) -> None:
        expected = (SNAPSHOTS / scenario.name).read_text(encoding="utf-8")
        assert render(scenario, local_rules) == expected, (
            f"{scenario.name} changed: review the diff, then run `make snapshots`"
        )

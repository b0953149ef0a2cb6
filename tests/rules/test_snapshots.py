"""Golden snapshots: the engine's full answer for each scenario visit must not drift."""

from __future__ import annotations

import json
import re
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

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


# The arithmetic each claim line's explanation step shows (payment._line_story).
LINE_STEP = re.compile(
    r"^(?P<code>\w+)(?P<cq> CQ/CO)?: (?P<units>.*); line total \$(?P<total>\d+\.\d\d) \("
)
UNIT_GROUP = re.compile(
    r"(?P<n>\d+) units? at \((?P<work>[\d.]+) work x (?P<gw>[\d.]+) \+ (?P<pe>[\d.]+) "
    r"(?:non-)?facility PE x (?P<gpe>[\d.]+)(?P<half> x 50% MPPR)? \+ (?P<mp>[\d.]+) MP x "
    r"(?P<gmp>[\d.]+)\) x CF (?P<cf>[\d.]+)(?P<cut> x 85% CQ/CO)? = \$(?P<amount>\d+\.\d\d)"
    r"(?: each)?$"
)


def recomputed_units(step: str) -> tuple[list[Decimal], Decimal]:
    """Every unit amount the step's formulas give (recomputed, rounded half up to the
    cent) and the line total the step states."""
    matched = LINE_STEP.match(step)
    assert matched, step
    units: list[Decimal] = []
    for part in matched["units"].split("; "):
        group = UNIT_GROUP.fullmatch(part)
        assert group, part
        value = (
            Decimal(group["work"]) * Decimal(group["gw"])
            + Decimal(group["pe"]) * Decimal(group["gpe"]) * (HALF if group["half"] else ONE)
            + Decimal(group["mp"]) * Decimal(group["gmp"])
        ) * Decimal(group["cf"])
        if group["cut"]:
            value *= Decimal("0.85")
        amount = value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
        assert amount == Decimal(group["amount"]), part
        units.extend([amount] * int(group["n"]))
    return units, Decimal(matched["total"])


HALF, ONE = Decimal("0.5"), Decimal("1")


def line_step(document: dict[str, Any], line: dict[str, Any]) -> str:
    assistant = "CQ" in line["modifiers"] or "CO" in line["modifiers"]
    head = f"{line['code']}{' CQ/CO' if assistant else ''}: "
    steps = [s for s in document["explanation"] if s.startswith(head) and " x CF " in s]
    assert len(steps) == 1, (head, steps)
    return steps[0]


class SnapshotArithmeticTests:
    """Issue 7: a line's explanation reproduces its amount to the cent, MPPR included."""

    @pytest.mark.parametrize("snapshot", sorted(SNAPSHOTS.glob("*.json")), ids=lambda p: p.stem)
    def test_it_explains_every_claim_line_with_formulas_that_give_its_amounts(
        self, snapshot: Path
    ) -> None:
        document = json.loads(snapshot.read_text(encoding="utf-8"))
        for line in document["claim_lines"]:
            if line["amount"] == 0 and any(
                step.startswith(f"{line['code']}: status ") for step in document["explanation"]
            ):
                continue  # status B/I: paid $0.00, said so
            units, total = recomputed_units(line_step(document, line))
            assert [float(unit) for unit in units] == line["unit_amounts"], line
            assert sum(units) == total and float(total) == line["amount"], line

    def test_it_shows_the_halved_practice_expense_of_an_mppr_unit(self) -> None:
        document = json.loads((SNAPSHOTS / "ot-kx-unattested-review.json").read_text())
        step = line_step(document, document["claim_lines"][0])
        assert step.startswith(
            "97535: 1 unit at (0.45 work x 1 + 0.51 non-facility PE x 1 + 0.01 MP x 1) x CF "
            "33.4009 = $32.40; 1 unit at (0.45 work x 1 + 0.51 non-facility PE x 1 x 50% MPPR "
            "+ 0.01 MP x 1) x CF 33.4009 = $23.88; line total $56.28 ("
        )

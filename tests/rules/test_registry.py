"""Registry consistency: every rule period loads and the README lists every finding id."""

from __future__ import annotations

import re
from datetime import date, timedelta
from pathlib import Path

import pytest

from handrail.rules import diagnoses, documentation
from handrail.rules.catalog import CATALOG
from handrail.rules.conversion import CONVERSION_FACTORS, conversion_factor
from handrail.rules.ruleset import RuleSet
from handrail.rules.threshold import THRESHOLDS
from tests.rules.conftest import shared_cms_file

ROOT = Path(__file__).resolve().parents[2]
ENGINE_RULES = (
    "assistant.evaluation",
    "assistant.slp",
    "claim.too-many-modifiers",
    "code.bundled",
    "code.discipline",
    "code.not-valid-for-medicare",
    "mue.exceeded",
    "mue.not-loaded",
    "ncci.ptp.needs-distinct",
    "ncci.ptp.never-bypassed",
    "payment.locality-not-loaded",
    "payment.zip-spans-localities",
    "telehealth.code-not-listed",
    "telehealth.outside-window",
    "threshold.kx-unattested",
    "threshold.nearing",
    "threshold.no-accrual",
    "threshold.targeted-review",
    "threshold.unknown-year",
)
DX_RULES = (
    diagnoses.RULE_MISSING,
    diagnoses.RULE_INVALID,
    diagnoses.RULE_NOT_BILLABLE,
    diagnoses.RULE_RELEASE_MISMATCH,
)


class RegistryTests:
    @pytest.mark.parametrize("year", [2025, 2026])
    def test_it_prices_every_catalog_code_in_each_built_in_year(
        self, rules: RuleSet, year: int
    ) -> None:
        for code in CATALOG:
            for month in (1, 7, 12):
                row = rules.fees.rvu(code, date(year, month, 15))
                assert row is not None and row.code == code, (code, year, month)

    def test_it_has_a_threshold_for_every_year_2018_to_2026(self) -> None:
        assert sorted(THRESHOLDS) == list(range(2018, 2027))

    @pytest.mark.parametrize("qp", [False, True])
    def test_it_has_exactly_one_conversion_factor_every_day(self, qp: bool) -> None:
        day, last = CONVERSION_FACTORS[0].start, CONVERSION_FACTORS[-1].end
        while day <= last:
            matching = [
                f for f in CONVERSION_FACTORS if f.start <= day <= f.end and f.qp in (None, qp)
            ]
            assert len(matching) == 1, day
            assert conversion_factor(day, qp=qp) is matching[0]
            day += timedelta(days=1)

    def test_it_lists_every_finding_rule_id_in_the_readme(self) -> None:
        readme = (ROOT / "README.md").read_text(encoding="utf-8")
        section = readme.split("### Finding rule ids", 1)[1].split("\n## ", 1)[0]
        listed = set(re.findall(r"`([a-z0-9]+\.[a-z0-9.-]+)`", section))
        assert listed == set(ENGINE_RULES) | set(DX_RULES) | set(documentation.RULES)

    def test_it_finds_every_engine_rule_id_in_the_engine_source(self) -> None:
        source = "".join(
            path.read_text(encoding="utf-8")
            for path in (ROOT / "src" / "handrail" / "rules").glob("*.py")
        )
        for rule in ENGINE_RULES:
            assert f'"{rule}"' in source, rule

    def test_it_names_no_code_with_a_cms_short_descriptor(self) -> None:
        # Short descriptors in the PPRRVU files are AMA text: our names must be our own.
        rows = shared_cms_file("PPRRVU2026_Jul_nonQPP.csv").read_text(encoding="latin-1")
        short = {}
        for line in rows.splitlines():
            cells = line.split(",")
            if len(cells) > 2 and cells[0] in CATALOG and cells[1] == "":
                short[cells[0]] = cells[2].strip().lower()
        assert len(short) == len(CATALOG)
        clashes = [code for code, spec in CATALOG.items() if spec.name.lower() == short[code]]
        assert clashes == []

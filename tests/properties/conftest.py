"""Shared fixtures of the property tests: the rule set, one per session."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from handrail.officialdata import load_ruleset
from handrail.rules.ruleset import RuleSet


@pytest.fixture(scope="session")
def rules(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RuleSet]:
    """The built-in tables (fee schedule, GPCIs, ZIP-to-locality, edits), nothing imported."""
    yield load_ruleset(data_dir=tmp_path_factory.mktemp("property-data"))

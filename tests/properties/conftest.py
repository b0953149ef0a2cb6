"""Shared fixtures of the property tests: the built-in rule set, one per session."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from handrail.officialdata import load_ruleset
from handrail.rules.ruleset import RuleSet


@pytest.fixture(scope="session")
def rules(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RuleSet]:
    """The built-in tables only: an empty data directory, so no local import leaks in."""
    yield load_ruleset(data_dir=tmp_path_factory.mktemp("empty-data"))

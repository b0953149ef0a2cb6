"""Shared fixtures of the engine tests: the built-in rule set and the shared CMS files."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from handrail.officialdata import load_ruleset
from handrail.rules.ruleset import RuleSet

SHARED_CMS = Path(__file__).resolve().parents[3] / "shared" / "data" / "cms"


@pytest.fixture(scope="session")
def rules(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RuleSet]:
    """The built-in tables only: an empty data directory, so no local import leaks in."""
    yield load_ruleset(data_dir=tmp_path_factory.mktemp("empty-data"))


def shared_cms_file(name: str) -> Path:
    path = SHARED_CMS / name
    if not path.is_file():
        pytest.skip(f"../shared/data/cms not found: {name} is needed (expected at {path})")
    return path

"""Shared fixtures of the property tests: the rule set, one per session."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from handrail.officialdata import load_ruleset
from handrail.officialdata.service import run_import
from handrail.rules.ruleset import RuleSet
from tests.rules.conftest import LOCALITY_FILES, SHARED_CMS


@pytest.fixture(scope="session")
def rules(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RuleSet]:
    """The built-in tables plus the shared CMS GPCI/ZIP files when present (a clinic imports
    those); without them, visits with a locality price nationally, which the properties allow."""
    data_dir = tmp_path_factory.mktemp("property-data")
    for kind, name in LOCALITY_FILES:
        if (SHARED_CMS / name).is_file():
            run_import(kind, SHARED_CMS / name, data_dir=data_dir)
    yield load_ruleset(data_dir=data_dir)

"""Shared fixtures of the engine tests: the built-in rule set and the shared CMS files."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from handrail.officialdata import load_ruleset
from handrail.officialdata.service import run_import
from handrail.rules.ruleset import RuleSet
from tests.officialdata.samples import CMS_DIR, cms_file

SHARED_CMS = CMS_DIR


@pytest.fixture(scope="session")
def rules(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RuleSet]:
    """The built-in tables only: an empty data directory, so no local import leaks in."""
    yield load_ruleset(data_dir=tmp_path_factory.mktemp("empty-data"))


LOCALITY_FILES = (("gpci", "GPCI2025.csv"), ("gpci", "GPCI2026.csv"), ("zip5", "ZIP5_OCT2025.txt"))


def import_locality_files(data_dir: Path) -> None:
    """Import the shared CMS GPCI and ZIP5 files: Handrail ships no copy, a clinic imports them."""
    for kind, name in LOCALITY_FILES:
        run_import(kind, shared_cms_file(name), data_dir=data_dir)


@pytest.fixture(scope="session")
def local_rules(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RuleSet]:
    """Built-in tables plus the CMS GPCI and ZIP-to-locality files, imported."""
    data_dir = tmp_path_factory.mktemp("locality-data")
    import_locality_files(data_dir)
    yield load_ruleset(data_dir=data_dir)


def shared_cms_file(name: str) -> Path:
    return cms_file(name)

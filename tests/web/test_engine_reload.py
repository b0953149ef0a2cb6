"""The web process's RuleSet follows the official-data store: an import made while the
server runs is used by the next evaluation, no restart (handrail.web.visits.engine)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.urls import reverse

from handrail.officialdata.errors import OfficialDataError
from handrail.officialdata.service import run_import
from handrail.web.visits.engine import ruleset
from handrail.web.visits.models import Visit
from handrail.web.visits.services import service_line_add, visit_create, visit_evaluate
from tests.officialdata.samples import write_lines
from tests.web.conftest import World

# A GPCI file in the CMS Addendum E layout and a ZIP5 record placing the clinic's ZIP
# (62701, Springfield IL) in MAC 06102 locality 99. Synthetic GPCI values, not CMS's.
GPCI_HEADER = [
    "ADDENDUM E. FINAL CY 2026 GEOGRAPHIC PRACTICE COST INDICES (GPCIs) BY STATE AND MEDICARE"
    " LOCALITY,,,,,,",
    ",,,,,,",
    "Medicare Administrative Contractor (MAC),State,Locality Number,Locality Name,"
    "2026 PW GPCI (with 1.0 Floor)***,2026 PE GPCI,2026 MP GPCI",
]
ALABAMA = "10112,AL,00,ALABAMA,1.000,0.875,0.566"
LOCALITY = "locality 06102-99 (GPCI2026; ZIP5 2025Q4)"
# The built-in CMS tables (REST OF ILLINOIS 1.000/0.913/1.563): 97110 (0.45, 0.41, 0.01) x
# 33.4009 = 28.06, the second unit at half PE 21.80.
BUILT_IN = ("06102-99", 49.86, [28.06, 21.8])


def _zip5_record(zip5: str, mac: str, locality: str, state: str) -> str:
    # CMS ZIP5 file: state, ZIP, carrier (MAC), locality, ...; year and quarter at 76-80.
    return f"{state}{zip5}{mac}{locality} Z9   0 A".ljust(75) + "20254"


def _import_illinois(tmp_path: Path, pe_gpci: str) -> None:
    """Import (HANDRAIL_DATA_DIR) the ZIP5 record and a GPCI2026 release for MAC-LOC 06102-99."""
    zip5 = write_lines(tmp_path / "ZIP5.txt", [_zip5_record("62701", "06102", "99", "IL")])
    run_import("zip5", zip5)
    illinois = f"06102,IL,99,REST OF ILLINOIS,1.000,{pe_gpci},1.200"
    run_import("gpci", write_lines(tmp_path / "GPCI2026.csv", [*GPCI_HEADER, illinois, ALABAMA]))


def _rules(result: dict[str, Any]) -> list[str]:
    return sorted(str(finding["rule"]) for finding in result["findings"])


def _pricing(result: dict[str, Any]) -> tuple[str, float, list[float]]:
    payment = result["payment"]
    amounts = result["claim_lines"][0]["unit_amounts"]
    return (payment["locality"], payment["allowed"], amounts)


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty official-data store for this test only (built-in tables until an import)."""
    folder = tmp_path / "data"
    monkeypatch.setenv("HANDRAIL_DATA_DIR", str(folder))
    return folder


def _visit(world: World) -> Visit:
    visit = visit_create(user=world.pt, case=world.pt_case, date=world.today)
    service_line_add(user=world.pt, visit=visit, code="97110", therapist_minutes=30)
    return visit


class RulesetReloadTests:
    def test_it_prices_by_locality_after_an_import_without_a_restart(
        self, world: World, data_dir: Path, tmp_path: Path
    ) -> None:
        visit = _visit(world)
        before = visit_evaluate(visit=visit)
        assert _rules(before) == ["dx.missing"]
        assert _pricing(before) == BUILT_IN
        assert before["payment"]["source"].endswith(LOCALITY)
        _import_illinois(tmp_path, pe_gpci="0.900")  # an import wins over the built-in table
        after = visit_evaluate(visit=visit)
        assert _rules(after) == ["dx.missing"]
        assert _pricing(after) == ("06102-99", 49.35, [27.76, 21.59])
        assert after["payment"]["source"].endswith(LOCALITY)

    def test_it_shows_the_new_release_on_the_note_page_and_the_api(
        self, world: World, data_dir: Path, tmp_path: Path
    ) -> None:
        visit = _visit(world)
        client = world.client_for(world.pt)
        panel = client.get(reverse("notes:panel", args=[visit.pk])).content.decode()
        assert LOCALITY in panel and "49.86" in panel and "49.35" not in panel
        _import_illinois(tmp_path, pe_gpci="0.900")
        panel = client.get(reverse("notes:panel", args=[visit.pk])).content.decode()
        assert LOCALITY in panel and "49.35" in panel and "49.86" not in panel
        result = client.post(f"/api/visits/{visit.pk}/evaluate").json()
        assert (result["payment"]["locality"], result["payment"]["allowed"]) == ("06102-99", 49.35)

    def test_it_sees_a_release_imported_again_under_the_same_label(
        self, world: World, data_dir: Path, tmp_path: Path
    ) -> None:
        """Re-importing GPCI2026 deletes and re-inserts it under the same release id."""
        visit = _visit(world)
        _import_illinois(tmp_path, pe_gpci="0.900")
        assert _pricing(visit_evaluate(visit=visit)) == ("06102-99", 49.35, [27.76, 21.59])
        _import_illinois(tmp_path, pe_gpci="1.100")
        assert _pricing(visit_evaluate(visit=visit)) == ("06102-99", 53.46, [30.5, 22.96])

    def test_it_keeps_the_ruleset_while_the_store_is_unchanged(
        self, world: World, data_dir: Path, tmp_path: Path
    ) -> None:
        first = ruleset()
        assert ruleset() is first
        _import_illinois(tmp_path, pe_gpci="0.900")
        second = ruleset()
        assert second is not first
        assert ruleset() is second
        bad = write_lines(tmp_path / "bad.csv", [*GPCI_HEADER, "06102,IL,99,X,1.000,one,1.2"])
        with pytest.raises(OfficialDataError):
            run_import("gpci", bad)  # refused: nothing imported, nothing to reload
        assert ruleset() is second

    def test_it_follows_a_change_of_data_folder(
        self, world: World, data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        visit = _visit(world)
        _import_illinois(tmp_path, pe_gpci="0.900")
        assert _pricing(visit_evaluate(visit=visit))[0] == "06102-99"
        monkeypatch.setenv("HANDRAIL_DATA_DIR", str(tmp_path / "empty"))
        assert _pricing(visit_evaluate(visit=visit)) == BUILT_IN

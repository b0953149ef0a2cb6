"""The data status page (/clinic/data/): the releases `handrail data status` lists, and
imports from the web with the command line's all-or-nothing checks; admins only."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from handrail.officialdata.files import KINDS
from handrail.officialdata.service import data_status
from handrail.officialdata.store import CACHE_FOLDER
from handrail.web.clinic.models import User
from handrail.web.ops.data_services import KIND_LABELS
from tests.officialdata.samples import cms_file
from tests.web.conftest import World

URL = reverse("ops:data-status")


@pytest.fixture(scope="module")
def icd_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The packaged ICD-10-CM index that `data status` counts, built once for the module."""
    folder = tmp_path_factory.mktemp("icd") / "data"
    data_status(data_dir=folder)
    return folder / CACHE_FOLDER


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, icd_cache: Path) -> Path:
    """An empty official-data store for this test only (built-in tables until an import)."""
    folder = tmp_path / "data"
    folder.mkdir()
    (folder / CACHE_FOLDER).symlink_to(icd_cache, target_is_directory=True)
    monkeypatch.setenv("HANDRAIL_DATA_DIR", str(folder))
    return folder


def _upload(name: str, content: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="text/csv")


def _imported() -> list[tuple[str, str, int]]:
    return [(r.kind, r.label, r.rows) for r in data_status() if not r.builtin]


def _gpci_2026() -> bytes:
    return cms_file("GPCI2026.csv").read_bytes()


class DataStatusPageTests:
    def test_it_lists_every_release_data_status_lists(self, world: World, data_dir: Path) -> None:
        response = world.client_for(world.admin).get(URL)
        html = response.content.decode()
        assert response.status_code == 200
        releases = data_status()
        assert html.count('<tr id="release-') == len(releases)
        for release in releases:
            assert release.label in html
            assert f"{release.origin}: {release.file_name}" in html
        assert "2026-07-01 to 2026-12-31" in html  # the built-in RVU26C window
        assert 'aria-current="page">Data</a>' in html

    def test_it_names_every_importer_kind_in_the_form(self) -> None:
        assert tuple(KIND_LABELS) == KINDS

    @pytest.mark.parametrize("role", ["pt", "ot", "ota", "biller", "front_desk", "outsider"])
    def test_it_refuses_every_role_but_admin(
        self, world: World, data_dir: Path, role: str
    ) -> None:
        client = world.client_for(getattr(world, role))
        assert client.get(URL).status_code == 403
        response = client.post(URL, {"kind": "gpci", "file": _upload("GPCI2026.csv", b"x\n")})
        assert response.status_code == 403
        assert _imported() == []

    def test_it_refuses_a_deactivated_admin(self, world: World, data_dir: Path) -> None:
        User.objects.filter(pk=world.admin.pk).update(is_active=False)
        client = Client()
        client.force_login(world.admin)
        assert client.get(URL).status_code in (302, 403)

    def test_it_shows_the_nav_link_to_admins_only(self, world: World, data_dir: Path) -> None:
        home = reverse("patient-list")
        assert f'href="{URL}"' in world.client_for(world.admin).get(home).content.decode()
        assert f'href="{URL}"' not in world.client_for(world.pt).get(home).content.decode()


class DataImportPageTests:
    def test_it_imports_a_real_gpci_file_and_lists_it(self, world: World, data_dir: Path) -> None:
        client = world.client_for(world.admin)
        response = client.post(
            URL, {"kind": "gpci", "file": _upload("GPCI2026.csv", _gpci_2026())}, follow=True
        )
        html = response.content.decode()
        assert response.status_code == 200
        assert _imported() == [("gpci", "GPCI2026", 109)]
        assert (
            "Imported gpci release GPCI2026: 109 rows from GPCI2026.csv, effective 2026-01-01 "
            "to 2026-12-31." in html
        )
        assert "imported: GPCI2026.csv" in html

    def test_it_stops_at_a_malformed_row_naming_the_file_and_line(
        self, world: World, data_dir: Path
    ) -> None:
        lines = _gpci_2026().split(b"\n")
        lines[49] = b"06102,IL,99,REST OF ILLINOIS,abc,0.9,1.0"
        response = world.client_for(world.admin).post(
            URL, {"kind": "gpci", "file": _upload("GPCI2026.csv", b"\n".join(lines))}
        )
        html = response.content.decode()
        assert response.status_code == 422
        assert (
            "GPCI2026.csv:50: work GPCI &#x27;abc&#x27; is not a number of zero or more; "
            "correct the row" in html
        )
        assert "handrail-import-" not in html  # the upload's temporary folder stays hidden
        assert _imported() == []  # nothing half-imported

    def test_it_says_which_kind_a_wrong_file_looks_like(
        self, world: World, data_dir: Path
    ) -> None:
        response = world.client_for(world.admin).post(
            URL, {"kind": "pfs", "file": _upload("GPCI2026.csv", _gpci_2026())}
        )
        assert response.status_code == 422
        assert "GPCI2026.csv: this is not a" in response.content.decode()
        assert _imported() == []

    def test_it_requires_a_kind_and_a_file(self, world: World, data_dir: Path) -> None:
        client = world.client_for(world.admin)
        no_kind = client.post(URL, {"file": _upload("GPCI2026.csv", _gpci_2026())})
        assert no_kind.status_code == 422
        assert "This field is required." in no_kind.content.decode()
        no_file = client.post(URL, {"kind": "gpci"})
        assert no_file.status_code == 422
        assert "Choose the file to import." in no_file.content.decode()
        assert _imported() == []

    def test_it_takes_one_file_for_every_kind_but_ptp(self, world: World, data_dir: Path) -> None:
        files = [_upload("GPCI2026.csv", _gpci_2026()), _upload("GPCI2025.csv", b"x\n")]
        response = world.client_for(world.admin).post(URL, {"kind": "gpci", "file": files})
        assert response.status_code == 422
        assert "Choose one gpci file; only the ptp kind takes several part files." in (
            response.content.decode()
        )
        assert _imported() == []

    def test_it_refuses_an_unknown_field(self, world: World, data_dir: Path) -> None:
        response = world.client_for(world.admin).post(
            URL,
            {"kind": "gpci", "relase": "X", "file": _upload("GPCI2026.csv", _gpci_2026())},
        )
        assert response.status_code == 422
        assert "relase: unknown field" in response.content.decode()
        assert _imported() == []

    def test_it_takes_the_release_label_and_effective_date_given(
        self, world: World, data_dir: Path
    ) -> None:
        response = world.client_for(world.admin).post(
            URL,
            {
                "kind": "gpci",
                "release": "GPCI 2026 (web test)",
                "effective": "2026-03-01",
                "file": _upload("GPCI2026.csv", _gpci_2026()),
            },
        )
        assert response.status_code == 302
        (release,) = [r for r in data_status() if not r.builtin]
        assert (release.label, release.effective_from.isoformat()) == (
            "GPCI 2026 (web test)",
            "2026-03-01",
        )

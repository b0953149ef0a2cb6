"""The home-program endpoints of the JSON API: shapes, bad input (4xx naming the field,
nothing saved), isolation and the billing answer of an issue."""

from __future__ import annotations

import io
from typing import Any

from pypdf import PdfReader

from handrail.web.programs.models import LibraryEntry, Program, ProgramItem
from handrail.web.visits.models import ServiceLine
from handrail.web.visits.services import visit_create
from tests.web.conftest import World
from tests.web.test_api import _api_client


def _entry(kind: str, code: str) -> LibraryEntry:
    found = LibraryEntry.objects.filter(clinic__isnull=True, kind=kind, billing_code=code).first()
    assert found is not None
    return found


def _create(world: World, items: list[dict[str, Any]], user: Any = None) -> Any:
    return _api_client(world, user or world.ot).post(
        "/api/programs",
        {
            "patient_id": world.patient.pk,
            "case_id": world.ot_case.pk,
            "title": "Home ADLs",
            "items": items,
        },
        content_type="application/json",
    )


class LibraryApiTests:
    def test_it_searches_with_the_documented_shape(self, world: World) -> None:
        response = _api_client(world, world.biller).get(
            "/api/library", {"q": "tub bench", "kind": "self_care", "code": "97535"}
        )
        assert response.status_code == 200
        body = response.json()
        assert body["count"] >= 1
        first = body["items"][0]
        assert set(first) >= {"id", "title", "kind", "billing_code", "regions", "media"}
        assert all(item["billing_code"] == "97535" for item in body["items"])

    def test_front_desk_is_refused(self, world: World) -> None:
        assert _api_client(world, world.front_desk).get("/api/library").status_code == 403


class ProgramApiTests:
    def test_it_creates_a_draft_and_reads_it_back(self, world: World) -> None:
        entry = _entry("self_care", "97535")
        response = _create(world, [{"entry_id": entry.pk, "sets": None, "reps": 5, "notes": "x"}])
        assert response.status_code == 201
        body = response.json()
        assert body["status"] == "draft" and body["id"] == Program.objects.get().pk
        assert body["items"][0]["reps"] == 5 and body["items"][0]["notes"] == "x"
        detail = _api_client(world, world.ot).get(f"/api/programs/{body['id']}")
        assert detail.json()["versions"] == []

    def test_bad_input_names_the_field_and_saves_nothing(self, world: World) -> None:
        entry = _entry("exercise", "97110")
        cases = [
            ([{"entry_id": entry.pk, "sets": 500, "reps": 10}], 400, "items[0].sets"),
            ([{"entry_id": entry.pk, "reps": 0}], 400, "items[0].reps"),
            ([{"entry_id": 987654}], 400, "items[0].entry_id"),
        ]
        for items, status, field in cases:
            response = _create(world, items)
            assert response.status_code == status, response.content
            assert field in response.json()["errors"]
        unknown = _create(world, [{"entry_id": entry.pk, "colour": "red"}])
        assert unknown.status_code == 422
        assert unknown.json()["detail"][0]["loc"][-1] == "colour"
        assert not Program.objects.exists()

    def test_another_clinics_case_and_program_are_not_found(self, world: World) -> None:
        entry = _entry("self_care", "97535")
        program_id = _create(world, [{"entry_id": entry.pk}]).json()["id"]
        outsider = _api_client(world, world.outsider)
        assert outsider.get(f"/api/programs/{program_id}").status_code == 404
        response = outsider.post(
            "/api/programs",
            {"patient_id": world.patient.pk, "case_id": world.ot_case.pk, "title": "X"},
            content_type="application/json",
        )
        assert response.status_code == 404

    def test_items_are_added_and_patched(self, world: World) -> None:
        client = _api_client(world, world.ot)
        program_id = _create(world, []).json()["id"]
        entry = _entry("exercise", "97110")
        added = client.post(
            f"/api/programs/{program_id}/items",
            {"entry_id": entry.pk, "sets": 2, "reps": 10},
            content_type="application/json",
        )
        assert added.status_code == 201
        item_id = added.json()["id"]
        patched = client.patch(
            f"/api/programs/{program_id}/items/{item_id}",
            {"reps": 12, "notes": "Slowly"},
            content_type="application/json",
        )
        assert patched.status_code == 200
        assert (patched.json()["sets"], patched.json()["reps"]) == (2, 12)
        refused = client.patch(
            f"/api/programs/{program_id}/items/{item_id}",
            {"sets": 500},
            content_type="application/json",
        )
        assert refused.status_code == 400 and "sets" in refused.json()["errors"]
        assert ProgramItem.objects.get().sets == 2

    def test_issue_at_a_visit_bills_97535_and_outside_a_visit_does_not(self, world: World) -> None:
        client = _api_client(world, world.ot)
        entry = _entry("self_care", "97535")
        program_id = _create(world, [{"entry_id": entry.pk}]).json()["id"]
        outside = client.post(
            f"/api/programs/{program_id}/issue", {}, content_type="application/json"
        )
        assert outside.status_code == 200
        body = outside.json()
        assert body["version"] == 1 and body["billing"]["billable"] is False
        assert "outside a visit" in body["billing"]["reason"]
        note = visit_create(user=world.ot, case=world.ot_case, date=world.today)
        taught = client.post(
            f"/api/programs/{program_id}/issue",
            {"visit_id": note.pk, "teaching_methods": ["demonstration"], "minutes": {"97535": 9}},
            content_type="application/json",
        )
        assert taught.json()["billing"] == {
            "code": "97535",
            "billable": True,
            "reason": taught.json()["billing"]["reason"],
        }
        assert ServiceLine.objects.get(visit=note).therapist_minutes == 9

    def test_the_handout_is_a_pdf_with_the_first_name_and_items(self, world: World) -> None:
        entry = _entry("self_care", "97535")
        program_id = _create(world, [{"entry_id": entry.pk}]).json()["id"]
        response = _api_client(world, world.biller).get(f"/api/programs/{program_id}/handout.pdf")
        assert response["Content-Type"] == "application/pdf"
        text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(response.content)).pages)
        assert world.patient.first_name in text and entry.title in text

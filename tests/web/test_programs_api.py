"""The home-program endpoints of the JSON API: shapes, bad input (4xx naming the field,
nothing saved), isolation and the billing answer of an issue."""

from __future__ import annotations

import io
from datetime import timedelta
from typing import Any

from django.test import Client
from pypdf import PdfReader

from handrail.web.portal.models import PatientLink
from handrail.web.portal.services import links_revoke, token_hash
from handrail.web.programs.models import LibraryEntry, Program, ProgramItem, ProgramVersion
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


class IssueLinkApiTests:
    """`patient_url`: made by the issue when the program has no working link; a token is
    stored hashed, so an existing link is never shown again (`patient_link` says so)."""

    def _issue(self, world: World, program_id: int, **payload: Any) -> Any:
        return _api_client(world, world.ot).post(
            f"/api/programs/{program_id}/issue", payload, content_type="application/json"
        )

    def test_the_first_issue_returns_a_link_that_opens_the_program(self, world: World) -> None:
        entry = _entry("self_care", "97535")
        program_id = _create(world, [{"entry_id": entry.pk}]).json()["id"]
        body = self._issue(world, program_id).json()
        assert body["patient_link"]["status"] == "created"
        url = body["patient_url"]
        assert url.startswith("http") and "/p/" in url
        path = "/p/" + url.split("/p/", 1)[1]
        token = path.removeprefix("/p/").rstrip("/")
        link = PatientLink.objects.get()
        assert link.token_hash == token_hash(token) and token not in link.token_hash
        assert link.created_by == world.ot
        page = Client().get(path)
        assert page.status_code == 200 and entry.title in page.content.decode()

    def test_a_revision_reuses_the_working_link_unless_a_new_one_is_asked(
        self, world: World
    ) -> None:
        entry = _entry("self_care", "97535")
        program_id = _create(world, [{"entry_id": entry.pk}]).json()["id"]
        first = self._issue(world, program_id).json()["patient_url"]
        again = self._issue(world, program_id).json()
        assert again["version"] == 2 and again["patient_url"] is None
        assert again["patient_link"]["status"] == "existing"
        assert "new_link" in again["patient_link"]["message"]
        assert PatientLink.objects.count() == 1
        fresh = self._issue(world, program_id, new_link=True).json()["patient_url"]
        assert fresh and fresh != first and PatientLink.objects.count() == 2
        for url in (first, fresh):  # the old link keeps working until revoked
            assert Client().get("/p/" + url.split("/p/", 1)[1]).status_code == 200

    def test_after_every_link_is_revoked_the_next_issue_makes_one(self, world: World) -> None:
        entry = _entry("self_care", "97535")
        program_id = _create(world, [{"entry_id": entry.pk}]).json()["id"]
        old = self._issue(world, program_id).json()["patient_url"]
        links_revoke(program=Program.objects.get(), by=world.ot)
        body = self._issue(world, program_id).json()
        assert body["patient_link"]["status"] == "created" and body["patient_url"] != old
        assert Client().get("/p/" + old.split("/p/", 1)[1]).status_code == 404

    def test_an_ended_program_gets_no_link(self, world: World) -> None:
        entry = _entry("self_care", "97535")
        program_id = _create(world, [{"entry_id": entry.pk}]).json()["id"]
        world.ot_case.opened_on = world.today - timedelta(days=90)
        world.ot_case.closed_on = world.today - timedelta(days=60)
        world.ot_case.save()
        body = self._issue(world, program_id).json()
        assert body["patient_url"] is None and body["patient_link"]["status"] == "expired"
        assert not PatientLink.objects.exists()

    def test_a_refused_issue_makes_no_link_and_no_version(self, world: World) -> None:
        entry = _entry("self_care", "97535")
        program_id = _create(world, [{"entry_id": entry.pk}]).json()["id"]
        note = visit_create(user=world.ot, case=world.ot_case, date=world.today)
        response = self._issue(world, program_id, visit_id=note.pk, minutes={"97535": 500})
        assert response.status_code == 400
        assert "minutes.97535" in response.json()["errors"]
        assert not PatientLink.objects.exists() and not ProgramVersion.objects.exists()
        unknown = self._issue(world, program_id, new_link="yes please", colour="red")
        assert unknown.status_code == 422
        assert not PatientLink.objects.exists()

"""The patient's link (no account), the session log, rate limits, the handout, the staff
page of a program's patient side, the flags worklist and the adherence endpoint."""

from __future__ import annotations

import io
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test import Client
from PIL import Image
from pypdf import PdfReader

from handrail.web.audit.models import AuditEvent
from handrail.web.portal.demo import portal_demo_load
from handrail.web.portal.models import (
    AccessAction,
    LinkAccess,
    LinkCounter,
    PatientLink,
    SessionLog,
)
from handrail.web.portal.selectors import flagged_programs, program_progress
from handrail.web.portal.services import (
    link_create,
    link_resolve,
    links_revoke,
    session_log_create,
    token_hash,
)
from handrail.web.portal.throttle import link_hit
from handrail.web.programs.media import media_add
from handrail.web.programs.models import LibraryEntry, Program, ProgramVersion
from handrail.web.programs.services import ItemInput, program_create, program_issue
from tests.web.conftest import World
from tests.web.test_signin_throttle import _burst


def issued_program(world: World, title: str = "Dressing at home", count: int = 2) -> Program:
    entries = LibraryEntry.objects.filter(
        clinic__isnull=True, kind="self_care", archived=False
    ).order_by("key")[:count]
    program = program_create(
        user=world.ot,
        case=world.ot_case,
        title=title,
        items=[ItemInput(entry_id=e.pk, dose={}) for e in entries],
    )
    return issue(world, program)


def issue(world: World, program: Program) -> Program:
    """Issue the program outside a visit (sent, not billable), as the builder's page does."""
    program_issue(user=world.ot, program=program)
    program.refresh_from_db()
    return program


def backdate(program: Program, days: int) -> None:
    """Issue the program `days` ago (versions are never changed by the app; tests may)."""
    ProgramVersion.objects.filter(program=program).update(
        issued_at=ProgramVersion.objects.filter(program=program).first().issued_at  # type: ignore[union-attr]
        - timedelta(days=days)
    )


def item_ids(program: Program) -> list[str]:
    version = program.versions.order_by("-number").first()
    assert version is not None
    return [str(row["item_id"]) for row in version.items]


@pytest.fixture
def program(world: World) -> Program:
    return issued_program(world)


@pytest.fixture
def token(world: World, program: Program) -> str:
    return link_create(program=program, by=world.ot)[1]


class LinkTests:
    def test_it_stores_only_the_tokens_hash(self, program: Program, token: str) -> None:
        link = PatientLink.objects.get(program=program)
        assert link.token_hash == token_hash(token) != token
        assert len(token) >= 43

    def test_it_opens_without_an_account_with_the_items_in_order(
        self, world: World, program: Program, token: str
    ) -> None:
        response = Client().get(f"/p/{token}/")
        assert response.status_code == 200
        page = response.content.decode()
        assert "Hello Ada" in page
        titles = [row["title"] for row in program.versions.get().items]
        positions = [page.index(title) for title in titles]
        assert positions == sorted(positions)
        assert LinkAccess.objects.filter(action=AccessAction.VIEW).count() == 1

    @pytest.mark.parametrize("kind", ["revoked", "unknown", "tampered", "expired"])
    def test_a_closed_link_gets_a_plain_page(
        self, world: World, program: Program, token: str, kind: str
    ) -> None:
        path = f"/p/{token}/"
        if kind == "revoked":
            links_revoke(program=program, by=world.ot)
        elif kind == "unknown":
            path = "/p/not-a-token-of-ours/"
        elif kind == "tampered":
            path = f"/p/{token[:-1]}{'A' if token[-1] != 'A' else 'B'}/"
        else:
            world.ot_case.closed_on = world.today - timedelta(days=31)
            world.ot_case.opened_on = world.today - timedelta(days=40)
            world.ot_case.save()
        response = Client().get(path)
        assert response.status_code == 404
        page = response.content.decode()
        assert "contact your clinic" in page
        assert program.title not in page and "Ada" not in page
        assert link_resolve(token).problem == {"unknown": "", "tampered": ""}.get(kind, kind)

    def test_a_token_reaches_only_its_program(self, world: World, token: str) -> None:
        other = issued_program(world, title="Kitchen safety", count=3)
        other_titles = [row["title"] for row in other.versions.get().items][2:]
        page = Client().get(f"/p/{token}/").content.decode()
        assert other_titles and all(title not in page for title in other_titles)

    def test_a_draft_program_gets_no_link(self, world: World) -> None:
        draft = program_create(user=world.ot, case=world.ot_case, title="Draft")
        with pytest.raises(ValidationError, match="Issue the program"):
            link_create(program=draft, by=world.ot)

    def test_it_rate_limits_a_token(self, settings: Any, token: str) -> None:
        settings.PORTAL_RATE_LIMIT = 3
        client = Client()
        codes = [client.get(f"/p/{token}/").status_code for _ in range(4)]
        assert codes == [200, 200, 200, 429]

    @pytest.mark.django_db
    def test_it_rate_limits_guesses_from_one_address(self, settings: Any) -> None:
        settings.PORTAL_ADDRESS_RATE_LIMIT = 2
        client = Client()
        codes = [client.get(f"/p/guess-{n}/").status_code for n in range(3)]
        assert codes == [404, 404, 429]


class PrintAndHandoutTests:
    def test_the_print_view_lists_the_items(self, program: Program, token: str) -> None:
        page = Client().get(f"/p/{token}/print/").content.decode()
        assert all(row["title"] in page for row in program.versions.get().items)

    def test_the_handout_holds_the_first_name_and_every_title(
        self, program: Program, token: str
    ) -> None:
        response = Client().get(f"/p/{token}/handout.pdf")
        assert response["Content-Type"] == "application/pdf"
        text = " ".join(
            page.extract_text() for page in PdfReader(io.BytesIO(response.content)).pages
        )
        text = " ".join(text.split())
        assert "Ada" in text and "Riverside Rehab" in text
        for row in program.versions.get().items:
            assert " ".join(row["title"].split()) in text


class LogTests:
    def post(self, token: str, **data: Any) -> Any:
        client = Client(enforce_csrf_checks=True)
        client.get(f"/p/{token}/")
        data["csrfmiddlewaretoken"] = client.cookies["csrftoken"].value
        return client.post(f"/p/{token}/", data)

    def test_it_logs_a_session(self, world: World, program: Program, token: str) -> None:
        ids = item_ids(program)
        response = self.post(
            token, items=ids[:1], pain_before="3", pain_after="2", difficulty="ok", comment="ok"
        )
        assert response.status_code == 302
        log = SessionLog.objects.get()
        assert (log.day, log.pain_before, log.pain_after) == (world.today, 3, 2)
        assert [row["item_id"] for row in log.items_done] == [int(ids[0])]

    def test_it_refuses_a_post_without_the_csrf_token(self, program: Program, token: str) -> None:
        response = Client(enforce_csrf_checks=True).post(
            f"/p/{token}/", {"items": item_ids(program)}
        )
        assert response.status_code == 403
        assert not SessionLog.objects.exists()

    @pytest.mark.parametrize(
        ("data", "field", "words"),
        [
            ({"pain_after": "11"}, "pain_after", "Pain after is 0"),
            ({"pain_before": "-1"}, "pain_before", "Pain before is 0"),
            ({"pain_before": "a lot"}, "pain_before", "whole number"),
            ({"day": "2999-01-01"}, "day", "in the future"),
            ({"day": "2020-01-01"}, "day", "before your program started"),
            ({"day": "16/11/2026"}, "day", "YYYY-MM-DD"),
            ({"difficulty": "brutal"}, "difficulty", "Difficulty"),
            ({"comment": "x" * 1001}, "comment", "at most 1000"),
            ({"items": ["999999"]}, "items", "only the exercises shown"),
            ({"items": []}, "items", "at least one"),
        ],
    )
    def test_bad_input_names_the_field_and_saves_nothing(
        self, program: Program, token: str, data: dict[str, Any], field: str, words: str
    ) -> None:
        data = {"items": item_ids(program)[:1], **data}
        response = self.post(token, **data)
        assert response.status_code == 400
        assert words in response.content.decode()
        assert f'id="error-{field}"' in response.content.decode()
        assert not SessionLog.objects.exists()

    def test_the_service_refuses_unknown_fields(self, program: Program, token: str) -> None:
        link = PatientLink.objects.get()
        with pytest.raises(ValidationError, match="Unknown field"):
            session_log_create(link=link, data={"mood": "fine"}, items=item_ids(program))

    def test_a_revoked_link_cannot_log(self, world: World, program: Program, token: str) -> None:
        client = Client(enforce_csrf_checks=True)
        client.get(f"/p/{token}/")
        links_revoke(program=program, by=world.ot)
        response = client.post(
            f"/p/{token}/",
            {"items": item_ids(program), "csrfmiddlewaretoken": client.cookies["csrftoken"].value},
        )
        assert response.status_code == 404
        assert not SessionLog.objects.exists()


class StaffPageTests:
    def test_clinicians_see_progress_and_the_view_is_audited(
        self, world: World, program: Program, token: str
    ) -> None:
        link = PatientLink.objects.get()
        session_log_create(link=link, data={"pain_before": "4"}, items=item_ids(program))
        for user in (world.ot, world.admin, world.biller, world.ota):
            response = world.client_for(user).get(f"/programs/{program.pk}/patient/")
            assert response.status_code == 200
            page = response.content.decode()
            assert 'class="chart"' in page and "Week 1" in page
        assert (
            AuditEvent.objects.filter(
                object_type="program", object_id=str(program.pk), action="view"
            ).count()
            == 4
        )

    def test_front_desk_and_other_clinics_cannot(self, world: World, program: Program) -> None:
        path = f"/programs/{program.pk}/patient/"
        assert world.client_for(world.front_desk).get(path).status_code == 403
        assert world.client_for(world.outsider).get(path).status_code == 404

    def test_a_new_link_is_shown_once_and_revoking_closes_it(
        self, world: World, program: Program
    ) -> None:
        client = world.client_for(world.ot)
        client.post(f"/programs/{program.pk}/patient/link/")
        page = client.get(f"/programs/{program.pk}/patient/").content.decode()
        start = page.index('id="new-link">') + len('id="new-link">')
        url = page[start : page.index("<", start)]
        token = url.rstrip("/").rsplit("/", 1)[1]
        assert Client().get(f"/p/{token}/").status_code == 200
        assert (
            'id="new-link"' not in client.get(f"/programs/{program.pk}/patient/").content.decode()
        )
        client.post(f"/programs/{program.pk}/patient/revoke/")
        assert Client().get(f"/p/{token}/").status_code == 404

    def test_billers_cannot_make_links(self, world: World, program: Program) -> None:
        response = world.client_for(world.biller).post(f"/programs/{program.pk}/patient/link/")
        assert response.status_code == 403
        assert not PatientLink.objects.exists()

    def test_clinicians_write_notes_per_program(self, world: World, program: Program) -> None:
        client = world.client_for(world.ot)
        client.post(f"/programs/{program.pk}/patient/notes/", {"text": "Check shoulder pain."})
        client.post(f"/programs/{program.pk}/patient/notes/", {"text": "  "})
        page = client.get(f"/programs/{program.pk}/patient/").content.decode()
        assert "Check shoulder pain." in page
        assert program.clinician_notes.count() == 1


class FlagsTests:
    def test_it_lists_inactive_and_painful_programs(self, world: World) -> None:
        quiet = issued_program(world, title="Quiet one")
        backdate(quiet, 10)
        sore = issued_program(world, title="Sore one", count=3)
        backdate(sore, 20)
        link, _token = link_create(program=sore, by=world.ot)
        ids = item_ids(sore)
        for days_ago, pain in ((12, 2), (10, 2), (5, 5), (1, 5)):
            day = (world.today - timedelta(days=days_ago)).isoformat()
            session_log_create(link=link, data={"day": day, "pain_after": str(pain)}, items=ids)
        fresh = issued_program(world, title="Fresh one", count=1)
        page = world.client_for(world.ot).get("/programs/flags/").content.decode()
        assert "Quiet one" in page and "No activity for 7 days" in page
        assert "Sore one" in page and "Pain up 3.0" in page
        assert fresh.title not in page
        assert world.client_for(world.front_desk).get("/programs/flags/").status_code == 403


class AdherenceApiTests:
    def test_it_counts_sessions_per_week(self, world: World, program: Program) -> None:
        backdate(program, 8)
        link, _token = link_create(program=program, by=world.ot)
        for days_ago in (7, 6, 1):
            day = (world.today - timedelta(days=days_ago)).isoformat()
            session_log_create(
                link=link, data={"day": day, "pain_before": "3"}, items=item_ids(program)
            )
        response = world.client_for(world.ot).get(f"/api/programs/{program.pk}/adherence")
        assert response.status_code == 200
        body = response.json()
        assert [w["sessions_done"] for w in body["weeks"]] == [2, 1]
        assert body["last_activity"] == (world.today - timedelta(days=1)).isoformat()
        assert body["pain"][0]["before"] == 3.0

    def test_other_clinics_get_404(self, world: World, program: Program) -> None:
        response = world.client_for(world.outsider).get(f"/api/programs/{program.pk}/adherence")
        assert response.status_code == 404


class PatientPageTests:
    def test_it_shows_each_issued_programs_progress(
        self, world: World, program: Program, token: str
    ) -> None:
        link = PatientLink.objects.get()
        session_log_create(link=link, data={"pain_after": "6"}, items=item_ids(program))
        page = world.client_for(world.ot).get(f"/patients/{world.patient.pk}/").content.decode()
        assert 'id="home-programs"' in page and program.title in page
        assert f'id="adherence-{program.pk}"' in page and f'id="pain-{program.pk}"' in page
        front = world.client_for(world.front_desk).get(f"/patients/{world.patient.pk}/")
        assert program.title not in front.content.decode()


class DemoTests:
    def test_it_logs_weeks_for_issued_programs_once(self, world: World, program: Program) -> None:
        logged = portal_demo_load(clinic=world.clinic, today=world.today)
        assert logged > 10
        progress = program_progress(program=program, today=world.today)
        assert len(progress.weeks) >= 3 and progress.pain
        assert portal_demo_load(clinic=world.clinic, today=world.today) == 0


@pytest.mark.django_db(transaction=True)
class ParallelLimitTests:
    def test_a_burst_of_30_parallel_requests_lets_exactly_the_limit_through(
        self, settings: Any
    ) -> None:
        if connection.vendor != "postgresql":
            pytest.skip(
                "parallel requests need PostgreSQL: set HANDRAIL_TEST_DATABASE_URL; SQLite's "
                "in-memory test database is one connection, so threads cannot race"
            )
        settings.PORTAL_RATE_LIMIT = 5
        calls = [lambda: link_hit(token_hash="a" * 64, address="203.0.113.7")] * 30
        results = _burst(calls)
        assert not [r for r in results if isinstance(r, Exception)]
        assert sum(1 for r in results if r is None) == 5
        assert LinkCounter.objects.get(scope="token").hits == 30


class FlagsQueryTests:
    def test_the_worklist_reads_in_a_fixed_number_of_queries(
        self, world: World, django_assert_max_num_queries: Any
    ) -> None:
        for n in range(6):
            backdate(issued_program(world, title=f"Program {n}", count=1), 10 + n)
        with django_assert_max_num_queries(4):
            flags = flagged_programs(user=world.ot, today=world.today)
        assert len(flags) == 6


class PatientMediaTests:
    @pytest.fixture(autouse=True)
    def _media_root(self, settings: Any, tmp_path: Path) -> None:
        settings.MEDIA_ROOT = str(tmp_path)

    def test_a_link_reaches_its_programs_pictures_only(
        self, world: World, program: Program, token: str
    ) -> None:
        entry_id = program.versions.get().items[0]["entry_id"]
        entry = LibraryEntry.objects.get(pk=entry_id)
        buffer = io.BytesIO()
        Image.new("RGB", (40, 30), (200, 120, 40)).save(buffer, format="PNG")
        mine = media_add(
            user=world.ot,
            entry=entry,
            stream=io.BytesIO(buffer.getvalue()),
            credit="Picture: synthetic test, CC BY-SA 4.0",
        )
        other_entry = (
            LibraryEntry.objects.filter(clinic__isnull=True)
            .exclude(pk__in=[row["entry_id"] for row in program.versions.get().items])
            .first()
        )
        assert other_entry is not None
        not_in_program = media_add(
            user=world.ot, entry=other_entry, stream=io.BytesIO(buffer.getvalue())
        )
        page = Client().get(f"/p/{token}/").content.decode()
        assert f"/p/{token}/media/{mine.pk}/" in page and "CC BY-SA 4.0" in page
        response = Client().get(f"/p/{token}/media/{mine.pk}/")
        assert response.status_code == 200
        assert b"".join(response.streaming_content).startswith(b"\x89PNG")
        partial = Client().get(f"/p/{token}/media/{mine.pk}/", HTTP_RANGE="bytes=0-3")
        assert (partial.status_code, partial.content) == (206, b"\x89PNG")
        assert Client().get(f"/p/{token}/media/{not_in_program.pk}/").status_code == 404
        pdf = Client().get(f"/p/{token}/handout.pdf")
        text = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.content)).pages)
        assert "CC BY-SA 4.0" in " ".join(text.split())

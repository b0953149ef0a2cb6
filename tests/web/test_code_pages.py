"""The code reference pages (/codes/, /codes/<code>/): every signed-in role reads them; the
answer is the one `handrail code` prints (officialdata.reference.code_answer)."""

from __future__ import annotations

from datetime import date

import pytest
from django.test import Client
from django.urls import reverse

from handrail.officialdata.reference import code_answer
from handrail.web.visits.engine import ruleset
from handrail.web.visits.services import service_line_add, visit_create
from tests.web.conftest import World

ROLES = ("admin", "pt", "ot", "ota", "biller", "front_desk", "outsider")


def _url(code: str) -> str:
    return reverse("ops:code", kwargs={"code": code})


class CodePageTests:
    @pytest.mark.parametrize("role", ROLES)
    def test_it_shows_97535_to_every_role(self, world: World, role: str) -> None:
        client = world.client_for(getattr(world, role))
        response = client.get(_url("97535"), {"date": "2026-03-02"})
        assert response.status_code == 200
        page = response.content.decode()
        assert "<code>97535</code> Self-care/home management training" in page
        assert "Training a caregiver with the patient absent is 97550-97552" in page
        assert 'href="/codes/97110/?date=2026-03-02"' in page
        assert "at most 8 unit(s) per patient per day" in page
        assert "National (all GPCIs 1.000): $32.40" in page
        index = client.get(reverse("ops:code-index"))
        assert index.status_code == 200
        assert 'href="/codes/97535/"' in index.content.decode()

    def test_it_shows_the_same_answer_as_the_command_line(self, world: World) -> None:
        response = world.client_for(world.biller).get(_url("97550"), {"date": "2024-05-01"})
        expected = code_answer("97550", date(2024, 5, 1), ruleset()).to_dict()
        page = response.content.decode()
        for fact in (*expected["status"], expected["telehealth"], expected["mue"]):
            assert fact["text"] in page
        assert "not on the Medicare telehealth list on 2024-05-01" in page
        assert "no MUE release covers 2024-05-01: not checked" in page

    def test_it_prices_at_the_clinic_zip(self, world: World) -> None:
        page = world.client_for(world.pt).get(_url("97110")).content.decode()
        # Fixed test day 2026-11-16; the built-in ZIP5 and GPCI2026 tables price ZIP 62701.
        assert 'value="2026-11-16"' in page
        assert "National (all GPCIs 1.000): $29.06" in page
        assert "Clinic ZIP 62701, Rest Of Illinois (IL): $28.06" in page

    def test_it_says_why_the_clinic_zip_cannot_be_priced(self, world: World) -> None:
        world.clinic.zip = "00000"
        world.clinic.save()
        page = world.client_for(world.pt).get(_url("97110")).content.decode()
        assert "Clinic ZIP 00000, ZIP 00000 (national rates): $29.06" in page
        assert (
            "priced at national rates: ZIP 00000 is not in the ZIP-to-locality table ZIP5 2025Q4."
        ) in page
        assert "National (all GPCIs 1.000): $29.06" in page

    def test_it_answers_404_with_the_nearest_codes_for_an_unknown_code(self, world: World) -> None:
        response = world.client_for(world.front_desk).get(_url("97536"))
        assert response.status_code == 404
        page = response.content.decode()
        assert "<code>97536</code> is not a code Handrail knows." in page
        assert 'href="/codes/97535/"' in page and 'href="/codes/97537/"' in page

    @pytest.mark.parametrize(
        ("query", "message"),
        [
            ({"date": "2026-02-30"}, "date: &#x27;2026-02-30&#x27; is not a valid date"),
            ({"when": "2026-02-01"}, "when: unknown parameter; give only date"),
        ],
    )
    def test_it_answers_400_naming_the_bad_parameter(
        self, world: World, query: dict[str, str], message: str
    ) -> None:
        response = world.client_for(world.ota).get(_url("97535"), query)
        assert response.status_code == 400
        assert message in response.content.decode()

    def test_it_needs_a_signed_in_user(self, world: World) -> None:
        response = Client().get(_url("97535"))
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))


class CodeLinksTests:
    def test_the_note_links_its_codes_picker_and_findings_to_the_reference(
        self, world: World
    ) -> None:
        visit = visit_create(user=world.ot, case=world.ot_case, date=world.today)
        service_line_add(user=world.ot, visit=visit, code="97535")
        url = reverse("notes:note", kwargs={"visit_id": visit.pk})
        page = world.client_for(world.ot).get(url).content.decode()
        assert 'id="code-reference-link"' in page and 'href="/codes/"' in page
        assert f'href="/codes/97535/?date={world.today.isoformat()}"' in page
        # The 97535 line has no note: its finding links to the code's page.
        assert 'class="code-ref" href="/codes/97535/">97535 reference</a>' in page

"""Each security rule of issue #3, proven through the pages and the API."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.conf import settings
from django.contrib.auth.hashers import get_hasher, make_password
from django.core.exceptions import PermissionDenied
from django.test import Client, override_settings
from django.urls import reverse

from handrail.web.audit.models import AuditEvent
from handrail.web.care.services import GoalInput, plan_of_care_certify, plan_of_care_create
from handrail.web.clinic.models import SignInCounter
from handrail.web.visits.services import service_line_add, visit_create
from tests.web.conftest import PASSWORD, World


def _pages(world: World, visit_id: int) -> list[str]:
    return [
        reverse("home"),
        reverse("patient-list"),
        reverse("patient-create"),
        reverse("patient-detail", args=[world.patient.pk]),
        reverse("patient-edit", args=[world.patient.pk]),
        reverse("case-create", args=[world.patient.pk]),
        reverse("case-detail", args=[world.ot_case.pk]),
        reverse("plan-create", args=[world.ot_case.pk]),
        reverse("visit-start", args=[world.ot_case.pk]),
        reverse("visit-detail", args=[visit_id]),
        reverse("notes:note", args=[visit_id]),
    ]


class LoginRequiredTests:
    def test_it_redirects_every_page_to_the_login(self, world: World) -> None:
        visit = visit_create(user=world.ot, case=world.ot_case, date=world.today)
        client = Client()
        for url in _pages(world, visit.pk):
            response = client.get(url)
            assert (url, response.status_code) == (url, 302)
            assert response["Location"].startswith("/login/?next=")

    def test_it_answers_401_on_every_api_endpoint(self, world: World) -> None:
        client = Client()
        for url in ["/api/patients", f"/api/patients/{world.patient.pk}", "/api/visits/1"]:
            assert client.get(url).status_code == 401
        assert client.post("/api/visits", {}, content_type="application/json").status_code in (
            401,
            403,
        )

    def test_it_leaves_the_login_page_and_the_api_schema_open(self, world: World) -> None:
        assert Client().get("/login/").status_code == 200
        assert Client().get("/api/openapi.json").status_code == 200
        assert Client().get("/api/docs").status_code == 404  # no CDN-loaded Swagger UI


class ClinicIsolationTests:
    def test_it_hides_another_clinics_patient_from_pages(self, world: World) -> None:
        client = world.client_for(world.outsider)
        assert client.get(reverse("patient-detail", args=[world.patient.pk])).status_code == 404
        assert client.get(reverse("case-detail", args=[world.ot_case.pk])).status_code == 404
        listing = client.get(reverse("patient-list")).content.decode()
        assert "Synthetic" not in listing and "Elsewhere" in listing

    def test_it_hides_another_clinics_patient_from_the_api(self, world: World) -> None:
        client = world.client_for(world.outsider)
        assert client.get(f"/api/patients/{world.patient.pk}").json() == {
            "detail": "Not Found",
            "errors": None,
        }
        assert client.get(f"/api/patients/{world.patient.pk}").status_code == 404
        names = [p["last_name"] for p in client.get("/api/patients").json()]
        assert names == ["Elsewhere"]

    def test_it_hides_another_clinics_visit(self, world: World) -> None:
        visit = visit_create(user=world.ot, case=world.ot_case, date=world.today)
        client = world.client_for(world.outsider)
        assert client.get(f"/api/visits/{visit.pk}").status_code == 404
        assert client.get(reverse("notes:note", args=[visit.pk])).status_code == 404
        response = client.get(reverse("visit-detail", args=[visit.pk]), follow=True)
        assert response.status_code == 404


class RoleTests:
    def test_it_refuses_the_biller_a_signature_through_page_and_api(self, world: World) -> None:
        visit = visit_create(user=world.ot, case=world.ot_case, date=world.today)
        service_line_add(user=world.ot, visit=visit, code="97535", therapist_minutes=25)
        client = world.client_for(world.biller)
        assert client.post(reverse("notes:sign", args=[visit.pk])).status_code == 403
        response = client.post(f"/api/visits/{visit.pk}/sign", HTTP_X_CSRFTOKEN="x")
        assert response.status_code == 403
        visit.refresh_from_db()
        assert visit.status == "draft"

    def test_it_shows_the_front_desk_no_clinical_notes(self, world: World) -> None:
        visit = visit_create(
            user=world.ot, case=world.ot_case, date=world.today, narrative="Private"
        )
        client = world.client_for(world.front_desk)
        page = client.get(reverse("patient-detail", args=[world.patient.pk])).content.decode()
        assert "Right CVA ADLs" not in page and "I69.351" not in page
        assert "Clinical records are not shown to your role." in page
        assert client.get(reverse("notes:note", args=[visit.pk])).status_code == 403
        response = client.get(reverse("visit-detail", args=[visit.pk]), follow=True)
        assert response.status_code == 403
        assert client.get(reverse("case-detail", args=[world.ot_case.pk])).status_code == 403
        assert client.get(f"/api/visits/{visit.pk}").status_code == 403
        assert client.get(f"/api/patients/{world.patient.pk}").json()["cases"] == []

    def test_it_lets_no_assistant_establish_or_certify_a_plan(self, world: World) -> None:
        with pytest.raises(PermissionDenied):
            plan_of_care_create(
                user=world.ota,
                case=world.ot_case,
                diagnoses=["I69.351"],
                goals=[GoalInput("Dons shirt alone", world.today + timedelta(weeks=4))],
                frequency_per_week=2,
                duration_weeks=4,
                start_date=world.today,
            )
        with pytest.raises(PermissionDenied):
            plan_of_care_certify(
                user=world.ota,
                plan=world.ot_plan,
                certified_on=world.today,
                certifier_name="Dr. X",
            )
        client = world.client_for(world.ota)
        assert client.get(reverse("plan-create", args=[world.ot_case.pk])).status_code == 403


class AuditTests:
    def test_it_records_who_viewed_a_patient(self, world: World) -> None:
        world.client_for(world.biller).get(reverse("patient-detail", args=[world.patient.pk]))
        world.client_for(world.ot).get(f"/api/patients/{world.patient.pk}")
        views = AuditEvent.objects.filter(action="view", patient=world.patient).order_by("id")
        assert [(e.user.username, e.object_type) for e in views] == [
            ("bill", "patient"),
            ("olivia", "patient"),
        ]

    def test_it_shows_the_log_to_admins_only(self, world: World) -> None:
        world.client_for(world.biller).get(reverse("patient-detail", args=[world.patient.pk]))
        url = reverse("patient-audit", args=[world.patient.pk])
        assert world.client_for(world.ot).get(url).status_code == 403
        page = world.client_for(world.admin).get(url).content.decode()
        assert "Bill Test" in page and "Viewed" in page
        assert world.client_for(world.outsider).get(url).status_code == 403

    def test_it_records_changes_with_the_fields_changed(self, world: World) -> None:
        client = world.client_for(world.front_desk)
        data = {
            "first_name": "Ada",
            "last_name": "Synthetic",
            "birth_date": "1948-05-02",
            "sex": "F",
            "phone": "217-555-0100",
            "email": "",
            "address": "",
            "city": "",
            "state": "",
            "zip": "62701",
        }
        response = client.post(reverse("patient-edit", args=[world.patient.pk]), data)
        assert response.status_code == 302
        event = AuditEvent.objects.filter(action="update", patient=world.patient).latest("id")
        assert (event.user, event.detail) == (world.front_desk, "changed sex, phone")


class PasswordAndLoginTests:
    def test_it_hashes_passwords_with_argon2_in_production_settings(self) -> None:
        from handrail.web import settings as production

        assert production.PASSWORD_HASHERS[0] == "django.contrib.auth.hashers.Argon2PasswordHasher"
        with override_settings(PASSWORD_HASHERS=production.PASSWORD_HASHERS):
            assert get_hasher().algorithm == "argon2"
            assert make_password("synthetic-password-123").startswith("argon2$argon2id$")

    @override_settings(LOGIN_FAILURE_LIMIT=3)
    def test_it_locks_a_username_after_repeated_failures(self, world: World) -> None:
        client = Client()
        for _ in range(3):
            response = client.post("/login/", {"username": "olivia", "password": "wrong"})
            assert response.status_code == 200
        response = client.post("/login/", {"username": "olivia", "password": PASSWORD})
        assert response.status_code == 429
        assert "Too many failed sign-ins" in response.content.decode()
        assert "_auth_user_id" not in client.session

    def test_it_signs_in_and_clears_failures(self, world: World) -> None:
        client = Client()
        client.post("/login/", {"username": "olivia", "password": "wrong"})
        response = client.post("/login/", {"username": "olivia", "password": PASSWORD})
        assert (response.status_code, response["Location"]) == (302, "/patients/")
        assert SignInCounter.objects.get(scope="account", key="olivia").failures == 0


class HeaderTests:
    def test_it_sends_csp_and_secure_headers(self, world: World) -> None:
        response = Client().get("/login/")
        assert response["Content-Security-Policy"] == settings.CONTENT_SECURITY_POLICY
        assert "script-src 'self'" in response["Content-Security-Policy"]
        assert "'unsafe-inline'" not in response["Content-Security-Policy"]
        assert response["X-Frame-Options"] == "DENY"
        assert response["X-Content-Type-Options"] == "nosniff"
        assert response["Referrer-Policy"] == "same-origin"
        page = world.client_for(world.ot).get(reverse("patient-list"))
        assert page["Cache-Control"] == "no-store"
        assert page["Content-Security-Policy"] == settings.CONTENT_SECURITY_POLICY

    def test_it_enforces_csrf_on_pages(self, world: World) -> None:
        client = Client(enforce_csrf_checks=True)
        client.force_login(world.front_desk)
        response = client.post(reverse("patient-create"), {"first_name": "X"})
        assert response.status_code == 403

    def test_it_enforces_csrf_on_the_api(self, world: World) -> None:
        client = Client(enforce_csrf_checks=True)
        client.force_login(world.ot)
        response = client.post(
            "/api/visits",
            {"case_id": world.ot_case.pk, "date": world.today.isoformat()},
            content_type="application/json",
        )
        assert response.status_code == 403
        assert response.json()["detail"] == "CSRF check Failed"


class NulCharacterTests:
    """A NUL character in any field is refused with a 400 naming the field. PostgreSQL refuses
    NUL in text: POST /programs/<id>/template/ with one in the title answered 500 there."""

    def _program(self, world: World) -> int:
        from handrail.web.programs.models import LibraryEntry
        from handrail.web.programs.services import ItemInput, program_create

        entry = LibraryEntry.objects.filter(clinic__isnull=True, kind="self_care").order_by("key")[
            0
        ]
        program = program_create(
            user=world.ot,
            case=world.ot_case,
            title="Dressing at home",
            items=[ItemInput(entry_id=entry.pk, dose={})],
        )
        return program.pk

    def test_it_refuses_a_nul_in_a_form_field_and_saves_nothing(self, world: World) -> None:
        from handrail.web.programs.models import ProgramTemplate

        url = reverse("programs:template-from", args=[self._program(world)])
        response = world.client_for(world.ot).post(url, {"title": "Hip\x00 kit"})
        assert response.status_code == 400
        html = response.content.decode()
        assert (
            "Field &#x27;title&#x27; holds a NUL character (\\x00), which no field may hold; "
            "remove it. Nothing was done with it."
        ) in html
        assert 'class="mainnav"' in html  # the app's layout, the user still signed in
        assert not ProgramTemplate.objects.exists()
        response = world.client_for(world.ot).post(url, {"title": "Hip kit"})
        assert response.status_code == 302
        assert list(ProgramTemplate.objects.values_list("title", flat=True)) == ["Hip kit"]

    def test_it_names_the_json_field_holding_a_nul(self, world: World) -> None:
        visit = visit_create(user=world.ot, case=world.ot_case, date=world.today)
        response = world.client_for(world.ot).patch(
            f"/api/visits/{visit.pk}",
            '{"narrative": "ok", "goals": [{"text": "a\\u0000b"}]}',
            content_type="application/json",
        )
        assert response.status_code == 400
        assert response.json() == {
            "detail": "Field 'goals[0].text' holds a NUL character (\\x00), which no field may "
            "hold; remove it."
        }
        visit.refresh_from_db()
        assert visit.narrative == ""

    def test_it_refuses_a_nul_in_the_address_and_the_query(self, world: World) -> None:
        client = world.client_for(world.ot)
        address = client.get("/codes/97%0035/")
        query = client.get("/patients/", {"q": "Ada\x00"})
        assert (address.status_code, query.status_code) == (400, 400)
        assert "The address holds a NUL character" in address.content.decode()
        assert "Field &#x27;q&#x27; holds a NUL character" in query.content.decode()

    def test_it_leaves_an_escaped_backslash_u0000_alone(self, world: World) -> None:
        """The six characters \\u0000 typed as text are not a NUL."""
        visit = visit_create(user=world.ot, case=world.ot_case, date=world.today)
        response = world.client_for(world.ot).patch(
            f"/api/visits/{visit.pk}",
            '{"narrative": "typed \\\\u0000 as text", "version": 1}',
            content_type="application/json",
        )
        assert response.status_code == 200, response.content
        visit.refresh_from_db()
        assert visit.narrative == "typed \\u0000 as text"

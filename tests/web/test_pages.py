"""Pages: bad input shows a message on the form (nothing saved, never a 500)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse

from handrail.web.care.models import Authorization, PlanOfCare
from handrail.web.care.services import GoalInput, authorization_create, plan_of_care_create
from handrail.web.clinic.models import Patient
from handrail.web.visits.models import Visit
from handrail.web.visits.services import visit_create
from tests.web.conftest import World


class PlanFormTests:
    def _data(self, world: World, diagnoses: str) -> dict[str, str]:
        return {
            "diagnoses": diagnoses,
            "goals": f"{(world.today + timedelta(weeks=4)).isoformat()} | Dons shirt alone",
            "frequency_per_week": "2",
            "duration_weeks": "6",
            "start_date": world.today.isoformat(),
        }

    def test_it_shows_a_non_billable_code_on_the_form(self, world: World) -> None:
        client = world.client_for(world.ot)
        url = reverse("plan-create", args=[world.ot_case.pk])
        response = client.post(url, self._data(world, "I69.351, G20"))
        assert response.status_code == 200
        assert "diagnoses[1]: G20 is a category, not a billable code" in response.content.decode()
        assert PlanOfCare.objects.count() == 1  # the fixture's plan only

    def test_it_saves_a_valid_plan(self, world: World) -> None:
        client = world.client_for(world.ot)
        url = reverse("plan-create", args=[world.ot_case.pk])
        response = client.post(url, self._data(world, "i69351; Z47.1"))
        assert response.status_code == 302
        plan = PlanOfCare.objects.latest("id")
        assert (plan.diagnoses, plan.goals.count()) == (["I69.351", "Z47.1"], 1)


class PatientFormTests:
    def test_it_shows_a_future_birth_date_on_the_form(self, world: World) -> None:
        client = world.client_for(world.front_desk)
        response = client.post(
            reverse("patient-create"),
            {
                "first_name": "Zed",
                "last_name": "Future",
                "birth_date": (world.today + timedelta(days=1)).isoformat(),
                "sex": "U",
            },
        )
        assert response.status_code == 200
        assert "The birth date is in the future." in response.content.decode()
        assert not Patient.objects.filter(last_name="Future").exists()


class VisitStartTests:
    def test_it_shows_a_future_visit_date_on_the_form(self, world: World) -> None:
        client = world.client_for(world.ot)
        response = client.post(
            reverse("visit-start", args=[world.ot_case.pk]),
            {"date": (world.today + timedelta(days=2)).isoformat(), "visit_type": "treatment"},
        )
        assert response.status_code == 200
        assert "is in the future" in response.content.decode()
        assert Visit.objects.count() == 0

    def test_it_starts_a_note_and_shows_it(self, world: World) -> None:
        client = world.client_for(world.ot)
        response = client.post(
            reverse("visit-start", args=[world.ot_case.pk]),
            {"date": world.today.isoformat(), "visit_type": "treatment"},
        )
        visit = Visit.objects.get()
        assert response["Location"] == reverse("notes:note", args=[visit.pk])
        page = client.get(response["Location"]).content.decode()
        assert "Sign and lock" in page and "Draft" in page


class CoverageFormTests:
    def test_it_replaces_the_primary_coverage(self, world: World) -> None:
        client = world.client_for(world.front_desk)
        response = client.post(
            reverse("coverage-set", args=[world.patient.pk]),
            {"payer": world.commercial.pk, "member_id": "ACME-77", "order": "1"},
        )
        assert response.status_code == 302
        coverage = world.patient.coverages.get(order=1)
        assert (coverage.payer, coverage.member_id) == (world.commercial, "ACME-77")

    def test_it_refuses_another_clinics_payer(self, world: World) -> None:
        from handrail.web.clinic.services import payer_create

        foreign = payer_create(clinic=world.other_clinic, name="Far Away", type="commercial")
        client = world.client_for(world.front_desk)
        client.post(
            reverse("coverage-set", args=[world.patient.pk]),
            {"payer": foreign.pk, "member_id": "X", "order": "1"},
        )
        assert world.patient.coverages.get(order=1).payer == world.medicare


ROLES = ("admin", "pt", "ot", "ota", "biller", "front_desk", "outsider")
CHANGERS = {"admin", "pt", "ot", "biller", "front_desk"}  # care.services.AUTHORIZATION_ROLES


def _authorization(world: World, **overrides: object) -> Authorization:
    arguments: dict[str, object] = {
        "user": world.biller,
        "case": world.ot_case,
        "payer": world.commercial,
        "visits_authorized": 2,
        "start_date": world.today - timedelta(days=20),
        "end_date": world.today + timedelta(days=40),
        "number": "AUTH-9",
    }
    arguments.update(overrides)
    return authorization_create(**arguments)  # type: ignore[arg-type]


class AuthorizationPageTests:
    @pytest.mark.parametrize("role", ROLES)
    def test_it_lists_a_cases_authorizations_for_every_role_of_the_clinic(
        self, world: World, role: str
    ) -> None:
        _authorization(world)
        response = world.client_for(getattr(world, role)).get(
            reverse("authorization-list", args=[world.ot_case.pk])
        )
        if role == "outsider":
            assert response.status_code == 404
            return
        assert response.status_code == 200
        html = response.content.decode()
        assert "AUTH-9" in html and "0 of 2" in html
        assert ('id="authorization-form"' in html) == (role in CHANGERS)
        # The front desk manages authorizations without seeing the case's clinical title.
        assert ("Right CVA ADLs" in html) == (role != "front_desk")

    @pytest.mark.parametrize("role", ROLES)
    def test_it_adds_an_authorization_for_the_roles_that_may(
        self, world: World, role: str
    ) -> None:
        response = world.client_for(getattr(world, role)).post(
            reverse("authorization-list", args=[world.ot_case.pk]),
            {
                "payer": world.commercial.pk,
                "number": "A-77",
                "visits_authorized": "12",
                "units_authorized": "",
                "start_date": world.today.isoformat(),
                "end_date": (world.today + timedelta(days=60)).isoformat(),
            },
        )
        expected = 302 if role in CHANGERS else 404 if role == "outsider" else 403
        assert response.status_code == expected
        saved = list(Authorization.objects.values_list("number", "visits_authorized"))
        assert saved == ([("A-77", 12)] if role in CHANGERS else [])

    def test_it_shows_a_bad_end_date_beside_the_field_and_saves_nothing(
        self, world: World
    ) -> None:
        response = world.client_for(world.front_desk).post(
            reverse("authorization-list", args=[world.ot_case.pk]),
            {
                "payer": world.commercial.pk,
                "visits_authorized": "12",
                "start_date": "2026-11-01",
                "end_date": "9999-12-31",
            },
        )
        assert response.status_code == 200
        assert (
            "9999-12-31 is after 2028-11-01 (two years after the start at most); check the year."
            in response.content.decode()
        )
        assert not Authorization.objects.exists()

    @pytest.mark.parametrize("role", ROLES)
    def test_it_changes_an_authorization_for_the_roles_that_may(
        self, world: World, role: str
    ) -> None:
        authorization = _authorization(world)
        client = world.client_for(getattr(world, role))
        url = reverse("authorization-edit", args=[authorization.pk])
        expected_get = 200 if role in CHANGERS else 404 if role == "outsider" else 403
        assert client.get(url).status_code == expected_get
        response = client.post(
            url,
            {
                "payer": world.commercial.pk,
                "number": "AUTH-9B",
                "visits_authorized": "20",
                "units_authorized": "60",
                "start_date": authorization.start_date.isoformat(),
                "end_date": authorization.end_date.isoformat(),
            },
        )
        assert response.status_code == (302 if role in CHANGERS else expected_get)
        authorization.refresh_from_db()
        assert (authorization.number, authorization.visits_authorized) == (
            ("AUTH-9B", 20) if role in CHANGERS else ("AUTH-9", 2)
        )

    @pytest.mark.parametrize("role", ROLES)
    def test_it_ends_an_authorization_for_the_roles_that_may(
        self, world: World, role: str
    ) -> None:
        authorization = _authorization(world)
        response = world.client_for(getattr(world, role)).post(
            reverse("authorization-end", args=[authorization.pk]),
            {"ended_on": world.today.isoformat()},
        )
        assert response.status_code == (
            302 if role in CHANGERS else 404 if role == "outsider" else 403
        )
        authorization.refresh_from_db()
        assert authorization.end_date == (
            world.today if role in CHANGERS else world.today + timedelta(days=40)
        )

    def test_it_says_why_an_end_date_is_refused(self, world: World) -> None:
        authorization = _authorization(world)
        client = world.client_for(world.biller)
        response = client.post(
            reverse("authorization-end", args=[authorization.pk]),
            {"ended_on": (world.today + timedelta(days=41)).isoformat()},
            follow=True,
        )
        assert (
            f"Last covered day: The authorization already ends on "
            f"{(world.today + timedelta(days=40)).isoformat()}; give an earlier day."
        ) in response.content.decode()


class VisitStartWarningTests:
    def test_it_warns_of_a_used_up_authorization_before_and_after_starting(
        self, world: World
    ) -> None:
        _authorization(world, visits_authorized=1)
        visit_create(user=world.ot, case=world.ot_case, date=world.today - timedelta(days=3))
        client = world.client_for(world.ot)
        url = reverse("visit-start", args=[world.ot_case.pk])
        warning = (
            "The Acme Health authorization AUTH-9: all 1 authorized visits are used; ask the "
            "payer for more before this visit is billed."
        )
        assert warning in client.get(url).content.decode()
        response = client.post(
            url, {"date": world.today.isoformat(), "visit_type": "treatment"}, follow=True
        )
        assert response.status_code == 200
        assert warning in response.content.decode()  # on the new note, as a message

    def test_it_warns_of_an_expired_authorization(self, world: World) -> None:
        _authorization(
            world,
            start_date=world.today - timedelta(days=20),
            end_date=world.today - timedelta(days=1),
        )
        html = (
            world.client_for(world.ot)
            .get(reverse("visit-start", args=[world.ot_case.pk]))
            .content.decode()
        )
        assert (
            f"The Acme Health authorization AUTH-9 ended on "
            f"{(world.today - timedelta(days=1)).isoformat()}; no authorization covers "
            f"{world.today.isoformat()}."
        ) in html

    def test_it_warns_when_the_payer_requires_one_and_none_covers(self, world: World) -> None:
        world.medicare.requires_authorization = True
        world.medicare.save()
        html = (
            world.client_for(world.ot)
            .get(reverse("visit-start", args=[world.ot_case.pk]))
            .content.decode()
        )
        assert (
            f"Medicare Part B requires prior authorization and none covers "
            f"{world.today.isoformat()}; add it before this visit is billed."
        ) in html

    def test_it_is_quiet_with_visits_left(self, world: World) -> None:
        _authorization(world, visits_authorized=2)
        visit_create(user=world.ot, case=world.ot_case, date=world.today - timedelta(days=3))
        html = (
            world.client_for(world.ot)
            .get(reverse("visit-start", args=[world.ot_case.pk]))
            .content.decode()
        )
        assert 'id="authorization-warnings"' not in html


class DischargePageTests:
    @pytest.mark.parametrize("role", ROLES)
    def test_it_discharges_for_the_roles_that_treat(self, world: World, role: str) -> None:
        response = world.client_for(getattr(world, role)).post(
            reverse("case-discharge", args=[world.ot_case.pk]),
            {"closed_on": world.today.isoformat(), "discharge_reason": "Goals met"},
        )
        may = role in ("admin", "pt", "ot", "ota")
        assert response.status_code == (302 if may else 404 if role == "outsider" else 403)
        world.ot_case.refresh_from_db()
        assert world.ot_case.closed_on == (world.today if may else None)

    def test_it_shows_the_discharge_and_refuses_a_later_visit(self, world: World) -> None:
        client = world.client_for(world.ot)
        closed = world.today - timedelta(days=2)
        client.post(
            reverse("case-discharge", args=[world.ot_case.pk]),
            {"closed_on": closed.isoformat(), "discharge_reason": "Moved away"},
        )
        html = client.get(reverse("case-detail", args=[world.ot_case.pk])).content.decode()
        assert f"Discharged on <strong>{closed.isoformat()}</strong>: Moved away." in html
        assert 'id="discharge-form"' not in html
        response = client.post(
            reverse("visit-start", args=[world.ot_case.pk]),
            {"date": world.today.isoformat(), "visit_type": "treatment"},
        )
        assert response.status_code == 200
        assert (
            f"The case was discharged on {closed.isoformat()}; date the visit on or before "
            "that day, or open a new case."
        ) in response.content.decode()
        assert not Visit.objects.exists()

    def test_it_names_the_field_of_a_refused_discharge(self, world: World) -> None:
        response = world.client_for(world.ot).post(
            reverse("case-discharge", args=[world.ot_case.pk]),
            {"closed_on": (world.today + timedelta(days=1)).isoformat(), "discharge_reason": "x"},
            follow=True,
        )
        assert "Discharged on: The closing date is in the future." in response.content.decode()
        world.ot_case.refresh_from_db()
        assert world.ot_case.closed_on is None


class CertifyPageTests:
    def test_it_refuses_a_pt_certifying_an_ot_plan(self, world: World) -> None:
        plan = plan_of_care_create(
            user=world.ot,
            case=world.ot_case,
            diagnoses=["I69.351"],
            goals=[GoalInput("Dons shirt", world.today + timedelta(weeks=4))],
            frequency_per_week=2,
            duration_weeks=6,
            start_date=world.today,
        )
        data = {"certified_on": world.today.isoformat(), "certifier_name": "Dr. Who"}
        url = reverse("plan-certify", args=[plan.pk])
        assert world.client_for(world.pt).post(url, data).status_code == 403
        plan.refresh_from_db()
        assert plan.certified_on is None
        assert world.client_for(world.ot).post(url, data).status_code == 302
        plan.refresh_from_db()
        assert plan.certified_on == world.today


class PatientDuplicatePageTests:
    DATA = {
        "first_name": "Ada",
        "last_name": "Synthetic",
        "birth_date": "1948-05-02",
        "sex": "F",
        "phone": "(217) 555-0199",
        "zip": "62701",
        "state": "il",
    }

    def test_it_shows_the_existing_patient_before_saving(self, world: World) -> None:
        client = world.client_for(world.front_desk)
        response = client.post(reverse("patient-create"), self.DATA)
        assert response.status_code == 200
        html = response.content.decode()
        assert 'id="duplicates"' in html
        assert reverse("patient-detail", args=[world.patient.pk]) in html
        assert 'name="save_anyway" value="1"' in html
        assert Patient.objects.filter(clinic=world.clinic).count() == 1
        response = client.post(reverse("patient-create"), {**self.DATA, "save_anyway": "1"})
        assert response.status_code == 302
        saved = Patient.objects.filter(clinic=world.clinic).latest("id")
        assert (saved.phone, saved.state) == ("217-555-0199", "IL")

    def test_it_names_each_bad_contact_field(self, world: World) -> None:
        response = world.client_for(world.front_desk).post(
            reverse("patient-create"),
            {**self.DATA, "first_name": "Cy", "zip": "6270", "state": "ZZ", "phone": "555"},
        )
        html = response.content.decode()
        assert "&#x27;6270&#x27; is not a ZIP code" in html
        assert "&#x27;ZZ&#x27; is not a US state code" in html
        assert "&#x27;555&#x27; is not a US phone number" in html
        assert not Patient.objects.filter(first_name="Cy").exists()

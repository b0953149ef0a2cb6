"""Pages: bad input shows a message on the form (nothing saved, never a 500)."""

from __future__ import annotations

from datetime import timedelta

from django.urls import reverse

from handrail.web.care.models import PlanOfCare
from handrail.web.clinic.models import Patient
from handrail.web.visits.models import Visit
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

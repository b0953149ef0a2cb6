"""Discipline boundaries through the pages and the API (issue 10): a clinician of another
discipline can neither write an addendum to a note nor certify a plan, and a recorded
certification is never overwritten; each refusal says why and saves nothing."""

from __future__ import annotations

from django.test import Client
from django.urls import reverse

from handrail.web.audit.models import AuditAction, AuditEvent
from handrail.web.care.models import PlanOfCare
from handrail.web.visits.models import Addendum, Visit
from handrail.web.visits.services import service_line_add, visit_create, visit_sign
from tests.web.conftest import World
from tests.web.notes_seed import GOOD_NOTE

CSRF = "a" * 32
ADDENDUM = {"reason": "Late entry", "text": "Caregiver present for the last 5 minutes."}


def _signed_ot_note(world: World) -> Visit:
    visit = visit_create(user=world.ot, case=world.ot_case, date=world.today)
    service_line_add(user=world.ot, visit=visit, code="97535", therapist_minutes=25, **GOOD_NOTE)
    return visit_sign(user=world.ot, visit=visit)


def _api(user: object) -> Client:
    client = Client(enforce_csrf_checks=True, HTTP_X_CSRFTOKEN=CSRF)
    client.force_login(user)  # type: ignore[arg-type]
    client.cookies["csrftoken"] = CSRF
    return client


class AddendumBoundaryTests:
    def test_it_refuses_a_pt_addendum_to_an_ot_note_on_the_page_and_the_api(
        self, world: World
    ) -> None:
        visit = _signed_ot_note(world)
        message = (
            "Only the note&#x27;s clinician, its co-signer or a OT clinician can write an "
            "addendum to it."
        )
        page = world.client_for(world.pt).post(
            reverse("notes:addendum", args=[visit.pk]), ADDENDUM
        )
        assert page.status_code == 403
        assert message in page.content.decode()
        api = _api(world.pt).post(
            f"/api/visits/{visit.pk}/addenda", ADDENDUM, content_type="application/json"
        )
        assert api.status_code == 403
        assert api.json()["detail"] == message.replace("&#x27;", "'")
        assert Addendum.objects.count() == 0

    def test_it_takes_an_addendum_from_an_assistant_of_the_notes_discipline(
        self, world: World
    ) -> None:
        visit = _signed_ot_note(world)
        api = _api(world.ota).post(
            f"/api/visits/{visit.pk}/addenda", ADDENDUM, content_type="application/json"
        )
        assert (api.status_code, api.json()["author"]) == (201, str(world.ota))
        page = world.client_for(world.ot).get(reverse("notes:note", args=[visit.pk]))
        assert ADDENDUM["text"] in page.content.decode()


class CertificationBoundaryTests:
    def test_it_refuses_a_pt_certifying_the_ot_plan_with_the_reason(self, world: World) -> None:
        plan = PlanOfCare.objects.get(pk=world.ot_plan.pk)
        PlanOfCare.objects.filter(pk=plan.pk).update(certified_on=None, certifier_name="")
        response = world.client_for(world.pt).post(
            reverse("plan-certify", args=[plan.pk]),
            {"certified_on": world.today.isoformat(), "certifier_name": "Dr. Other"},
        )
        assert response.status_code == 403
        assert "This is a OT plan; only a OT therapist can record its certification." in (
            response.content.decode()
        )
        plan.refresh_from_db()
        assert (plan.certified_on, plan.certifier_name) == (None, "")

    def test_it_never_overwrites_a_recorded_certification_from_the_page(
        self, world: World
    ) -> None:
        updates = AuditEvent.objects.filter(action=AuditAction.UPDATE, object_type="planofcare")
        before = updates.count()
        response = world.client_for(world.ot).post(
            reverse("plan-certify", args=[world.ot_plan.pk]),
            {"certified_on": world.today.isoformat(), "certifier_name": "Dr. Other"},
            follow=True,
        )
        html = response.content.decode()
        assert "This plan was certified on" in html and "to recertify" in html
        plan = PlanOfCare.objects.get(pk=world.ot_plan.pk)
        assert plan.certifier_name == "Dr. Synthetic"
        assert updates.count() == before

"""Every note of the demo clinic, opened by every role: the page, the live panel, the API's
visit and evaluation. No payer (Medicare or commercial), draft or signed note answers 5xx;
roles that may read notes get 200, the front desk 403, another clinic's therapist 404."""

from __future__ import annotations

from collections import Counter
from io import StringIO

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from handrail.web.clinic.models import User
from handrail.web.clinic.selectors import coverage_primary
from handrail.web.clinic.services import clinic_create, user_create
from handrail.web.visits.models import Visit

READERS = ("pt", "ot", "ota", "biller", "admin")  # every clinical reader of the demo clinic


def _client(user: User) -> Client:
    # A 500 is counted like any wrong status, not raised, so one run lists every failure.
    client = Client(raise_request_exception=False)
    client.force_login(user)
    return client


def _outsider() -> User:
    clinic = clinic_create(name="Elsewhere Rehab", zip="60601")
    return user_create(
        clinic=clinic,
        username="elsewhere-pt",
        password="correct horse battery staple",
        role="therapist",
        discipline="PT",
        first_name="Else",
        last_name="Where",
    )


def _statuses(client: Client, visit: Visit) -> dict[str, int]:
    return {
        "page": client.get(reverse("notes:note", kwargs={"visit_id": visit.pk})).status_code,
        "panel": client.get(reverse("notes:panel", kwargs={"visit_id": visit.pk})).status_code,
        "api": client.get(f"/api/visits/{visit.pk}").status_code,
        "evaluate": client.post(f"/api/visits/{visit.pk}/evaluate").status_code,
    }


@pytest.mark.django_db
class DemoNotesTests:
    def test_it_opens_every_demo_note_for_every_role_without_a_5xx(self) -> None:
        call_command("load_demo", stdout=StringIO())
        visits = list(Visit.objects.select_related("case__patient").order_by("pk"))
        payers = Counter(
            coverage.payer.type
            for visit in visits
            if (coverage := coverage_primary(patient=visit.case.patient)) is not None
        )
        assert payers["medicare"] > 0 and payers["commercial"] > 0  # both payer types swept
        expected = dict.fromkeys(READERS, 200)
        expected["frontdesk"] = 403
        clients = {u.username: _client(u) for u in User.objects.filter(username__in=expected)}
        clients["elsewhere-pt"] = _client(_outsider())
        expected["elsewhere-pt"] = 404
        wrong = []
        for visit in visits:
            for username, client in clients.items():
                for what, status in _statuses(client, visit).items():
                    # A clinical reader's evaluation of a note without lines or coverage is a
                    # 422 naming the field; the demo has none, so every reader gets 200.
                    if status != expected[username]:
                        wrong.append((visit.pk, username, what, status))
        assert wrong == [], f"{len(wrong)} wrong answers, first: {wrong[:10]}"

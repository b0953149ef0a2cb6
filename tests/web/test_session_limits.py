"""Session limits (handrail.web.clinic.session_limits): the idle timeout, the absolute
limit, and the note page's timer poll, which is not activity."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

import pytest
import time_machine
from django.contrib.messages import get_messages
from django.test import Client, override_settings
from django.urls import reverse
from django.utils import timezone

from handrail.web.visits.services import (
    service_line_add,
    timer_start,
    timer_stop,
    visit_create,
)
from tests.web.conftest import PASSWORD, World

ROLES = ["admin", "pt", "ota", "biller", "front_desk"]
POLL = {"HTTP_HX_REQUEST": "true", "HTTP_HX_TRIGGER": "timer-poll"}
IDLE = "You were signed out after 15 minutes without activity."


@contextmanager
def _later(minutes: float) -> Iterator[None]:
    with time_machine.travel(timezone.now() + timedelta(minutes=minutes), tick=True):
        yield


def _messages(response: object) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]  # type: ignore[attr-defined]


class IdleTimeoutTests:
    @pytest.mark.parametrize("role", ROLES)
    def test_it_signs_out_after_15_idle_minutes(self, world: World, role: str) -> None:
        client = world.client_for(getattr(world, role))
        with _later(14):
            assert client.get("/patients/").status_code == 200  # activity: the clock restarts
        with _later(14 + 14):
            assert client.get("/patients/").status_code == 200
        with _later(14 + 14 + 15):
            response = client.get("/patients/?q=ada")
            assert response["Location"] == "/login/?next=%2Fpatients%2F%3Fq%3Dada"
            assert _messages(response) == [IDLE]
            assert "_auth_user_id" not in client.session
            assert client.get("/patients/")["Location"] == "/login/?next=/patients/"

    def test_the_api_answers_401_with_the_reason(self, world: World) -> None:
        client = world.client_for(world.ot)
        with _later(16):
            response = client.get("/api/patients")
            assert response.status_code == 401
            assert response.json()["detail"] == IDLE + " Sign in again."

    @override_settings(SESSION_IDLE_MINUTES=5)
    def test_the_idle_time_is_configurable(self, world: World) -> None:
        client = world.client_for(world.ot)
        with _later(6):
            assert client.get("/patients/")["Location"] == "/login/?next=%2Fpatients%2F"


class AbsoluteLimitTests:
    def test_it_signs_out_12_hours_after_sign_in_whatever_the_activity(self, world: World) -> None:
        client = Client()
        client.post("/login/", {"username": "olivia", "password": PASSWORD})
        for minutes in range(10, 12 * 60, 10):
            with _later(minutes):
                assert client.get("/patients/").status_code == 200, minutes
        with _later(12 * 60):
            response = client.get("/patients/")
            assert response["Location"] == "/login/?next=%2Fpatients%2F"
            assert _messages(response) == ["You were signed out 12 hours after signing in."]

    @override_settings(SESSION_ABSOLUTE_HOURS=1)
    def test_the_limit_is_configurable(self, world: World) -> None:
        client = world.client_for(world.ot)
        for minutes in (10, 20, 30, 40, 50):
            with _later(minutes):
                assert client.get("/patients/").status_code == 200
        with _later(60):
            assert client.get("/patients/").status_code == 302


class TimerPollTests:
    def test_the_note_pages_poll_is_not_activity(self, world: World) -> None:
        visit = visit_create(user=world.ot, case=world.ot_case, date=world.today)
        note = reverse("notes:note", args=[visit.pk])
        poll = reverse("notes:timers", args=[visit.pk])
        client = world.client_for(world.ot)
        assert client.get(note).status_code == 200
        headers = {**POLL, "HTTP_HX_CURRENT_URL": f"http://testserver{note}"}
        for seconds in range(10, 15 * 60, 60):
            with time_machine.travel(timezone.now() + timedelta(seconds=seconds), tick=True):
                assert client.get(poll, **headers).status_code == 200
        with _later(15):
            response = client.get(poll, **headers)
            # htmx follows HX-Redirect with the whole page: the note page goes to sign-in.
            assert response.status_code == 200
            assert response["HX-Redirect"] == f"/login/?next={note.replace('/', '%2F')}"
            assert "_auth_user_id" not in client.session

    def test_a_save_on_the_note_page_is_activity(self, world: World) -> None:
        client = world.client_for(world.ot)
        # Any request the user makes, htmx or not, other than the poll.
        with _later(10):
            assert client.get("/patients/", HTTP_HX_REQUEST="true").status_code == 200
        with _later(20):
            assert client.get("/patients/").status_code == 200


class RunningTimerTests:
    def test_a_running_timer_keeps_the_session_through_a_long_treatment(
        self, world: World
    ) -> None:
        visit = visit_create(user=world.ot, case=world.ot_case, date=world.today)
        line = service_line_add(user=world.ot, visit=visit, code="97535")
        client = world.client_for(world.ot)
        timer_start(user=world.ot, line=line)
        with _later(40):
            assert client.get("/patients/").status_code == 200  # 40 minutes of treatment

    def test_idle_time_counts_from_the_end_of_the_last_run(self, world: World) -> None:
        visit = visit_create(user=world.ot, case=world.ot_case, date=world.today)
        line = service_line_add(user=world.ot, visit=visit, code="97535")
        client = world.client_for(world.ot)
        timer_start(user=world.ot, line=line)
        with _later(30):
            timer_stop(user=world.ot, line=line)  # from another device: no request here
        with _later(30 + 14):
            assert client.get("/api/patients").status_code == 200
        with _later(30 + 14 + 16):
            assert client.get("/patients/").status_code == 302


class SessionClockTests:
    def test_the_sign_in_receivers_are_connected_when_the_apps_load(self) -> None:
        """A sign-in before the first request (the middleware, which imported these
        modules, is built on the first request) must start the session's clocks too; left
        to the first import, such a session had none and its first page rewrote it."""
        code = (
            "import sys, django; django.setup(); "
            "print(sorted(m for m in ('handrail.web.clinic.session_limits', "
            "'handrail.web.clinic.two_factor') if m in sys.modules))"
        )
        env = {**os.environ, "DJANGO_SETTINGS_MODULE": "handrail.web.settings_test"}
        result = subprocess.run(
            [sys.executable, "-c", code],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert result.returncode == 0, result.stderr
        assert result.stdout.split("\n")[-2] == (
            "['handrail.web.clinic.session_limits', 'handrail.web.clinic.two_factor']"
        )

    def test_a_session_signed_in_before_any_request_has_its_clocks(self, world: World) -> None:
        client = world.client_for(world.pt)
        session = client.session
        assert session["handrail_signed_in_at"] == session["handrail_active_at"]

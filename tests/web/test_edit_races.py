"""Edits through the JSON API under concurrency, on PostgreSQL: clients that read the same
version of a line or header and change it at once. Whatever the interleaving, exactly one
change is saved and each other answers 409 naming who saved first; none is lost silently.
Two devices starting one line's timer at once give one running run and one 409.

SQLite's in-memory test database is one connection, so threads cannot race there: these
tests skip without HANDRAIL_TEST_DATABASE_URL (`make test-postgres` sets it).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection
from django.test import Client

from handrail.web.clinic.models import User
from handrail.web.visits.models import ServiceLine, TimerSegment, Visit
from handrail.web.visits.services import service_line_add, visit_create
from tests.web.conftest import World

pytestmark = pytest.mark.django_db(transaction=True)

CSRF = "a" * 32
ROUNDS = 5


@pytest.fixture(autouse=True)
def _postgresql_only() -> None:
    if connection.vendor != "postgresql":
        pytest.skip(
            "edit races need PostgreSQL: set HANDRAIL_TEST_DATABASE_URL (make test-postgres); "
            "SQLite's in-memory test database is one connection, so threads cannot race"
        )


def _race(calls: list[Callable[[], Any]]) -> list[Any]:
    """Run each call on its own thread (and database connection), started together at a
    barrier; each call's return value or exception, in the calls' order."""
    results: list[Any] = [None] * len(calls)
    barrier = threading.Barrier(len(calls))

    def work(index: int, call: Callable[[], Any]) -> None:
        try:
            barrier.wait()
            results[index] = call()
        except Exception as exc:  # the caller asserts what each call answered
            results[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=work, args=item) for item in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads), "a racing thread hung"
    return results


def _client(user: User) -> Client:
    client = Client(enforce_csrf_checks=True, HTTP_X_CSRFTOKEN=CSRF)
    client.force_login(user)
    client.cookies["csrftoken"] = CSRF
    return client


def _patch(client: Client, url: str, body: dict[str, Any]) -> Callable[[], Any]:
    return lambda: client.patch(url, body, content_type="application/json")


class ApiEditRaceTests:
    def test_it_saves_one_of_two_line_edits_based_on_one_version(self, world: World) -> None:
        visit = visit_create(user=world.ot, case=world.ot_case, date=world.today)
        line = service_line_add(user=world.ot, visit=visit, code="97535", therapist_minutes=20)
        url = f"/api/visits/{visit.pk}/lines/{line.pk}"
        ot, ota = _client(world.ot), _client(world.ota)
        for _ in range(ROUNDS):
            version = ServiceLine.objects.get(pk=line.pk).version
            answers = _race(
                [
                    _patch(ot, url, {"version": version, "task": f"Olivia {version}"}),
                    _patch(ota, url, {"version": version, "task": f"Oscar {version}"}),
                ]
            )
            codes = sorted(answer.status_code for answer in answers)
            assert codes == [200, 409], [a.content for a in answers]
            winner = answers[0] if answers[0].status_code == 200 else answers[1]
            loser = answers[1] if winner is answers[0] else answers[0]
            stored = ServiceLine.objects.get(pk=line.pk)
            assert stored.version == version + 1
            assert stored.task == winner.json()["task"]
            detail = loser.json()["detail"]
            assert detail.startswith(f"version: {stored.updated_by} changed 97535"), detail

    def test_it_saves_one_of_two_header_edits_based_on_one_version(self, world: World) -> None:
        visit = visit_create(user=world.ot, case=world.ot_case, date=world.today)
        url = f"/api/visits/{visit.pk}"
        ot, ota = _client(world.ot), _client(world.ota)
        for _ in range(ROUNDS):
            version = Visit.objects.get(pk=visit.pk).version
            answers = _race(
                [
                    _patch(ot, url, {"version": version, "narrative": f"Olivia {version}"}),
                    _patch(ota, url, {"version": version, "narrative": f"Oscar {version}"}),
                ]
            )
            assert sorted(a.status_code for a in answers) == [200, 409]
            stored = Visit.objects.get(pk=visit.pk)
            assert stored.version == version + 1
            winner = next(a for a in answers if a.status_code == 200)
            assert stored.narrative == winner.json()["narrative"]


class TimerStartRaceTests:
    def test_it_runs_one_timer_when_two_devices_start_it_at_once(self, world: World) -> None:
        visit = visit_create(user=world.ot, case=world.ot_case, date=world.today)
        line = service_line_add(user=world.ot, visit=visit, code="97535")
        url = f"/api/visits/{visit.pk}/lines/{line.pk}/timer/start"
        for _ in range(ROUNDS):
            phone, desk = _client(world.ot), _client(world.ot)
            answers = _race(
                [
                    lambda c=phone: c.post(url),  # type: ignore[misc]
                    lambda c=desk: c.post(url),  # type: ignore[misc]
                ]
            )
            assert sorted(a.status_code for a in answers) == [201, 409], [
                a.content for a in answers
            ]
            assert TimerSegment.objects.filter(line=line, ended_at__isnull=True).count() == 1
            stop = _client(world.ot).post(f"/api/visits/{visit.pk}/lines/{line.pk}/timer/stop")
            assert stop.status_code == 200

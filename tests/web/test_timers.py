"""Timers on the server (issue 7, issue 10): start and stop are server writes, a running
run has a start and no end, one runs per line, stopping twice is idempotent, runs fall on
the visit's day in the clinic's time zone (a run left going past midnight stops there), and
signing asks to reconcile billed minutes with the timer."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.test.utils import override_settings
from django.urls import reverse
from django.utils import timezone

from handrail.web.audit.models import AuditAction, AuditEvent
from handrail.web.dates import day_bounds
from handrail.web.visits.models import ServiceLine, TimerSegment, Visit, VisitStatus
from handrail.web.visits.services import (
    ReconcileChoice,
    ReconcileNeededError,
    TimerConflictError,
    service_line_add,
    service_line_set_minutes,
    timer_segment_add,
    timer_start,
    timer_stop,
    visit_create,
    visit_minutes_mismatches,
    visit_reconcile_minutes,
    visit_sign,
)
from tests.web.conftest import TEST_NOW, World
from tests.web.notes_seed import GOOD_NOTE

CSRF = "a" * 32
HTMX = {"HTTP_HX_REQUEST": "true"}


def _note(world: World, day: date | None = None, **note: str) -> tuple[Visit, ServiceLine]:
    visit = visit_create(user=world.ot, case=world.ot_case, date=day or world.today)
    line = service_line_add(user=world.ot, visit=visit, code="97535", **note)
    return visit, line


def _details(visit: Visit) -> list[str]:
    return list(
        AuditEvent.objects.filter(
            action=AuditAction.UPDATE, object_type="visit", object_id=str(visit.pk)
        )
        .order_by("pk")
        .values_list("detail", flat=True)
    )


def _api(user: Any) -> Client:
    client = Client(enforce_csrf_checks=True, HTTP_X_CSRFTOKEN=CSRF)
    client.force_login(user)
    client.cookies["csrftoken"] = CSRF
    return client


class TimerStartStopTests:
    def test_it_runs_a_timer_on_the_server_and_counts_it_when_stopped(
        self, world: World, time_machine: Any
    ) -> None:
        time_machine.move_to(TEST_NOW, tick=False)
        visit, line = _note(world)
        started = timer_start(user=world.ot, line=line)
        assert (started.segment.started_at, started.segment.ended_at) == (TEST_NOW, None)
        assert started.stopped == []
        line.refresh_from_db()
        assert (line.therapist_minutes, line.version) == (0, 1)  # a start changes no minutes
        time_machine.shift(timedelta(minutes=23, seconds=29))
        stopped = timer_stop(user=world.ot, line=line)
        assert stopped.segment is not None and not stopped.capped
        assert stopped.segment.seconds == 23 * 60 + 29
        line.refresh_from_db()
        assert (line.therapist_minutes, line.version, line.updated_by) == (23, 2, world.ot)
        assert _details(visit)[-2:] == [
            "97535: timer started",
            "97535: timer stopped, run of 1409 s; minutes 23+0",
        ]

    def test_it_refuses_a_second_start_of_a_running_timer_naming_who_started_it(
        self, world: World, time_machine: Any
    ) -> None:
        time_machine.move_to(TEST_NOW, tick=False)
        visit, line = _note(world)
        timer_start(user=world.ota, line=line)
        with pytest.raises(TimerConflictError) as refused:
            timer_start(user=world.ot, line=line)
        assert refused.value.message_dict == {
            "timer": [
                "The 97535 timer is already running (started by Oscar Test, OTA at 15:00:00); "
                "stop it before starting it again."
            ]
        }
        assert TimerSegment.objects.filter(line=line).count() == 1

    def test_it_stops_twice_without_a_second_change(self, world: World, time_machine: Any) -> None:
        time_machine.move_to(TEST_NOW, tick=False)
        visit, line = _note(world)
        timer_start(user=world.ot, line=line)
        time_machine.shift(timedelta(minutes=10))
        first = timer_stop(user=world.ot, line=line)
        events = len(_details(visit))
        again = timer_stop(user=world.ot, line=line)
        assert first.segment is not None and again.segment is None
        line.refresh_from_db()
        assert (line.therapist_minutes, line.version) == (10, 2)
        assert len(_details(visit)) == events

    def test_it_lets_another_device_or_clinician_stop_the_run(
        self, world: World, time_machine: Any
    ) -> None:
        time_machine.move_to(TEST_NOW, tick=False)
        visit, line = _note(world)
        timer_start(user=world.ot, line=line)
        time_machine.shift(timedelta(minutes=8))
        stopped = timer_stop(user=world.ota, line=line)
        assert stopped.segment is not None and stopped.segment.by == world.ot
        line.refresh_from_db()
        assert (line.therapist_minutes, line.assistant_minutes) == (8, 0)  # the OT's time
        assert _details(visit)[-1] == (
            "97535: timer stopped (started by Olivia Test, OT), run of 480 s; minutes 8+0"
        )

    def test_it_stops_the_users_other_timer_when_another_starts(
        self, world: World, time_machine: Any
    ) -> None:
        time_machine.move_to(TEST_NOW, tick=False)
        visit, first = _note(world)
        second = service_line_add(user=world.ot, visit=visit, code="97530")
        timer_start(user=world.ot, line=first)
        time_machine.shift(timedelta(minutes=12))
        started = timer_start(user=world.ot, line=second)
        assert [s.line_id for s in started.stopped] == [first.pk]
        first.refresh_from_db()
        assert first.therapist_minutes == 12
        running = TimerSegment.objects.filter(ended_at__isnull=True)
        assert [s.line_id for s in running] == [second.pk]

    def test_it_keeps_an_assistants_run_apart_from_the_therapists(
        self, world: World, time_machine: Any
    ) -> None:
        time_machine.move_to(TEST_NOW, tick=False)
        visit, first = _note(world)
        second = service_line_add(user=world.ot, visit=visit, code="97530")
        timer_start(user=world.ot, line=first)
        started = timer_start(user=world.ota, line=second)
        assert started.stopped == []  # the assistant's run stops nobody else's
        assert TimerSegment.objects.filter(ended_at__isnull=True).count() == 2

    def test_it_refuses_a_live_timer_on_a_note_of_another_day(self, world: World) -> None:
        _, line = _note(world, world.today - timedelta(days=1))
        with pytest.raises(ValidationError) as refused:
            timer_start(user=world.ot, line=line)
        assert refused.value.message_dict["timer"] == [
            "This note is dated 2026-11-15; a live timer runs only on the visit's day (today "
            "is 2026-11-16). Type the minutes, or add the run with its start and stop times."
        ]
        assert not TimerSegment.objects.exists()

    def test_it_refuses_timers_on_a_signed_note_and_roles_that_do_not_document(
        self, world: World
    ) -> None:
        _, line = _note(world)
        with pytest.raises(Exception, match="Your role cannot document visits"):
            timer_start(user=world.biller, line=line)
        service_line_set_minutes(user=world.ot, line=line, therapist_minutes=25)
        ServiceLine.objects.filter(pk=line.pk).update(**GOOD_NOTE)
        visit_sign(user=world.ot, visit=line.visit)
        with pytest.raises(ValidationError, match="signed and locked"):
            timer_start(user=world.ot, line=line)
        with pytest.raises(ValidationError, match="signed and locked"):
            timer_stop(user=world.ot, line=line)


class MidnightTests:
    def test_it_stops_a_run_left_going_past_midnight_at_midnight(
        self, world: World, time_machine: Any
    ) -> None:
        time_machine.move_to(datetime(2026, 11, 16, 23, 50, tzinfo=UTC), tick=False)
        visit, line = _note(world, date(2026, 11, 16))
        timer_start(user=world.ot, line=line)
        time_machine.move_to(datetime(2026, 11, 17, 8, 5, tzinfo=UTC), tick=False)
        stopped = timer_stop(user=world.ot, line=line)
        assert stopped.capped and stopped.segment is not None
        assert stopped.segment.ended_at == datetime(2026, 11, 17, 0, 0, tzinfo=UTC)
        line.refresh_from_db()
        assert line.therapist_minutes == 10
        assert _details(visit)[-1] == (
            "97535: timer stopped, run of 600 s capped at midnight; minutes 10+0"
        )

    @override_settings(TIME_ZONE="America/Chicago")
    def test_it_takes_the_day_in_the_clinics_time_zone(
        self, world: World, time_machine: Any
    ) -> None:
        # 03:00 UTC on the 17th is 21:00 on the 16th in Chicago: the 16th's note may time it.
        time_machine.move_to(datetime(2026, 11, 17, 3, 0, tzinfo=UTC), tick=False)
        assert timezone.localdate() == date(2026, 11, 16)
        visit, line = _note(world, date(2026, 11, 16))
        timer_start(user=world.ot, line=line)
        time_machine.move_to(datetime(2026, 11, 17, 6, 30, tzinfo=UTC), tick=False)
        stopped = timer_stop(user=world.ot, line=line)
        # Midnight in Chicago (CST, UTC-6) is 06:00 UTC.
        assert stopped.segment is not None and stopped.capped
        assert stopped.segment.ended_at == datetime(2026, 11, 17, 6, 0, tzinfo=UTC)
        assert day_bounds(date(2026, 11, 1))[1] - day_bounds(date(2026, 11, 1))[0] == (
            timedelta(hours=25)  # the day daylight saving time ends
        )

    def test_it_refuses_a_recorded_run_outside_the_visits_day(self, world: World) -> None:
        _, line = _note(world, world.today - timedelta(days=1))
        start = datetime(2026, 11, 15, 23, 50, tzinfo=UTC)
        with pytest.raises(ValidationError) as refused:
            timer_segment_add(
                user=world.ot, line=line, started_at=start, ended_at=start + timedelta(minutes=20)
            )
        assert refused.value.message_dict["ended_at"] == [
            "2026-11-16 00:10 is not on this note's day (2026-11-15, clinic time UTC); a timer "
            "run falls on the day of its visit."
        ]
        earlier = datetime(2026, 1, 5, 14, 0, tzinfo=UTC)
        with pytest.raises(ValidationError) as refused:
            timer_segment_add(
                user=world.ot, line=line, started_at=earlier, ended_at=earlier + timedelta(1)
            )
        assert list(refused.value.message_dict) == ["started_at"]
        timer_segment_add(
            user=world.ot, line=line, started_at=start - timedelta(hours=1), ended_at=start
        )
        line.refresh_from_db()
        assert line.therapist_minutes == 60


class ReconcileTests:
    def _typed_over_timer(self, world: World, time_machine: Any) -> tuple[Visit, ServiceLine]:
        """25 minutes typed, then a 15-minute timer run: billed 40, timed 15."""
        time_machine.move_to(TEST_NOW, tick=False)
        visit, line = _note(world, therapist_minutes=25, **GOOD_NOTE)
        timer_start(user=world.ot, line=line)
        time_machine.shift(timedelta(minutes=15, seconds=20))
        timer_stop(user=world.ot, line=line)
        line.refresh_from_db()
        assert line.therapist_minutes == 40
        return visit, line

    def test_it_refuses_to_sign_naming_the_lines_that_disagree(
        self, world: World, time_machine: Any
    ) -> None:
        visit, line = self._typed_over_timer(world, time_machine)
        with pytest.raises(ReconcileNeededError) as refused:
            visit_sign(user=world.ot, visit=visit)
        assert refused.value.message_dict == {
            "reconcile": ["97535: 40 min billed, 15 min timed (25 min more billed)"]
        }
        assert Visit.objects.get(pk=visit.pk).status == VisitStatus.DRAFT

    def test_it_allows_rounding_to_the_whole_minute(self, world: World, time_machine: Any) -> None:
        time_machine.move_to(TEST_NOW, tick=False)
        visit, line = _note(world, **GOOD_NOTE)
        timer_start(user=world.ot, line=line)
        time_machine.shift(timedelta(minutes=24, seconds=29))
        timer_stop(user=world.ot, line=line)
        assert visit_minutes_mismatches(visit=visit) == []
        signed = visit_sign(user=world.ot, visit=visit)
        assert signed.status == VisitStatus.SIGNED

    def test_it_bills_the_timers_minutes_when_chosen(
        self, world: World, time_machine: Any
    ) -> None:
        visit, line = self._typed_over_timer(world, time_machine)
        left = visit_reconcile_minutes(
            user=world.ot, visit=visit, choices=[ReconcileChoice(line.pk, "timer")]
        )
        assert left == []
        line.refresh_from_db()
        assert (line.therapist_minutes, line.therapist_typed_offset) == (15, 0)
        assert _details(visit)[-1] == "97535: reconciled to the timer's 15+0 min (was 40+0)"
        assert visit_sign(user=world.ot, visit=visit).status == VisitStatus.SIGNED

    def test_it_keeps_typed_minutes_with_a_reason_until_they_change(
        self, world: World, time_machine: Any
    ) -> None:
        visit, line = self._typed_over_timer(world, time_machine)
        with pytest.raises(ValidationError) as refused:
            visit_reconcile_minutes(
                user=world.ot, visit=visit, choices=[ReconcileChoice(line.pk, "keep", "  ")]
            )
        assert refused.value.message_dict == {
            "reconcile": ["97535: say why you keep the typed minutes."]
        }
        reason = "Timer started late; session began at 14:20"
        visit_reconcile_minutes(
            user=world.ot, visit=visit, choices=[ReconcileChoice(line.pk, "keep", reason)]
        )
        line.refresh_from_db()
        assert (line.therapist_minutes, line.kept_minutes_reason) == (40, reason)
        assert _details(visit)[-1] == (
            f"97535: kept 40+0 min typed against the timer's 15+0; reason: {reason}"
        )
        assert visit_minutes_mismatches(visit=visit) == []
        service_line_set_minutes(user=world.ot, line=line, therapist_minutes=41)
        line.refresh_from_db()
        assert line.kept_minutes_reason == ""  # the reason was for 40 minutes
        assert [m.code for m in visit_minutes_mismatches(visit=visit)] == ["97535"]

    def test_it_refuses_a_line_of_another_note_and_an_unknown_choice(
        self, world: World, time_machine: Any
    ) -> None:
        visit, line = self._typed_over_timer(world, time_machine)
        for choice, message in (
            (ReconcileChoice(line.pk + 999, "timer"), f"Line {line.pk + 999} is not on"),
            (ReconcileChoice(line.pk, "split"), "97535: choose timer or keep, not 'split'."),
        ):
            with pytest.raises(ValidationError, match=message):
                visit_reconcile_minutes(user=world.ot, visit=visit, choices=[choice])
        line.refresh_from_db()
        assert (line.therapist_minutes, line.version) == (40, 2)

    def test_it_refuses_to_sign_while_a_timer_runs(self, world: World, time_machine: Any) -> None:
        time_machine.move_to(TEST_NOW, tick=False)
        visit, line = _note(world, therapist_minutes=25, **GOOD_NOTE)
        timer_start(user=world.ot, line=line)
        with pytest.raises(TimerConflictError) as refused:
            visit_sign(user=world.ot, visit=visit)
        assert refused.value.message_dict == {
            "timer": [
                "Stop the running timer before signing: 97535 (started by Olivia Test, OT at "
                "15:00:00)."
            ]
        }


class TimerApiTests:
    def test_it_starts_lists_and_stops_timers_through_the_api(
        self, world: World, time_machine: Any
    ) -> None:
        time_machine.move_to(TEST_NOW, tick=False)
        visit, line = _note(world)
        base = f"/api/visits/{visit.pk}/lines/{line.pk}/timer"
        phone, desk = _api(world.ot), _api(world.ot)
        started = phone.post(f"{base}/start")
        assert started.status_code == 201
        body = started.json()
        assert (body["timer"]["running"], body["timer"]["ended_at"], body["stopped"]) == (
            True,
            None,
            [],
        )
        listed = desk.get(f"/api/visits/{visit.pk}/timers").json()
        assert [(t["code"], t["running"], t["by"]) for t in listed] == [
            ("97535", True, "Olivia Test, OT")
        ]
        again = desk.post(f"{base}/start")
        assert again.status_code == 409
        assert again.json()["detail"].startswith("timer: The 97535 timer is already running")
        time_machine.shift(timedelta(minutes=20))
        stopped = desk.post(f"{base}/stop")
        assert stopped.status_code == 200
        assert (
            stopped.json()["timer"]["seconds"],
            stopped.json()["line"]["therapist_minutes"],
        ) == (
            1200,
            20,
        )
        twice = phone.post(f"{base}/stop")
        assert (twice.status_code, twice.json()["timer"]) == (200, None)
        assert twice.json()["line"]["version"] == 2

    def test_it_signs_only_with_a_reconcile_choice_for_each_line(
        self, world: World, time_machine: Any
    ) -> None:
        time_machine.move_to(TEST_NOW, tick=False)
        visit, line = _note(world, therapist_minutes=25, **GOOD_NOTE)
        client = _api(world.ot)
        client.post(f"/api/visits/{visit.pk}/lines/{line.pk}/timer/start")
        time_machine.shift(timedelta(minutes=15))
        running = client.post(f"/api/visits/{visit.pk}/sign")
        assert (running.status_code, list(running.json()["errors"])) == (409, ["timer"])
        client.post(f"/api/visits/{visit.pk}/lines/{line.pk}/timer/stop")
        refused = client.post(f"/api/visits/{visit.pk}/sign")
        assert refused.status_code == 409
        assert refused.json()["errors"] == {
            "reconcile": ["97535: 40 min billed, 15 min timed (25 min more billed)"]
        }
        assert refused.json()["detail"].startswith(
            "reconcile: billed minutes and timers disagree on 97535: 40 min billed"
        )
        no_reason = client.post(
            f"/api/visits/{visit.pk}/sign",
            {"reconcile": [{"line_id": line.pk, "choice": "keep"}]},
            content_type="application/json",
        )
        assert (no_reason.status_code, list(no_reason.json()["errors"])) == (400, ["reconcile"])
        signed = client.post(
            f"/api/visits/{visit.pk}/sign",
            {
                "reconcile": [
                    {"line_id": line.pk, "choice": "keep", "reason": "Timer started late"}
                ]
            },
            content_type="application/json",
        )
        assert signed.status_code == 200, signed.content
        assert (signed.json()["status"], signed.json()["lines"][0]["therapist_minutes"]) == (
            "signed",
            40,
        )
        assert ServiceLine.objects.get(pk=line.pk).kept_minutes_reason == "Timer started late"


class TimerPageTests:
    def test_it_shows_a_timer_started_elsewhere_as_running(
        self, world: World, time_machine: Any
    ) -> None:
        time_machine.move_to(TEST_NOW, tick=False)
        visit, line = _note(world)
        client = world.client_for(world.ot)
        started = client.post(reverse("notes:timer-start", args=[visit.pk, line.pk]), **HTMX)
        assert started.status_code == 200
        assert 'id="timer-97535"' in started.content.decode()
        other_tab = world.client_for(world.ot)
        html = other_tab.get(reverse("notes:note", args=[visit.pk])).content.decode()
        epoch = int(TEST_NOW.timestamp())
        assert f'data-started="{epoch}"' in html
        assert reverse("notes:timer-stop", args=[visit.pk, line.pk]) in html
        polled = other_tab.get(reverse("notes:timers", args=[visit.pk]), **HTMX)
        assert f'data-started="{epoch}"' in polled.content.decode()
        again = other_tab.post(reverse("notes:timer-start", args=[visit.pk, line.pk]), **HTMX)
        assert again.status_code == 409
        assert "already running" in again.content.decode()
        time_machine.shift(timedelta(minutes=9))
        stopped = other_tab.post(reverse("notes:timer-stop", args=[visit.pk, line.pk]), **HTMX)
        page = stopped.content.decode()
        assert stopped.status_code == 200
        assert f'id="id_l{line.pk}-therapist_minutes" value="9"' in page
        assert "data-started" not in page
        twice = client.post(reverse("notes:timer-stop", args=[visit.pk, line.pk]), **HTMX)
        assert twice.status_code == 200
        assert "was not running (stopped elsewhere); nothing changed" in twice.content.decode()

    def test_it_asks_to_reconcile_before_signing_and_stores_the_choice(
        self, world: World, time_machine: Any
    ) -> None:
        time_machine.move_to(TEST_NOW, tick=False)
        visit, line = _note(world, therapist_minutes=25, **GOOD_NOTE)
        timer_start(user=world.ot, line=line)
        time_machine.shift(timedelta(minutes=15))
        timer_stop(user=world.ot, line=line)
        client = world.client_for(world.ot)
        url = reverse("notes:sign", args=[visit.pk])
        asked = client.post(url)
        assert asked.status_code == 409
        html = asked.content.decode()
        assert 'id="reconcile"' in html
        assert f'name="reconcile-{line.pk}" value="timer"' in html
        assert "25 min more billed" in html
        edit = client.post(url, {f"reconcile-{line.pk}": "edit"})
        assert edit.status_code == 302 and edit["Location"].endswith("#line-97535")
        assert Visit.objects.get(pk=visit.pk).status == VisitStatus.DRAFT
        missing = client.post(url, {f"reconcile-{line.pk}": "keep"})
        assert missing.status_code == 422
        assert "97535: say why you keep the typed minutes." in missing.content.decode()
        signed = client.post(url, {f"reconcile-{line.pk}": "timer"})
        assert signed.status_code == 302
        stored = Visit.objects.get(pk=visit.pk)
        assert stored.status == VisitStatus.SIGNED
        assert stored.lines.get().therapist_minutes == 15

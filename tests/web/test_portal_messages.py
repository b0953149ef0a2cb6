"""The portal's emails through a real SMTP server (aiosmtpd): the link when a program is
issued or revised, and reminders on the patient's days and time, queued once each."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.test import Client

from handrail.web.messaging.models import Message, MessageKind, MessageStatus
from handrail.web.messaging.services import consent_record, messages_send_due
from handrail.web.portal.models import ChangedVia, PatientLink, ReminderPlan
from handrail.web.portal.reminders import reminder_plan_set, reminders_queue_due
from handrail.web.portal.services import link_create
from handrail.web.programs.models import Program
from tests.web.conftest import World
from tests.web.test_messaging import MailServer, smtp  # noqa: F401 (the fixture)
from tests.web.test_portal import issue, issued_program


@pytest.fixture(autouse=True)
def _tasks_recorded(settings: Any) -> None:
    """Enqueued send tasks are recorded, not run: these tests send with messages_send_due,
    whatever backend the settings configure."""
    settings.TASKS = {
        "default": {
            "BACKEND": "django_tasks.backends.dummy.DummyBackend",
            "QUEUES": ["default", "email"],
        }
    }


def consent(world: World) -> None:
    consent_record(
        patient=world.patient,
        address="ada@example.test",
        how="verbally at the visit",
        recorded_by=world.ot,
    )


def body_of(server: MailServer, index: int = -1) -> str:
    payload = server.inbox.received[index].get_payload(decode=True)
    assert isinstance(payload, bytes)
    return payload.decode()


def link_in(body: str) -> str:
    found = re.search(r"https://clinic\.example(/p/[A-Za-z0-9_-]+/)", body)
    assert found is not None, body
    return found.group(1)


class ProgramEmailTests:
    def test_issuing_and_revising_email_a_working_link_and_nothing_clinical(
        self,
        world: World,
        smtp: MailServer,  # noqa: F811
        django_capture_on_commit_callbacks: Any,
    ) -> None:
        consent(world)
        with django_capture_on_commit_callbacks(execute=True):
            program = issued_program(world)
        with django_capture_on_commit_callbacks(execute=True):
            issue(world, program)
        kinds = list(Message.objects.order_by("id").values_list("kind", flat=True))
        assert kinds == [MessageKind.PROGRAM_ISSUED, MessageKind.PROGRAM_REVISED]
        assert messages_send_due()["sent"] == 2
        assert len(smtp.inbox.received) == 2
        for index in (0, 1):
            body = body_of(smtp, index)
            assert "Hello Ada" in body and "/unsubscribe/" in body
            for secret in (
                program.title,
                "I69.351",
                "CVA",
                *program.versions.first().items[0]["steps"][:1],
            ):  # type: ignore[union-attr]
                assert secret not in body
            page = Client().get(link_in(body))
            assert page.status_code == 200 and "Hello Ada" in page.content.decode()
        subjects = sorted(str(m["Subject"]) for m in smtp.inbox.received)
        assert subjects == [
            "Your home program from Riverside Rehab",
            "Your home program from Riverside Rehab was updated",
        ]
        # The outbox holds ids only, never the token.
        assert all("p/" not in str(m.context) for m in Message.objects.all())

    def test_no_consent_no_email(
        self, world: World, django_capture_on_commit_callbacks: Any
    ) -> None:
        with django_capture_on_commit_callbacks(execute=True):
            issued_program(world)
        assert not Message.objects.exists()

    def test_every_email_arrives_once_across_a_mail_server_outage(
        self,
        world: World,
        smtp: MailServer,  # noqa: F811
        django_capture_on_commit_callbacks: Any,
    ) -> None:
        consent(world)
        smtp.stop()
        with django_capture_on_commit_callbacks(execute=True):
            issued_program(world)
        assert messages_send_due()["retry"] == 1
        smtp.start()
        later = datetime.now(UTC) + timedelta(minutes=2)
        assert messages_send_due(now=later)["sent"] == 1
        assert messages_send_due(now=later + timedelta(hours=2)) == {"stale": 0}
        assert len(smtp.inbox.received) == 1
        assert Message.objects.get().status == MessageStatus.SENT


@pytest.fixture
def program(world: World) -> Program:
    return issued_program(world)


class ReminderTests:
    def test_it_queues_each_due_reminder_once_in_the_patients_time_zone(
        self,
        world: World,
        program: Program,
        smtp: MailServer,  # noqa: F811
    ) -> None:
        consent(world)
        # TEST_NOW is Monday 2026-11-16 15:00 UTC = 09:00 in Chicago.
        plan = reminder_plan_set(
            program=program,
            weekdays=["Mon", "Wed"],
            at="07:30",
            time_zone="America/Chicago",
            via=ChangedVia.STAFF,
            by=world.ot,
        )
        assert plan is not None
        assert plan.next_at == datetime(2026, 11, 18, 13, 30, tzinfo=UTC)  # Wed 07:30 CST
        assert reminders_queue_due() == 0
        with time_machine.travel(datetime(2026, 11, 18, 13, 31, tzinfo=UTC)):
            assert reminders_queue_due() == 1
            assert reminders_queue_due() == 0
            messages_send_due()
        assert len(smtp.inbox.received) == 1
        body = body_of(smtp)
        assert "A reminder from Riverside Rehab" in body and program.title not in body
        assert Client().get(link_in(body)).status_code == 200
        plan.refresh_from_db()
        assert plan.next_at == datetime(2026, 11, 23, 13, 30, tzinfo=UTC)  # the next Monday

    def test_a_worker_down_for_days_sends_one_reminder_not_a_backlog(
        self, world: World, program: Program
    ) -> None:
        consent(world)
        reminder_plan_set(
            program=program,
            weekdays=["Mon", "Tue", "Wed", "Thu", "Fri"],
            at="07:00",
            time_zone="UTC",
            via=ChangedVia.STAFF,
            by=world.ot,
        )
        with time_machine.travel(datetime(2026, 11, 21, 8, 0, tzinfo=UTC)):
            assert reminders_queue_due() == 1
        assert Message.objects.get().context["day"] == "2026-11-20"

    def test_reminders_stop_when_the_program_ends(self, world: World, program: Program) -> None:
        end = world.ot_plan.end_date
        world.ot_case.closed_on = world.today + timedelta(days=1)
        world.ot_case.save()
        plan = reminder_plan_set(
            program=program,
            weekdays=["Sun"],
            at="07:00",
            time_zone="UTC",
            via=ChangedVia.STAFF,
            by=world.ot,
        )
        assert plan is not None and plan.next_at is None
        assert end > world.today

    @pytest.mark.parametrize(
        ("weekdays", "at", "zone", "field"),
        [
            (["Funday"], "07:00", "UTC", "weekdays"),
            (["Mon"], "25:00", "UTC", "at"),
            (["Mon"], "07:00", "Mars/Base", "time_zone"),
            (["Mon"], "07:00", "../../etc/passwd", "time_zone"),
        ],
    )
    def test_bad_choices_name_the_field(
        self, world: World, program: Program, weekdays: list[str], at: str, zone: str, field: str
    ) -> None:
        with pytest.raises(ValidationError) as caught:
            reminder_plan_set(
                program=program,
                weekdays=weekdays,
                at=at,
                time_zone=zone,
                via=ChangedVia.STAFF,
                by=world.ot,
            )
        assert field in caught.value.message_dict
        assert not ReminderPlan.objects.exists()

    def test_the_patient_sets_them_on_the_link_page(self, world: World, program: Program) -> None:
        _link, token = link_create(program=program, by=world.ot)
        client = Client(enforce_csrf_checks=True)
        client.get(f"/p/{token}/")
        response = client.post(
            f"/p/{token}/reminders/",
            {
                "weekdays": ["Tue", "Thu"],
                "at": "18:15",
                "time_zone": "America/New_York",
                "csrfmiddlewaretoken": client.cookies["csrftoken"].value,
            },
        )
        assert response.status_code == 302
        plan = ReminderPlan.objects.get()
        assert (plan.weekdays, plan.updated_via) == ([1, 3], ChangedVia.PATIENT)
        page = client.get(f"/p/{token}/").content.decode()
        assert 'value="Tue" checked' in page
        assert PatientLink.objects.count() == 1

    def test_staff_set_them_and_record_consent(self, world: World, program: Program) -> None:
        client = world.client_for(world.ot)
        base = f"/programs/{program.pk}/patient"
        client.post(f"{base}/consent/", {"address": "not-an-email", "how": "asked"})
        client.post(f"{base}/consent/", {"address": "ada@example.test", "how": "at the visit"})
        client.post(f"{base}/reminders/", {"weekdays": ["Mon"], "at": "07:00", "time_zone": "UTC"})
        page = client.get(f"{base}/").content.decode()
        assert "ada@example.test" in page
        assert ReminderPlan.objects.get().updated_by == world.ot
        assert (
            world.client_for(world.biller)
            .post(f"{base}/reminders/", {"weekdays": ["Tue"], "at": "07:00", "time_zone": "UTC"})
            .status_code
            == 403
        )


class LocalMailTests:
    def test_without_a_mail_server_the_app_writes_mail_to_files_under_var(self) -> None:
        """`make run`'s settings (no EMAIL_HOST): the demo clinic's emails never leave the
        machine."""
        repo = Path(__file__).resolve().parents[2]
        env = {k: v for k, v in os.environ.items() if not k.startswith(("EMAIL_", "DJANGO_"))}
        env.update(
            DJANGO_SETTINGS_MODULE="handrail.web.settings",
            SECRET_KEY="x" * 50,
            PYTHONPATH=str(repo / "src"),
        )
        result = subprocess.run(
            [
                sys.executable,
                "-c",
                "import django; django.setup(); from django.conf import settings as s; "
                "print(s.EMAIL_BACKEND); print(s.EMAIL_FILE_PATH)",
            ],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert result.returncode == 0, result.stderr
        backend, path = result.stdout.split()
        assert backend == "django.core.mail.backends.filebased.EmailBackend"
        assert Path(path) == repo / "var" / "mail"

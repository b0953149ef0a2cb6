"""The worker's own schedule (handrail.web.ops.schedule): reminders are queued and the
outbox's safety net runs without cron, each periodic task enqueued about once per period
across a pool of workers, and a reminder is never sent twice."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine
from django_tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from handrail.web.messaging.models import Message, MessageKind, MessageStatus
from handrail.web.messaging.services import consent_record
from handrail.web.ops.schedule import PERIODIC_PRIORITY, periodic_enqueue, periodic_prune
from handrail.web.ops.worker import HeartbeatWorker
from handrail.web.portal.models import ChangedVia, ReminderPlan
from handrail.web.portal.reminders import reminder_plan_set
from handrail.web.programs.models import Program
from tests.web.conftest import World
from tests.web.test_messaging import MailServer, smtp  # noqa: F401 (the fixture)
from tests.web.test_portal import issued_program

TRANSACTIONAL = pytest.mark.django_db(transaction=True)
REMINDERS = "handrail.web.portal.tasks.queue_due_reminders"
SWEEP = "handrail.web.messaging.tasks.send_due_messages"


@pytest.fixture(autouse=True)
def _periods(settings: Any) -> None:
    settings.WORKER_PERIODIC_TASKS = {REMINDERS: 60, SWEEP: 300}
    settings.WORKER_PERIODIC_KEEP_SECONDS = 86_400


def rows(path: str) -> list[DBTaskResult]:
    return list(DBTaskResult.objects.filter(task_path=path).order_by("enqueued_at"))


def run_loop(worker: HeartbeatWorker, timeout: float = 60.0) -> None:
    """The worker's real loop (`manage.py worker`), stopped after its max_tasks; a guard
    stops it if it waits longer than `timeout` (the test then fails on what was not sent)."""
    guard = threading.Timer(timeout, lambda: setattr(worker, "running", False))
    guard.start()
    try:
        worker.run()
    finally:
        guard.cancel()


class PeriodicEnqueueTests:
    def test_it_enqueues_each_task_once_until_it_ran_and_its_period_passed(self, db: None) -> None:
        assert sorted(periodic_enqueue(queue_names=["*"])) == [SWEEP, REMINDERS]
        first = rows(REMINDERS)[0]
        assert (first.queue_name, first.priority) == ("email", PERIODIC_PRIORITY)
        # Waiting in the queue: another worker's look (or this one's) adds nothing.
        assert periodic_enqueue(queue_names=["email"]) == []
        DBTaskResult.objects.update(
            status=TaskResultStatus.SUCCESSFUL, finished_at=datetime.now(UTC)
        )
        assert periodic_enqueue(queue_names=["email"]) == []  # ran, but within its period
        later = datetime.now(UTC) + timedelta(seconds=61)
        with time_machine.travel(later):
            assert periodic_enqueue(queue_names=["email"]) == [REMINDERS]
        with time_machine.travel(later + timedelta(seconds=240)):
            # The reminders' copy has not run yet: only the sweep is enqueued.
            assert periodic_enqueue(queue_names=["email"]) == [SWEEP]
            DBTaskResult.objects.update(status=TaskResultStatus.SUCCESSFUL)
            assert periodic_enqueue(queue_names=["email"]) == [REMINDERS]
        assert (len(rows(REMINDERS)), len(rows(SWEEP))) == (3, 2)

    def test_a_worker_enqueues_only_for_the_queues_it_serves(self, db: None) -> None:
        assert periodic_enqueue(queue_names=["default"]) == []
        assert not DBTaskResult.objects.exists()

    def test_a_run_left_running_by_a_dead_worker_does_not_stop_the_schedule(
        self, db: None
    ) -> None:
        periodic_enqueue(queue_names=["*"])
        DBTaskResult.objects.update(status=TaskResultStatus.RUNNING)
        with time_machine.travel(datetime.now(UTC) + timedelta(minutes=10)):
            assert sorted(periodic_enqueue(queue_names=["*"])) == [SWEEP, REMINDERS]

    def test_old_successful_runs_are_pruned_and_failed_ones_kept(self, db: None) -> None:
        periodic_enqueue(queue_names=["*"])
        long_ago = datetime.now(UTC) - timedelta(days=2)
        DBTaskResult.objects.filter(task_path=REMINDERS).update(
            status=TaskResultStatus.SUCCESSFUL, finished_at=long_ago
        )
        DBTaskResult.objects.filter(task_path=SWEEP).update(
            status=TaskResultStatus.FAILED, finished_at=long_ago
        )
        assert periodic_prune() == 1
        assert rows(REMINDERS) == [] and len(rows(SWEEP)) == 1

    def test_a_setting_naming_something_that_is_no_task_is_refused(
        self, db: None, settings: Any
    ) -> None:
        settings.WORKER_PERIODIC_TASKS = {"handrail.web.portal.reminders.via_staff": 60}
        with pytest.raises(TypeError, match="via_staff is not a task"):
            periodic_enqueue(queue_names=["*"])


@pytest.fixture
def reminded(world: World) -> Iterator[Program]:
    """An issued program whose patient agreed to email and chose Wednesday 07:30 in Chicago
    (TEST_NOW is Monday 2026-11-16); the email about the issue itself is already sent."""
    consent_record(
        patient=world.patient,
        address="ada@example.test",
        how="verbally at the visit",
        recorded_by=world.ot,
    )
    program = issued_program(world)
    Message.objects.update(status=MessageStatus.SENT, sent_at=datetime.now(UTC))
    DBTaskResult.objects.all().delete()
    reminder_plan_set(
        program=program,
        weekdays=["Wed"],
        at="07:30",
        time_zone="America/Chicago",
        via=ChangedVia.PATIENT,
    )
    yield program


class WorkerLoopTests:
    @TRANSACTIONAL
    def test_the_running_worker_sends_a_due_reminder_once_without_cron(
        self,
        world: World,
        reminded: Program,
        smtp: MailServer,  # noqa: F811
    ) -> None:
        wednesday = datetime(2026, 11, 18, 13, 31, tzinfo=UTC)  # 07:31 in Chicago
        with time_machine.travel(wednesday, tick=True):
            # Its loop enqueues both periodic tasks, then runs them and the send task the
            # reminder queued: 3 tasks, nobody calls queue_reminders or send_messages.
            run_loop(HeartbeatWorker(queue_names=["email"], max_tasks=3, interval=0.1))
        reminders = Message.objects.filter(kind=MessageKind.REMINDER)
        assert [(m.status, m.context["day"]) for m in reminders] == [
            (MessageStatus.SENT, "2026-11-18")
        ]
        assert len(smtp.inbox.received) == 1
        assert "A reminder from Riverside Rehab" in str(smtp.inbox.received[0])
        plan = ReminderPlan.objects.get()
        assert plan.next_at == datetime(2026, 11, 25, 13, 30, tzinfo=UTC)

        # Minutes later a second worker (or a restarted one) enqueues the reminder task
        # again once its period passed: the reminder is not queued or sent a second time.
        with time_machine.travel(wednesday + timedelta(minutes=7), tick=True):
            worker = HeartbeatWorker(queue_names=["email"], worker_id="second")
            assert sorted(worker.schedule(force=True)) == [SWEEP, REMINDERS]
            assert worker.run_available() == 2
        assert Message.objects.filter(kind=MessageKind.REMINDER).count() == 1
        assert len(smtp.inbox.received) == 1

        # The next Wednesday's reminder goes, once.
        with time_machine.travel(datetime(2026, 11, 25, 13, 30, 30, tzinfo=UTC), tick=True):
            worker = HeartbeatWorker(queue_names=["email"], worker_id="third")
            worker.schedule(force=True)
            assert worker.run_available() == 3
        assert len(smtp.inbox.received) == 2
        assert sorted(
            Message.objects.filter(kind=MessageKind.REMINDER).values_list("context", flat=True),
            key=str,
        ) == [
            {"program_id": reminded.pk, "day": "2026-11-18"},
            {"program_id": reminded.pk, "day": "2026-11-25"},
        ]

    @TRANSACTIONAL
    def test_the_loop_looks_again_only_after_the_schedule_interval(
        self, world: World, settings: Any
    ) -> None:
        settings.WORKER_SCHEDULE_SECONDS = 3600
        worker = HeartbeatWorker(queue_names=["email"], worker_id="looker")
        assert sorted(worker.schedule()) == [SWEEP, REMINDERS]
        DBTaskResult.objects.all().delete()
        assert worker.schedule() == []  # too soon for this worker to look again
        assert sorted(worker.schedule(force=True)) == [SWEEP, REMINDERS]


class WorkerDeliveryTests:
    @TRANSACTIONAL
    def test_emails_queued_while_the_mail_server_is_down_arrive_once_through_the_worker(
        self,
        world: World,
        smtp: MailServer,  # noqa: F811
    ) -> None:
        consent_record(
            patient=world.patient,
            address="ada@example.test",
            how="verbally at the visit",
            recorded_by=world.ot,
        )
        smtp.stop()
        start = datetime.now(UTC)
        for title in ("Dressing at home", "Kitchen safety", "Bathing"):
            issued_program(world, title=title)  # each issue queues its email on commit
        worker = HeartbeatWorker(queue_names=["email"], worker_id="mailer")
        assert worker.run_available() == 3  # every try fails: retried 30 s later
        assert list(Message.objects.values_list("status", "attempts")) == [("queued", 1)] * 3
        retries = DBTaskResult.objects.filter(status=TaskResultStatus.READY)
        assert retries.count() == 3 and all(r.run_after > start for r in retries)
        smtp.start()
        assert worker.run_available() == 0  # the back-off is not over
        assert smtp.inbox.received == []
        with time_machine.travel(start + timedelta(seconds=45), tick=True):
            assert worker.run_available() == 3
        assert sorted(smtp.inbox.message_ids()) == sorted(
            Message.objects.values_list("message_id", flat=True)
        )
        # Later passes of the worker's schedule (the outbox's safety net) send nothing more.
        with time_machine.travel(start + timedelta(minutes=20), tick=True):
            worker.schedule(force=True)
            assert worker.run_available() == 2
        assert len(smtp.inbox.received) == 3
        assert set(Message.objects.values_list("status", flat=True)) == {MessageStatus.SENT}

"""The background worker: tasks go through the queue for real (no immediate backend), the
worker's heartbeat, /readyz's worker check, and `make run`'s worker.

The queue tests run on the backend the test settings configure: the database queue by
default, RQ in Redis with HANDRAIL_TEST_TASK_BACKEND=rq (`make test-redis`; settings_test)."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Iterator
from datetime import timedelta
from io import StringIO
from pathlib import Path
from typing import Any

import django_rq
import pytest
import time_machine
from django.conf import settings
from django.core import mail
from django.core.management import CommandError, call_command
from django.db.models.signals import post_save
from django.test import Client
from django.utils import timezone
from django_tasks import TaskResult, TaskResultStatus, task_backends
from django_tasks.signals import task_enqueued
from django_tasks_db import DatabaseBackend
from django_tasks_db.models import DBTaskResult

from handrail.web.messaging import rendering
from handrail.web.messaging.models import Message, MessageKind, MessageStatus
from handrail.web.messaging.services import consent_record, message_queue
from handrail.web.ops.models import WorkerHeartbeat
from handrail.web.ops.worker import HeartbeatWorker
from tests.web.conftest import TEST_NOW, World

REPO = Path(__file__).resolve().parents[2]
TRANSACTIONAL = pytest.mark.django_db(transaction=True)


ON_RQ = settings.TASK_BACKEND == "rq"


def run_worker_once(queues: list[str] | None = None) -> int:
    """What a running worker does on its next passes: claim and run every ready task."""
    if ON_RQ:
        from handrail.web.ops.worker_rq import rq_run, rq_worker

        worker = rq_worker(queue_names=queues or ["*"], worker_id=f"test-{uuid.uuid4().hex[:8]}")
        return rq_run(worker, burst=True, max_tasks=None, log_level="WARNING")
    return HeartbeatWorker(queue_names=queues or ["*"]).run_available()


@pytest.fixture(autouse=True)
def _empty_queues() -> Iterator[None]:
    """On RQ every test starts and ends with empty queues (the test Redis database)."""
    if ON_RQ:
        django_rq.get_connection("default").flushdb()
    yield
    if ON_RQ:
        django_rq.get_connection("default").flushdb()


@pytest.fixture
def enqueued() -> Iterator[list[str]]:
    """The ids of the task results enqueued during the test, on any backend."""
    ids: list[str] = []

    def record(sender: object, task_result: TaskResult[Any], **kwargs: object) -> None:
        ids.append(task_result.id)

    task_enqueued.connect(record, weak=False)
    yield ids
    task_enqueued.disconnect(record)


@pytest.fixture
def reminder_renderer() -> Iterator[None]:
    previous = rendering.renderer_for(MessageKind.REMINDER)
    rendering.register_renderer(
        MessageKind.REMINDER,
        lambda message: rendering.RenderedEmail(f"Hello {message.patient.first_name}"),
    )
    yield
    if previous is not None:
        rendering.register_renderer(MessageKind.REMINDER, previous)
    else:
        rendering._RENDERERS.pop(MessageKind.REMINDER, None)


def queue_reminder(world: World, key: str) -> Message:
    consent_record(
        patient=world.patient,
        address="ada@example.test",
        how="verbally at the front desk",
        recorded_by=world.front_desk,
    )
    message = message_queue(
        patient=world.patient,
        kind=MessageKind.REMINDER,
        subject="Your home program",
        idempotency_key=key,
        created_by=world.ot,
    )
    assert message is not None
    return message


class TaskQueueTests:
    def test_the_backend_is_the_configured_queue(self) -> None:
        backend = task_backends["default"]
        assert type(backend).__name__ == ("RQBackend" if ON_RQ else "DatabaseBackend")
        if not ON_RQ:
            assert isinstance(backend, DatabaseBackend)

    @TRANSACTIONAL
    def test_a_queued_email_waits_in_the_queue_until_the_worker_sends_it(
        self, world: World, reminder_renderer: None, enqueued: list[str]
    ) -> None:
        message = queue_reminder(world, "worker-1")
        assert len(enqueued) == 1
        queued = task_backends["default"].get_result(enqueued[0])
        assert (queued.task.module_path, queued.task.queue_name, queued.status) == (
            "handrail.web.messaging.tasks.send_message",
            "email",
            TaskResultStatus.READY,
        )
        if not ON_RQ:
            assert str(DBTaskResult.objects.get().pk) == queued.id  # a row in the database queue
        assert mail.outbox == []
        assert run_worker_once() == 1
        message.refresh_from_db()
        assert message.status == MessageStatus.SENT
        assert [m.to for m in mail.outbox] == [["ada@example.test"]]
        queued.refresh()
        assert (queued.status, queued.return_value) == (TaskResultStatus.SUCCESSFUL, "sent")
        assert run_worker_once() == 0  # nothing left, nothing sent twice
        assert len(mail.outbox) == 1

    @TRANSACTIONAL
    def test_a_failing_task_is_recorded_failed_and_the_worker_goes_on(
        self, world: World, reminder_renderer: None, enqueued: list[str]
    ) -> None:
        calls: list[int] = []

        def render_or_crash(message: Message) -> rendering.RenderedEmail:
            calls.append(message.pk)
            if len(calls) == 1:
                raise RuntimeError("renderer crashed")  # an unexpected error: the task fails
            return rendering.RenderedEmail("Hello")

        rendering.register_renderer(MessageKind.REMINDER, render_or_crash)
        queue_reminder(world, "worker-f1")
        message_queue(  # a second message under the same consent
            patient=world.patient,
            kind=MessageKind.REMINDER,
            subject="Your home program",
            idempotency_key="worker-f2",
            created_by=world.ot,
        )
        assert run_worker_once() == 2
        failed, sent = (task_backends["default"].get_result(i) for i in enqueued)
        assert failed.status == TaskResultStatus.FAILED
        assert failed.errors[-1].exception_class_path == "builtins.RuntimeError"
        assert (sent.status, sent.return_value) == (TaskResultStatus.SUCCESSFUL, "sent")
        assert [m.to for m in mail.outbox] == [["ada@example.test"]]

    @TRANSACTIONAL
    def test_a_task_put_off_runs_when_it_is_due(self, enqueued: list[str]) -> None:
        """A message's retry is put off to later (enqueue_send with run_after): the worker
        leaves it until then (RQ: its scheduler moves it to the queue when due)."""
        from handrail.web.messaging.tasks import send_due_messages

        due = timezone.now() + timedelta(minutes=5)
        send_due_messages.using(run_after=due).enqueue()
        assert run_worker_once() == 0
        result = task_backends["default"].get_result(enqueued[0])
        assert result.status == TaskResultStatus.READY
        with time_machine.travel(due + timedelta(seconds=1), tick=True):
            assert run_worker_once() == 1
        result.refresh()
        assert result.status == TaskResultStatus.SUCCESSFUL
        assert result.return_value == {"stale": 0}  # nothing was due

    @TRANSACTIONAL
    def test_a_worker_serves_only_its_queues(self, world: World, reminder_renderer: None) -> None:
        queue_reminder(world, "worker-2")
        assert run_worker_once(["default"]) == 0
        assert run_worker_once(["email"]) == 1

    @TRANSACTIONAL
    def test_the_command_runs_the_ready_tasks_in_batch(
        self, world: World, reminder_renderer: None
    ) -> None:
        queue_reminder(world, "worker-3")
        out = StringIO()
        call_command("worker", "--batch", stdout=out)
        assert out.getvalue().strip() == "ran 1 task(s)"
        assert Message.objects.get().status == MessageStatus.SENT

    @TRANSACTIONAL
    def test_the_loop_beats_runs_and_removes_its_heartbeat_when_it_stops(
        self, world: World, reminder_renderer: None
    ) -> None:
        queue_reminder(world, "worker-4")
        beats: list[tuple[str, str, str]] = []

        def seen(sender: object, instance: WorkerHeartbeat, **kwargs: object) -> None:
            beats.append((instance.worker_id, instance.backend, instance.queues))

        post_save.connect(seen, sender=WorkerHeartbeat, weak=False)
        try:
            if ON_RQ:
                from handrail.web.ops.worker_rq import rq_run, rq_worker

                worker = rq_worker(queue_names=["email"], worker_id="w-loop")
                assert rq_run(worker, burst=False, max_tasks=1) == 1  # after its one task
            else:
                HeartbeatWorker(queue_names=["email"], max_tasks=1, worker_id="w-loop").run()
        finally:
            post_save.disconnect(seen, sender=WorkerHeartbeat)
        assert Message.objects.get().status == MessageStatus.SENT
        kind = "rq" if ON_RQ else "database"
        assert beats and set(beats) == {("w-loop", f"default ({kind})", "email")}
        assert not WorkerHeartbeat.objects.exists()

    @pytest.mark.skipif(not ON_RQ, reason="the RQ worker's schedule: make test-redis")
    def test_a_pool_of_rq_workers_enqueues_each_periodic_task_once_per_period(
        self, db: None
    ) -> None:
        from handrail.web.ops.schedule import PERIODIC_KEY_PREFIX
        from handrail.web.ops.worker_rq import rq_worker

        first = rq_worker(queue_names=["*"], worker_id="w-first")
        second = rq_worker(queue_names=["*"], worker_id="w-second")
        assert sorted(first.schedule()) == sorted(settings.WORKER_PERIODIC_TASKS)
        assert second.schedule() == []  # within the period, whichever worker looks
        assert django_rq.get_queue("email").count == len(settings.WORKER_PERIODIC_TASKS)
        # A task's key expires after its period: the next look enqueues that task again.
        reminders = "handrail.web.portal.tasks.queue_due_reminders"
        connection = django_rq.get_connection("default")
        assert (
            0
            < connection.ttl(f"{PERIODIC_KEY_PREFIX}{reminders}")
            <= (settings.WORKER_PERIODIC_TASKS[reminders])
        )
        connection.delete(f"{PERIODIC_KEY_PREFIX}{reminders}")
        assert second.schedule() == [reminders]
        assert rq_worker(queue_names=["default"], worker_id="w-default").schedule() == []

    @pytest.mark.parametrize(
        ("args", "named"),
        [
            (["--queue", "reports"], "--queue='reports'"),
            (["--queue", ""], "--queue=''"),
            (["--interval", "0"], "--interval=0.0"),
            (["--max-tasks", "0"], "--max-tasks=0"),
            (["--worker-id", "x" * 65], "--worker-id"),
        ],
    )
    def test_it_refuses_bad_options_naming_them(self, args: list[str], named: str) -> None:
        with pytest.raises(CommandError, match=named):
            call_command("worker", *args)


def readyz() -> tuple[int, dict[str, object]]:
    response = Client().get("/readyz")
    return response.status_code, response.json()


class WorkerReadinessTests:
    def test_it_is_ok_with_a_live_worker_for_every_queue(self, db: None) -> None:
        HeartbeatWorker(queue_names=["default", "email"], worker_id="w-a").beat(force=True)
        assert readyz() == (
            200,
            {
                "status": "ok",
                "checks": {"database": "ok", "migrations": "ok", "cache": "ok", "worker": "ok"},
            },
        )

    def test_it_is_degraded_but_serving_without_a_worker(self, db: None) -> None:
        status, body = readyz()
        assert (status, body["status"]) == (200, "degraded")
        assert body["checks"] == {
            "database": "ok",
            "migrations": "ok",
            "cache": "ok",
            "worker": "no worker has reported; queued tasks (emails) wait: "
            "start one with: manage.py worker",
        }

    def test_a_stale_heartbeat_is_degraded_with_its_age(self, db: None) -> None:
        with time_machine.travel(TEST_NOW, tick=False):
            HeartbeatWorker(queue_names=["*"], worker_id="w-old").beat(force=True)
        with time_machine.travel(TEST_NOW + timedelta(seconds=120), tick=False):
            status, body = readyz()
        assert (status, body["status"]) == (200, "degraded")
        worker = body["checks"]["worker"]  # type: ignore[index]
        assert worker.startswith("no worker heartbeat for 120 s (stale after 60 s; last: worker ")
        assert worker.endswith("start one with: manage.py worker")

    def test_a_queue_without_a_worker_is_named(self, db: None) -> None:
        HeartbeatWorker(queue_names=["default"], worker_id="w-d").beat(force=True)
        status, body = readyz()
        assert (status, body["status"]) == (200, "degraded")
        assert body["checks"]["worker"] == (  # type: ignore[index]
            "no live worker serves the queue(s) email; "
            "start one with: manage.py worker --queue email"
        )

    @TRANSACTIONAL
    def test_a_restarted_worker_beats_in_its_own_row(self) -> None:
        HeartbeatWorker(queue_names=["*"], worker_id="w-1").beat(force=True)
        with time_machine.travel(TEST_NOW + timedelta(days=2), tick=False):
            worker = HeartbeatWorker(queue_names=["*"], worker_id="w-2")
            worker.beat(force=True)
            assert readyz()[1]["status"] == "ok"
            worker.max_tasks = 0
            worker.run()  # forgets rows dead for a day, removes its own when it stops
        assert not WorkerHeartbeat.objects.exists()


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


class MakeRunWorkerTests:
    def test_make_run_starts_a_worker_and_ctrl_c_stops_both(self, tmp_path: Path) -> None:
        database = tmp_path / "run.sqlite3"
        env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "PYTEST"))}
        env.update(
            PYTHONPATH=str(REPO / "src"),
            DATABASE_URL=f"sqlite:///{database}",
            SECRET_KEY="s" * 60,
            DEBUG="0",
        )
        port = _free_port()
        process = subprocess.Popen(
            [sys.executable, "-m", "handrail.web.serve", "--no-demo", "--port", str(port)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own group, as a terminal's foreground job
        )
        try:
            body: dict[str, object] = {}
            deadline = time.monotonic() + 120
            while body.get("status") != "ok":
                assert process.poll() is None, process.stdout.read().decode()  # type: ignore[union-attr]
                assert time.monotonic() < deadline, body
                try:
                    with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=5) as r:
                        body = json.loads(r.read())
                except OSError:
                    pass
                time.sleep(0.3)
            with sqlite3.connect(database) as db:
                ((worker_pid,),) = db.execute("SELECT pid FROM ops_workerheartbeat").fetchall()
            assert _alive(worker_pid)
            os.killpg(process.pid, signal.SIGINT)  # Ctrl-C in the terminal
            # A loaded machine (the suite beside it) can take long to stop both processes.
            assert process.wait(timeout=120) == 0
            deadline = time.monotonic() + 20
            while _alive(worker_pid) and time.monotonic() < deadline:
                time.sleep(0.2)
            assert not _alive(worker_pid)
            with sqlite3.connect(database) as db:
                assert db.execute("SELECT count(*) FROM ops_workerheartbeat").fetchone() == (0,)
        finally:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()

"""Consent, the outbox and delivery through a real SMTP server (aiosmtpd in this process):
a mail server outage, a worker dying mid-send, refused addresses, unsubscribe links."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from datetime import timedelta
from email import message_from_bytes
from email.message import Message as EmailMessageObject
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session
from django.core.exceptions import ValidationError
from django.test import Client
from django.utils import timezone

from handrail.web.messaging import rendering, services
from handrail.web.messaging.models import Consent, Message, MessageKind, MessageStatus
from handrail.web.messaging.services import (
    MAX_ATTEMPTS,
    STALE_SENDING,
    consent_record,
    consent_withdraw,
    message_queue,
    message_retry,
    message_send,
    messages_send_due,
)
from handrail.web.messaging.tokens import unsubscribe_token
from tests.web.conftest import World


class Inbox:
    """An aiosmtpd handler that keeps what it accepts and refuses addresses at refused.test."""

    def __init__(self) -> None:
        self.received: list[EmailMessageObject] = []

    async def handle_RCPT(  # noqa: N802 (aiosmtpd's hook name)
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: Any
    ) -> str:
        if address.endswith("@refused.test"):
            return "550 5.1.1 no such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(  # noqa: N802
        self, server: SMTP, session: Session, envelope: Envelope
    ) -> str:
        content = envelope.content
        assert isinstance(content, bytes)
        self.received.append(message_from_bytes(content))
        return "250 Message accepted for delivery"

    def message_ids(self) -> list[str]:
        return [str(m["Message-ID"]) for m in self.received]


class MailServer:
    """A real SMTP server on 127.0.0.1 that a test can stop and start again on one port."""

    def __init__(self) -> None:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.inbox = Inbox()
        self.controller: Controller | None = None

    def start(self) -> None:
        self.controller = Controller(self.inbox, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None


@pytest.fixture
def smtp(settings: Any) -> Iterator[MailServer]:
    server = MailServer()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = server.port
    settings.EMAIL_TIMEOUT = 5
    settings.EMAIL_USE_TLS = False
    settings.SITE_URL = "https://clinic.example"
    server.start()
    yield server
    server.stop()


@pytest.fixture
def reminder_renderer() -> Iterator[None]:
    """A plain renderer for reminder emails (the portal registers the real ones)."""
    previous = rendering.renderer_for(MessageKind.REMINDER)

    def render(message: Message) -> rendering.RenderedEmail:
        return rendering.RenderedEmail(
            f"Hello {message.patient.first_name}, time for your exercises: "
            f"https://clinic.example/p/{message.context['ref']}/"
        )

    rendering.register_renderer(MessageKind.REMINDER, render)
    yield
    if previous is not None:
        rendering.register_renderer(MessageKind.REMINDER, previous)
    else:
        rendering._RENDERERS.pop(MessageKind.REMINDER, None)


def consent(world: World, address: str = "ada@example.test") -> Consent:
    return consent_record(
        patient=world.patient,
        address=address,
        how="verbally at the front desk",
        recorded_by=world.front_desk,
    )


def queue(world: World, key: str) -> Message:
    message = message_queue(
        patient=world.patient,
        kind=MessageKind.REMINDER,
        subject="Your home program",
        idempotency_key=key,
        context={"ref": key},
        created_by=world.ot,
    )
    assert message is not None
    return message


def statuses() -> list[tuple[str, int]]:
    return list(Message.objects.order_by("id").values_list("status", "attempts"))


class ConsentTests:
    def test_it_records_who_when_and_how(self, world: World) -> None:
        c = consent(world)
        assert (c.channel, c.address, c.recorded_by, c.active) == (
            "email",
            "ada@example.test",
            world.front_desk,
            True,
        )
        assert c.given_at is not None
        assert world.patient.audit_events.filter(object_type="consent").count() == 1

    def test_a_new_consent_replaces_the_active_one(self, world: World) -> None:
        first = consent(world)
        second = consent(world, "ada.new@example.test")
        first.refresh_from_db()
        assert not first.active and first.withdrawn_via == "staff"
        assert second.active
        assert (
            Consent.objects.filter(patient=world.patient, withdrawn_at__isnull=True).count() == 1
        )

    def test_it_names_the_bad_fields(self, world: World) -> None:
        with pytest.raises(ValidationError) as caught:
            consent_record(
                patient=world.patient, address="not-an-address", how=" ", recorded_by=world.ot
            )
        assert set(caught.value.message_dict) == {"address", "how"}
        assert Consent.objects.count() == 0

    def test_withdrawing_stops_what_is_queued(self, world: World, reminder_renderer: None) -> None:
        c = consent(world)
        message = queue(world, "r-1")
        consent_withdraw(consent=c, via="staff", by=world.front_desk)
        message.refresh_from_db()
        assert message.status == MessageStatus.FAILED
        assert "withdrew consent" in message.last_error
        assert (
            message_queue(
                patient=world.patient,
                kind=MessageKind.REMINDER,
                subject="x",
                idempotency_key="r-2",
            )
            is None
        )


class QueueTests:
    def test_it_queues_nothing_without_consent(self, world: World) -> None:
        assert (
            message_queue(
                patient=world.patient, kind=MessageKind.REMINDER, subject="x", idempotency_key="k"
            )
            is None
        )
        assert Message.objects.count() == 0

    def test_the_same_event_is_queued_once(self, world: World) -> None:
        consent(world)
        first = queue(world, "program-7-version-2")
        again = queue(world, "program-7-version-2")
        assert first.id == again.id
        other = queue(world, "program-7-version-3")
        assert other.message_id != first.message_id
        assert first.message_id.startswith("<") and first.message_id.endswith(">")
        assert Message.objects.count() == 2


class DeliveryTests:
    def test_every_message_arrives_exactly_once_across_a_mail_server_outage(
        self, world: World, smtp: MailServer, reminder_renderer: None
    ) -> None:
        consent(world)
        smtp.stop()
        queued = [queue(world, f"reminder-{n}") for n in range(3)]
        now = timezone.now()
        # The worker's pass while the server is down: every try fails and is put off.
        assert messages_send_due(now=now) == {"stale": 0, "retry": 3}
        assert statuses() == [("queued", 1)] * 3
        assert all("unreachable" in m.last_error for m in Message.objects.all())
        assert smtp.inbox.received == []

        smtp.start()
        # The retries are not due yet (30 s back-off).
        assert messages_send_due(now=now + timedelta(seconds=29)) == {"stale": 0}
        assert smtp.inbox.received == []
        assert messages_send_due(now=now + timedelta(seconds=31)) == {"stale": 0, "sent": 3}
        assert statuses() == [("sent", 2)] * 3
        # Later passes, and a task for a row already sent, find nothing more to send.
        assert messages_send_due(now=now + timedelta(hours=2)) == {"stale": 0}
        assert message_send(message_id=queued[0].id, now=now + timedelta(hours=2)) == "skipped"
        assert sorted(smtp.inbox.message_ids()) == sorted(m.message_id for m in queued)
        assert len(smtp.inbox.received) == 3

    def test_the_email_carries_the_link_the_unsubscribe_link_and_its_message_id(
        self, world: World, smtp: MailServer, reminder_renderer: None
    ) -> None:
        c = consent(world)
        message = queue(world, "reminder-x")
        assert message_send(message_id=message.id) == "sent"
        (email,) = smtp.inbox.received
        token = unsubscribe_token(c.id)
        assert email["Message-ID"] == message.message_id
        assert email["To"] == "ada@example.test"
        assert (
            "".join(str(email["List-Unsubscribe"]).split())
            == f"<https://clinic.example/unsubscribe/{token}/>"
        )
        assert email["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        body = email.get_payload(decode=True)
        assert isinstance(body, bytes)
        text = body.decode()
        assert "https://clinic.example/p/reminder-x/" in text
        assert f"https://clinic.example/unsubscribe/{token}/" in text
        message.refresh_from_db()
        assert (message.status, message.attempts, message.sent_at is not None) == ("sent", 1, True)

    def test_it_never_sends_twice_when_the_worker_dies_after_the_server_accepted(
        self,
        world: World,
        smtp: MailServer,
        reminder_renderer: None,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        consent(world)
        message = queue(world, "reminder-crash")
        real_finish = services._finish

        def die_before_marking_sent(m: Message, status: str, at: Any, reason: str) -> None:
            if status == MessageStatus.SENT:
                raise KeyboardInterrupt("worker killed")
            real_finish(m, status, at, reason)

        monkeypatch.setattr(services, "_finish", die_before_marking_sent)
        with pytest.raises(KeyboardInterrupt):
            message_send(message_id=message.id)
        monkeypatch.setattr(services, "_finish", real_finish)
        assert len(smtp.inbox.received) == 1
        assert statuses() == [("sending", 1)]

        # Another worker, or the sweep, never sends a "sending" row again.
        assert message_send(message_id=message.id) == "skipped"
        assert messages_send_due() == {"stale": 0}
        later = timezone.now() + STALE_SENDING + timedelta(seconds=1)
        assert messages_send_due(now=later) == {"stale": 1}
        message.refresh_from_db()
        assert message.status == "failed"
        assert "delivery unknown" in message.last_error
        assert len(smtp.inbox.received) == 1

    def test_a_refused_address_fails_at_once(
        self, world: World, smtp: MailServer, reminder_renderer: None
    ) -> None:
        consent(world, "nobody@refused.test")
        message = queue(world, "reminder-refused")
        assert message_send(message_id=message.id) == "failed"
        message.refresh_from_db()
        assert message.status == "failed" and message.attempts == 1
        assert "refused the address (550)" in message.last_error
        assert smtp.inbox.received == []

    def test_it_gives_up_after_the_last_attempt(
        self, world: World, smtp: MailServer, reminder_renderer: None
    ) -> None:
        consent(world)
        smtp.stop()
        message = queue(world, "reminder-down")
        now = timezone.now()
        outcomes = []
        for _ in range(MAX_ATTEMPTS):
            outcomes.append(message_send(message_id=message.id, now=now))
            message.refresh_from_db()
            now = message.next_attempt_at
        assert outcomes == ["retry"] * (MAX_ATTEMPTS - 1) + ["failed"]
        assert message.status == "failed"
        assert message.last_error.startswith(f"Gave up after {MAX_ATTEMPTS} attempts")

    def test_the_back_off_doubles_up_to_an_hour(self) -> None:
        waits = [services.backoff(n).total_seconds() for n in range(1, 10)]
        assert waits == [30, 60, 120, 240, 480, 960, 1920, 3600, 3600]

    def test_a_retried_message_goes_again_with_the_same_message_id(
        self, world: World, smtp: MailServer, reminder_renderer: None
    ) -> None:
        consent(world, "nobody@refused.test")
        message = queue(world, "reminder-retry")
        message_send(message_id=message.id)
        consent(world, "ada@example.test")  # the patient gave a working address...
        message.refresh_from_db()
        # ...but the failed row belongs to the old consent: a retry is refused.
        with pytest.raises(ValidationError) as caught:
            message_retry(message=message, by=world.ot)
        assert "consent" in caught.value.message_dict

    def test_it_refuses_to_retry_what_did_not_fail(self, world: World) -> None:
        consent(world)
        message = queue(world, "reminder-q")
        with pytest.raises(ValidationError) as caught:
            message_retry(message=message, by=world.ot)
        assert "status" in caught.value.message_dict


class UnsubscribeTests:
    def test_it_works_without_signing_in_and_asks_first(self, world: World) -> None:
        c = consent(world)
        client = Client()
        url = f"/unsubscribe/{unsubscribe_token(c.id)}/"
        page = client.get(url)
        assert page.status_code == 200
        assert b"Stop these emails" in page.content
        c.refresh_from_db()
        assert c.active  # a GET (a link preview) changes nothing
        done = client.post(url)
        assert done.status_code == 200
        assert b"You will get no more emails" in done.content
        c.refresh_from_db()
        assert not c.active and c.withdrawn_via == "unsubscribe-link"
        assert client.post(url).status_code == 200  # twice is fine

    def test_one_click_posts_from_mail_programs_need_no_csrf_token(self, world: World) -> None:
        c = consent(world)
        client = Client(enforce_csrf_checks=True)
        response = client.post(
            f"/unsubscribe/{unsubscribe_token(c.id)}/", {"List-Unsubscribe": "One-Click"}
        )
        assert response.status_code == 200
        c.refresh_from_db()
        assert not c.active

    @pytest.mark.parametrize("token", ["garbage", "eyJjb25zZW50Ijo5OTl9:xx:yy", "a" * 300])
    def test_a_tampered_token_gets_a_plain_page(self, world: World, token: str) -> None:
        c = consent(world)
        response = Client().post(f"/unsubscribe/{token}/")
        assert response.status_code == 404
        assert b"This link is not valid" in response.content
        c.refresh_from_db()
        assert c.active

    def test_a_token_for_another_consent_cannot_be_forged(self, world: World) -> None:
        c = consent(world)
        forged = unsubscribe_token(c.id)[:-2] + "xx"
        assert Client().post(f"/unsubscribe/{forged}/").status_code == 404


class OutboxPageTests:
    def test_it_lists_the_clinics_messages_with_their_status(
        self, world: World, reminder_renderer: None
    ) -> None:
        consent(world)
        queue(world, "reminder-page")
        page = world.client_for(world.ot).get("/messages/")
        assert page.status_code == 200
        assert b"ada@example.test" in page.content
        assert b'data-status="queued"' in page.content
        assert world.client_for(world.outsider).get("/messages/").content.count(b"<tr data") == 0

    def test_front_desk_and_billers_cannot_see_it(self, world: World) -> None:
        assert world.client_for(world.front_desk).get("/messages/").status_code == 403
        assert world.client_for(world.biller).get("/messages/").status_code == 403

    def test_the_retry_button_queues_a_failed_message_again(
        self, world: World, smtp: MailServer, reminder_renderer: None
    ) -> None:
        consent(world)
        smtp.stop()
        message = queue(world, "reminder-button")
        Message.objects.filter(id=message.id).update(
            status="failed", last_error=services.STALE_REASON
        )
        smtp.start()
        client = world.client_for(world.admin)
        assert b">Retry</button>" in client.get("/messages/?status=failed").content
        response = client.post(f"/messages/{message.id}/retry/")
        assert response.status_code == 302
        assert messages_send_due() == {"stale": 0, "sent": 1}
        message.refresh_from_db()
        assert message.status == "sent"
        assert smtp.inbox.message_ids() == [message.message_id]
        assert (
            world.client_for(world.outsider).post(f"/messages/{message.id}/retry/").status_code
            == 404
        )


class SendMessagesCommandTests:
    def test_it_sends_what_is_due(
        self, world: World, smtp: MailServer, reminder_renderer: None
    ) -> None:
        from io import StringIO

        from django.core.management import call_command

        consent(world)
        queue(world, "reminder-cmd")
        out = StringIO()
        call_command("send_messages", stdout=out)
        assert out.getvalue().strip() == "sent: 1, stale: 0"
        assert len(smtp.inbox.received) == 1


class OutboxStatusTests:
    def test_queued_sent_and_failed_show_with_the_reason_and_retry_only_on_failed(
        self, world: World, reminder_renderer: None
    ) -> None:
        consent(world)
        queued, sent, failed = (queue(world, f"reminder-{n}") for n in ("q", "s", "f"))
        Message.objects.filter(id=queued.id).update(
            attempts=1, last_error="Attempt 1: mail server unreachable: refused"
        )
        Message.objects.filter(id=sent.id).update(status="sent", sent_at=timezone.now())
        Message.objects.filter(id=failed.id).update(
            status="failed", failed_at=timezone.now(), last_error=services.STALE_REASON
        )
        page = world.client_for(world.ot).get("/messages/").content.decode()
        rows = {
            status: page.split(f'<tr data-status="{status}">', 1)[1].split("</tr>", 1)[0]
            for status in ("queued", "sent", "failed")
        }
        assert "next try" in rows["queued"] and "mail server unreachable" in rows["queued"]
        assert "Sent " in rows["sent"]
        assert "delivery unknown" in rows["failed"] and ">Retry</button>" in rows["failed"]
        assert ">Retry</button>" not in rows["queued"] + rows["sent"]
        only_failed = world.client_for(world.ot).get("/messages/?status=failed").content
        assert only_failed.count(b"<tr data-status=") == 1

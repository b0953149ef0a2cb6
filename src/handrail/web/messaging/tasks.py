"""Background tasks of the messaging app (the "email" queue). Thin: each calls a service."""

from __future__ import annotations

from django_tasks import task

from handrail.web.messaging.services import message_send, messages_send_due


@task(queue_name="email")
def send_message(message_id: int) -> str:
    return message_send(message_id=message_id)


@task(queue_name="email")
def send_due_messages() -> dict[str, int]:
    return messages_send_due()

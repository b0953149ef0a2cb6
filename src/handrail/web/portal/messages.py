"""The portal's emails: "your program is ready / was updated" when a version is issued, and
reminders. The outbox stores only ids (handrail.web.messaging.rendering); the link goes into
the body when it is sent: a new link is made for each email (only its hash is stored), so the
token is never in the outbox and every email's link works whatever was revoked before.
Bodies name the clinic and carry the link: no diagnosis, no program title or content.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models.signals import post_save
from django.utils import timezone

from handrail.web.messaging.models import Message, MessageKind
from handrail.web.messaging.rendering import RenderedEmail, RenderError, register_renderer
from handrail.web.messaging.services import message_queue
from handrail.web.portal.services import link_create, link_expires_on, link_url
from handrail.web.programs.models import Program, ProgramVersion


def program_email_queue(version: ProgramVersion) -> Message | None:
    """Queue the email for an issued version (once per version); None without consent."""
    program = version.program
    first = version.number == 1
    return message_queue(
        patient=program.patient,
        kind=MessageKind.PROGRAM_ISSUED if first else MessageKind.PROGRAM_REVISED,
        subject=(
            f"Your home program from {program.clinic.name}"
            if first
            else f"Your home program from {program.clinic.name} was updated"
        ),
        idempotency_key=f"program-version:{version.pk}",
        context={"program_id": program.pk, "version": version.number},
        created_by=version.issued_by,
    )


def _on_version_saved(sender: Any, instance: ProgramVersion, created: bool, **kwargs: Any) -> None:
    if created and not kwargs.get("raw"):
        # Robust: the version is committed whatever happens here; a failure to hand the email
        # to the worker is logged, and the row stays queued for the send_messages sweep.
        transaction.on_commit(lambda: program_email_queue(instance), robust=True)


def _program_of(message: Message) -> Program:
    program_id = message.context.get("program_id")
    program = (
        Program.objects.select_related("clinic", "patient", "case")
        .filter(pk=program_id, patient_id=message.patient_id)
        .first()
    )
    if program is None:
        raise RenderError("the program is gone")
    expires = link_expires_on(program)
    if expires is not None and timezone.localdate() > expires:
        raise RenderError("the program has ended")
    return program


def _link(message: Message, program: Program) -> str:
    _link_row, token = link_create(program=program, by=None, note=f"email #{message.pk}")
    return link_url(token)


def render_program_email(message: Message) -> RenderedEmail:
    program = _program_of(message)
    url = _link(message, program)
    what = "is ready" if message.kind == MessageKind.PROGRAM_ISSUED else "was updated"
    return RenderedEmail(
        f"Hello {program.patient.first_name},\n\n"
        f"Your home program from {program.clinic.name} {what}. Open it on your phone or "
        f"computer (no account needed):\n\n{url}\n\n"
        "You can print it there and tell your therapist how each session went. "
        "Please keep this link to yourself."
    )


def render_reminder(message: Message) -> RenderedEmail:
    program = _program_of(message)
    url = _link(message, program)
    return RenderedEmail(
        f"Hello {program.patient.first_name},\n\n"
        f"A reminder from {program.clinic.name}: today is one of your home program days.\n\n"
        f"{url}\n\nAfter your session, log how it went on the same page."
    )


def connect() -> None:
    register_renderer(MessageKind.PROGRAM_ISSUED, render_program_email)
    register_renderer(MessageKind.PROGRAM_REVISED, render_program_email)
    register_renderer(MessageKind.REMINDER, render_reminder)
    post_save.connect(
        _on_version_saved, sender=ProgramVersion, dispatch_uid="portal-program-version-email"
    )

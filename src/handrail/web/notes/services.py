"""Writes of the note page that combine the core's visit services in one transaction, so a
bad value saves nothing (the note fields and the minutes of a line are one form)."""

from __future__ import annotations

from django.db import transaction

from handrail.web.clinic.models import User
from handrail.web.visits.models import ServiceLine
from handrail.web.visits.services import service_line_set_minutes, service_line_update


@transaction.atomic
def note_line_save(
    *,
    user: User,
    line: ServiceLine,
    therapist_minutes: int,
    assistant_minutes: int,
    note: dict[str, str],
) -> ServiceLine:
    """Save a line's structured note and, when they changed, its minutes typed by hand.

    Raises ValidationError keyed by field; nothing is saved when any part fails."""
    line = service_line_update(user=user, line=line, requested_units=line.requested_units, **note)
    if (therapist_minutes, assistant_minutes) != (line.therapist_minutes, line.assistant_minutes):
        line = service_line_set_minutes(
            user=user,
            line=line,
            therapist_minutes=therapist_minutes,
            assistant_minutes=assistant_minutes,
        )
    return line

"""Reads of the messaging app, scoped to the user's clinic."""

from __future__ import annotations

from django.db.models import Count, QuerySet

from handrail.web.clinic.models import Patient, User
from handrail.web.clinic.permissions import clinic_id_of
from handrail.web.messaging.models import Consent, Message, MessageStatus


def outbox(*, user: User, status: str | None = None, limit: int = 200) -> QuerySet[Message]:
    rows = Message.objects.filter(clinic_id=clinic_id_of(user)).select_related("patient")
    if status:
        rows = rows.filter(status=status)
    return rows.order_by("-created_at", "-id")[:limit]


def outbox_counts(*, user: User) -> dict[str, int]:
    counts = dict.fromkeys(MessageStatus.values, 0)
    for row in (
        Message.objects.filter(clinic_id=clinic_id_of(user))
        .values("status")
        .annotate(n=Count("id"))
    ):
        counts[row["status"]] = row["n"]
    return counts


def message_for_user(*, user: User, message_id: int) -> Message:
    return Message.objects.get(clinic_id=clinic_id_of(user), id=message_id)


def consents_of(*, patient: Patient) -> QuerySet[Consent]:
    return Consent.objects.filter(patient=patient).select_related("recorded_by", "withdrawn_by")

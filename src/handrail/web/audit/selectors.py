"""Reading the audit log, always within one clinic."""

from __future__ import annotations

from django.db import models
from django.db.models import QuerySet

from handrail.web.audit.models import AuditAction, AuditEvent
from handrail.web.clinic.models import Patient, User
from handrail.web.clinic.permissions import clinic_id_of


def audit_event_list(*, user: User, patient: Patient | None = None) -> QuerySet[AuditEvent]:
    events = AuditEvent.objects.filter(clinic_id=clinic_id_of(user)).select_related("user")
    if patient is not None:
        events = events.filter(patient=patient)
    return events


def audit_changes_by_others(
    *, obj: models.Model, patient: Patient, author_id: int
) -> list[AuditEvent]:
    """The changes made to `obj` (one of `patient`'s records) by anyone but its author,
    oldest first: what the author should see before signing a draft someone else edited.
    Filtered by the patient first, so the (clinic, patient, at) index finds them."""
    return list(
        AuditEvent.objects.filter(
            clinic_id=patient.clinic_id,
            patient=patient,
            object_type=obj._meta.model_name,
            object_id=str(obj.pk),
            action__in=(AuditAction.CREATE, AuditAction.UPDATE),
        )
        .exclude(user_id=author_id)
        .select_related("user")
        .order_by("at", "id")
    )

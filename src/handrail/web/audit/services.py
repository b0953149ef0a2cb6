"""Writing audit events. Called by the other apps' services (changes) and views (views)."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db import models

from handrail.web.audit.models import AuditAction, AuditEvent
from handrail.web.clinic.models import Patient, User


def audit_record(
    *,
    user: User,
    action: AuditAction | str,
    obj: models.Model,
    patient: Patient | None,
    detail: str = "",
) -> AuditEvent:
    """Append one event. The clinic is the user's (superusers: the patient's)."""
    clinic_id = user.clinic_id
    if clinic_id is None and patient is not None:
        clinic_id = patient.clinic_id
    if clinic_id is None:
        raise PermissionDenied("Your account belongs to no clinic.")
    return AuditEvent.objects.create(
        clinic_id=clinic_id,
        user=user,
        action=str(action),
        object_type=obj._meta.model_name or type(obj).__name__.lower(),
        object_id=str(obj.pk),
        patient=patient,
        detail=detail[:300],
    )

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


def audit_shown(value: object) -> str:
    """A value as the audit shows it: empty as "(none)", booleans as yes/no."""
    if value is None or value == "":
        return "(none)"
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def audit_change(name: str, old: object, new: object, *, text: bool = False) -> str:
    """One changed field for an event's detail: "name old -> new", or for free text (a
    note's narrative or a line's task) only its length before and after, since the whole
    texts would not fit the detail and the note itself keeps the new one."""
    if text:
        return f"{name} ({len(str(old))} -> {len(str(new))} chars)"
    return f"{name} {audit_shown(old)} -> {audit_shown(new)}"

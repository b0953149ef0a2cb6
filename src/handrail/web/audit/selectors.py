"""Reading the audit log, always within one clinic."""

from __future__ import annotations

from django.db.models import QuerySet

from handrail.web.audit.models import AuditEvent
from handrail.web.clinic.models import Patient, User
from handrail.web.clinic.permissions import clinic_id_of


def audit_event_list(*, user: User, patient: Patient | None = None) -> QuerySet[AuditEvent]:
    events = AuditEvent.objects.filter(clinic_id=clinic_id_of(user)).select_related("user")
    if patient is not None:
        events = events.filter(patient=patient)
    return events

"""Who may do what. One place, so views, the API and services ask the same questions.

Role rules (issue #3): a biller cannot sign notes; front desk sees no clinical notes; an
assistant cannot establish or certify a plan of care; only clinicians document visits; only
a clinic admin manages staff and payers (and never signs).
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied

from handrail.web.clinic.models import Role, User

CLINICAL_READERS = (Role.ADMIN, Role.THERAPIST, Role.ASSISTANT, Role.BILLER)
PATIENT_EDITORS = (Role.ADMIN, Role.THERAPIST, Role.FRONT_DESK)


def can_view_clinical(user: User) -> bool:
    """Plans of care, visits and notes. Front desk sees demographics and coverage only."""
    return user.role in CLINICAL_READERS


def can_edit_patient(user: User) -> bool:
    return user.role in PATIENT_EDITORS


def can_document(user: User) -> bool:
    """Write visit notes: therapists and assistants."""
    return user.role in (Role.THERAPIST, Role.ASSISTANT)


def can_manage_plan(user: User) -> bool:
    """Establish or certify a plan of care: therapists only (never an assistant)."""
    return user.role == Role.THERAPIST


def can_sign(user: User) -> bool:
    """Sign notes: the clinicians who write them. Billers, front desk and admins never."""
    return user.role in (Role.THERAPIST, Role.ASSISTANT)


def can_administer(user: User) -> bool:
    """Manage the clinic's staff and payers: active clinic admins only."""
    return user.role == Role.ADMIN and user.is_active and user.clinic_id is not None


def require(allowed: bool, message: str) -> None:
    if not allowed:
        raise PermissionDenied(message)


def clinic_id_of(user: User) -> int:
    """The user's clinic id; users without a clinic (a bare superuser) see nothing."""
    if user.clinic_id is None:
        raise PermissionDenied("Your account belongs to no clinic.")
    return user.clinic_id

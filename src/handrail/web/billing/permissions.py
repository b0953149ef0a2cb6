"""Who works with claims: billers and clinic admins (issue 9). Therapists see a claim's
state on their note, nothing more."""

from __future__ import annotations

from handrail.web.clinic.models import Role, User

BILLING_ROLES = (Role.BILLER, Role.ADMIN)


def can_bill(user: User) -> bool:
    return user.role in BILLING_ROLES and user.is_active and user.clinic_id is not None

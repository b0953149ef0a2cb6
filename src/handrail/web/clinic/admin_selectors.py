"""Reads of the clinic admin pages, scoped to the admin's clinic (another clinic's user or
payer is a 404, as everywhere else)."""

from __future__ import annotations

from datetime import datetime

from django.db.models import Count, QuerySet
from django.http import Http404

from handrail.web.audit.models import AuditEvent
from handrail.web.clinic.admin_services import NOT_ADMIN
from handrail.web.clinic.models import Payer, User
from handrail.web.clinic.permissions import can_administer, clinic_id_of, require
from handrail.web.clinic.throttle import sign_in_locked_until


def staff_list(*, user: User) -> QuerySet[User]:
    """Everyone of the admin's clinic, active first, then by name."""
    require(can_administer(user), NOT_ADMIN)
    return User.objects.filter(clinic_id=clinic_id_of(user)).order_by(
        "-is_active", "last_name", "first_name", "username"
    )


def staff_get(*, user: User, staff_id: int) -> User:
    require(can_administer(user), NOT_ADMIN)
    staff = User.objects.filter(clinic_id=clinic_id_of(user), pk=staff_id).first()
    if staff is None:
        raise Http404("No such user.")
    return staff


def payer_admin_list(*, user: User) -> QuerySet[Payer]:
    """The clinic's payers with how many coverages and authorizations name each."""
    require(can_administer(user), NOT_ADMIN)
    return (
        Payer.objects.filter(clinic_id=clinic_id_of(user))
        .annotate(
            coverage_count=Count("coverages", distinct=True),
            authorization_count=Count("authorizations", distinct=True),
        )
        .order_by("name")
    )


def payer_admin_get(*, user: User, payer_id: int) -> Payer:
    require(can_administer(user), NOT_ADMIN)
    payer = Payer.objects.filter(clinic_id=clinic_id_of(user), pk=payer_id).first()
    if payer is None:
        raise Http404("No such payer.")
    return payer


def admin_event_list(*, user: User, object_type: str, object_id: int) -> QuerySet[AuditEvent]:
    """The audit trail of one staff account ("user") or payer ("payer")."""
    require(can_administer(user), NOT_ADMIN)
    return AuditEvent.objects.filter(
        clinic_id=clinic_id_of(user),
        patient__isnull=True,
        object_type=object_type,
        object_id=str(object_id),
    ).select_related("user")


def staff_sign_in_locked_until(*, user: User, staff: User) -> datetime | None:
    """When the colleague's sign-in lock ends, or None when they are not locked out."""
    require(can_administer(user), NOT_ADMIN)
    return sign_in_locked_until(username=staff.username)

"""Writes of a user's own account: their password (and, in `two_factor`, their second
factor). Same conventions as `services.py`: keyword-only, one transaction, ValidationError
keyed by field name, and every change written to the audit log."""

from __future__ import annotations

from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError
from django.db import transaction

from handrail.web.audit.models import AuditAction
from handrail.web.audit.services import audit_record
from handrail.web.clinic.models import User


def password_check(*, user: User, password: str, field: str = "password") -> None:
    """The project's AUTH_PASSWORD_VALIDATORS against `user`, as errors on `field`."""
    try:
        password_validation.validate_password(password, user=user)
    except ValidationError as exc:
        raise ValidationError({field: exc.messages}) from None


@transaction.atomic
def account_password_change(*, user: User, password: str) -> User:
    """The user replaces their own password (the caller has checked the current one). Any
    admin-set password is gone, so the must-change mark is cleared. Django's session hash
    is derived from the password hash, so every other session of the user ends; the
    caller keeps its own with `update_session_auth_hash`."""
    locked = User.objects.select_for_update().get(pk=user.pk)
    password_check(user=locked, password=password, field="new_password1")
    if locked.check_password(password):
        raise ValidationError({"new_password1": "Choose a password you have not used here."})
    locked.set_password(password)
    locked.must_change_password = False
    # The whole row: it was just read under the lock, so nothing stale is written back.
    locked.save()
    if locked.clinic_id is not None:  # a bare superuser has no clinic's audit log
        audit_record(
            user=locked,
            action=AuditAction.UPDATE,
            obj=locked,
            patient=None,
            detail=f"{locked.username}: changed their own password",
        )
    user.password, user.must_change_password = locked.password, False
    return user

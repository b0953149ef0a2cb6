"""Writes of the clinic admin pages: staff accounts and payers.

Same conventions as `services.py` (keyword-only, one transaction, `full_clean()` before
`save()`, ValidationError keyed by field name, PermissionDenied for a role that may not act),
and every change is written to the audit log (an event without a patient).

Staff accounts are never deleted: notes, plans and timer segments name their signers and
clinicians (PROTECT foreign keys), so an account that leaves is deactivated. A clinic always
keeps one active admin: an admin cannot deactivate or demote themself, and the active admins
are locked (SELECT ... FOR UPDATE) while one admin changes another, so two admins demoting
each other at the same moment cannot leave the clinic with none.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q

from handrail.web.audit.models import AuditAction
from handrail.web.audit.services import audit_record
from handrail.web.care.models import Authorization, PlanOfCare
from handrail.web.clinic.account_services import password_check
from handrail.web.clinic.models import Coverage, Discipline, Payer, Role, User
from handrail.web.clinic.permissions import can_administer, clinic_id_of, require
from handrail.web.clinic.throttle import sign_in_lock_clear
from handrail.web.visits.models import Visit

STAFF_FIELDS = ("first_name", "last_name", "email", "role", "discipline", "npi")
PAYER_FIELDS = (
    "name",
    "type",
    "unit_rule",
    "distinct_modifier",
    "requires_authorization",
    "telehealth_allowed",
    "assistant_cosign_required",
)
CLINICIAN_ROLES = (Role.THERAPIST, Role.ASSISTANT)
NOT_ADMIN = "Only a clinic admin can manage staff and payers."


def _changes(names: list[str]) -> str:
    return "changed " + ", ".join(names) if names else "no change"


def _lock_active_admins(user: User) -> set[int]:
    """The clinic's active admins, locked for this transaction; the acting user among them."""
    require(can_administer(user), NOT_ADMIN)
    ids = set(
        User.objects.select_for_update()
        .filter(clinic_id=clinic_id_of(user), role=Role.ADMIN, is_active=True)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    require(user.pk in ids, NOT_ADMIN)
    return ids


def _require_same_clinic(user: User, staff: User) -> None:
    if staff.clinic_id is None or staff.clinic_id != user.clinic_id:
        raise ValidationError({"user": "No such user in your clinic."})


def _check_discipline(role: str, discipline: str) -> None:
    # The model's check constraint (user_clinician_has_discipline), said next to the field.
    if role in CLINICIAN_ROLES and not discipline:
        raise ValidationError({"discipline": "Therapists and assistants need a discipline."})
    if role not in CLINICIAN_ROLES and discipline:
        raise ValidationError({"discipline": "Only therapists and assistants have a discipline."})
    if discipline and discipline not in Discipline.values:
        raise ValidationError({"discipline": f"Pick one of {', '.join(Discipline.values)}."})


def npi_is_valid(npi: str) -> bool:
    """NPI check digit: the Luhn formula over the 9 leading digits with the prefix 80840
    (CMS, "Requirements for National Provider Identifier (NPI) and NPI Enumeration", check
    digit calculation; 45 CFR 162.406)."""
    if len(npi) != 10 or not npi.isdigit():
        return False
    digits = [int(d) for d in "80840" + npi[:9]]
    total = 0
    for position, digit in enumerate(reversed(digits)):
        if position % 2 == 0:  # every other digit from the right, starting with the last
            digit *= 2
            digit = digit - 9 if digit > 9 else digit
        total += digit
    return (10 - total % 10) % 10 == int(npi[9])


def _check_npi(npi: str) -> None:
    if not npi:
        return
    if len(npi) != 10 or not npi.isdigit():
        raise ValidationError({"npi": "An NPI is 10 digits (leave it empty if there is none)."})
    if not npi_is_valid(npi):
        raise ValidationError({"npi": "This NPI fails its check digit; look for a typo."})


def _staff_clean(fields: dict[str, Any]) -> dict[str, Any]:
    unknown = set(fields) - set(STAFF_FIELDS)
    if unknown:
        raise ValidationError(dict.fromkeys(sorted(unknown), "Unknown user field."))
    out = {k: v.strip() if isinstance(v, str) else v for k, v in fields.items()}
    if "role" in out and out["role"] not in Role.values:
        raise ValidationError({"role": f"Pick one of {', '.join(Role.values)}."})
    return out


def _has_clinical_records(staff: User) -> bool:
    """Notes or plans that show this user's credential (PT, PTA, ...) as clinician, signer,
    co-signer or the plan's author."""
    visits = Visit.objects.filter(
        Q(clinician=staff) | Q(signed_by=staff) | Q(cosigned_by=staff)
    ).exists()
    return visits or PlanOfCare.objects.filter(established_by=staff).exists()


@transaction.atomic
def staff_create(
    *,
    user: User,
    username: str,
    password: str,
    role: str,
    first_name: str = "",
    last_name: str = "",
    email: str = "",
    discipline: str = "",
    npi: str = "",
) -> User:
    """A clinic admin adds an account to their clinic with an initial password, checked by
    the project's AUTH_PASSWORD_VALIDATORS (hashed with the first PASSWORD_HASHERS entry:
    argon2 in production). The admin knows that password, so the new user must change it
    at their first sign-in (`must_change_password`)."""
    _lock_active_admins(user)
    data = _staff_clean(
        {
            "first_name": first_name,
            "last_name": last_name,
            "email": email,
            "role": role,
            "discipline": discipline,
            "npi": npi,
        }
    )
    _check_discipline(data["role"], data["discipline"])
    _check_npi(data["npi"])
    staff = User(clinic_id=clinic_id_of(user), username=username.strip(), **data)
    staff.full_clean(exclude=["password"])
    # After full_clean, so the similarity validator compares with the cleaned names.
    password_check(user=staff, password=password)
    staff.set_password(password)
    staff.must_change_password = True
    staff.save()
    audit_record(
        user=user,
        action=AuditAction.CREATE,
        obj=staff,
        patient=None,
        detail=f"added user {staff.username} as {staff.get_role_display()}"
        + (f" ({staff.discipline})" if staff.discipline else ""),
    )
    return staff


@transaction.atomic
def staff_update(*, user: User, staff: User, **fields: Any) -> User:
    """Change a colleague's name, e-mail, role, discipline or NPI (see `STAFF_FIELDS`).

    Refused: changing your own role (ask another admin; you would lock yourself out),
    leaving the clinic without an active admin, and changing the role or discipline of a
    clinician whose notes or plans already carry their credential (their signatures would
    change after the fact: add a new account for the new role and deactivate this one)."""
    admins = _lock_active_admins(user)
    _require_same_clinic(user, staff)
    data = _staff_clean(fields)
    role = data.get("role", staff.role)
    discipline = data.get("discipline", staff.discipline)
    if role != staff.role and staff.pk == user.pk:
        raise ValidationError({"role": "You cannot change your own role; ask another admin."})
    if staff.role == Role.ADMIN and role != Role.ADMIN and admins <= {staff.pk}:
        raise ValidationError({"role": "The clinic needs at least one active admin."})
    _check_discipline(role, discipline)
    _check_npi(data.get("npi", staff.npi))
    credential_changes = (role, discipline) != (staff.role, staff.discipline)
    if credential_changes and staff.role in CLINICIAN_ROLES and _has_clinical_records(staff):
        raise ValidationError(
            {
                "role": f"{staff} has signed or written notes or plans with this credential; "
                "add a new account for the new role or discipline and deactivate this one."
            }
        )
    changed = [name for name, value in data.items() if getattr(staff, name) != value]
    for name, value in data.items():
        setattr(staff, name, value)
    staff.full_clean(exclude=["password"])
    staff.save()
    audit_record(
        user=user,
        action=AuditAction.UPDATE,
        obj=staff,
        patient=None,
        detail=f"{staff.username}: {_changes(changed)}",
    )
    return staff


@transaction.atomic
def staff_set_active(*, user: User, staff: User, active: bool) -> User:
    """Deactivate (the account can no longer sign in, its sessions end) or reactivate."""
    admins = _lock_active_admins(user)
    _require_same_clinic(user, staff)
    if not active and staff.pk == user.pk:
        raise ValidationError({"user": "You cannot deactivate your own account."})
    if not active and staff.role == Role.ADMIN and admins <= {staff.pk}:
        raise ValidationError({"user": "The clinic needs at least one active admin."})
    if staff.is_active == active:
        return staff
    staff.is_active = active
    staff.save(update_fields=["is_active"])
    audit_record(
        user=user,
        action=AuditAction.UPDATE,
        obj=staff,
        patient=None,
        detail=f"{staff.username}: {'reactivated' if active else 'deactivated'}",
    )
    return staff


@transaction.atomic
def staff_password_set(*, user: User, staff: User, password: str) -> User:
    """A clinic admin sets a colleague's password (a forgotten one): checked by the
    validators, to be changed at their next sign-in, audited. Their sessions end (Django's
    session hash follows the password). Your own password is changed on your account page,
    with the current one."""
    require(can_administer(user), NOT_ADMIN)
    _require_same_clinic(user, staff)
    if staff.pk == user.pk:
        raise ValidationError(
            {
                "password": "Change your own password on your account page "
                "(it asks for the current one)."
            }
        )
    locked = User.objects.select_for_update().get(pk=staff.pk)
    password_check(user=locked, password=password)
    locked.set_password(password)
    locked.must_change_password = True
    # The whole row: it was just read under the lock, so nothing stale is written back.
    locked.save()
    audit_record(
        user=user,
        action=AuditAction.UPDATE,
        obj=locked,
        patient=None,
        detail=f"{locked.username}: password set by an admin, to be changed at sign-in",
    )
    return locked


@transaction.atomic
def staff_sign_in_unlock(*, user: User, staff: User) -> bool:
    """Lift a colleague's sign-in lock (after too many failed sign-ins) once the admin knows
    it was them; audited. False when there was nothing to lift."""
    require(can_administer(user), NOT_ADMIN)
    _require_same_clinic(user, staff)
    if not sign_in_lock_clear(username=staff.username):
        return False
    audit_record(
        user=user,
        action=AuditAction.UPDATE,
        obj=staff,
        patient=None,
        detail=f"{staff.username}: sign-in lock lifted",
    )
    return True


def _payer_clean(user: User, fields: dict[str, Any], payer: Payer | None) -> dict[str, Any]:
    unknown = set(fields) - set(PAYER_FIELDS)
    if unknown:
        raise ValidationError(dict.fromkeys(sorted(unknown), "Unknown payer field."))
    out = {k: v.strip() if isinstance(v, str) else v for k, v in fields.items()}
    if "name" in out:
        # Case-insensitive, so "Medicare" and "medicare" are not two payers on one list
        # (the database's payer_unique_name constraint is case-sensitive).
        same = Payer.objects.filter(clinic_id=clinic_id_of(user), name__iexact=out["name"])
        if payer is not None:
            same = same.exclude(pk=payer.pk)
        if same.exists():
            message = f"Your clinic already has a payer named {out['name']}."
            raise ValidationError({"name": message})
    return out


@transaction.atomic
def payer_add(*, user: User, name: str, type: str, **rules: Any) -> Payer:
    """A clinic admin adds a payer. `rules`: the other `PAYER_FIELDS`."""
    require(can_administer(user), NOT_ADMIN)
    data = _payer_clean(user, {"name": name, "type": type, **rules}, None)
    payer = Payer(clinic_id=clinic_id_of(user), **data)
    payer.full_clean()
    payer.save()
    audit_record(user=user, action=AuditAction.CREATE, obj=payer, patient=None, detail=payer.name)
    return payer


@transaction.atomic
def payer_update(*, user: User, payer: Payer, **fields: Any) -> Payer:
    """Change a payer's name, type or billing rules; signed notes keep the evaluation they
    were signed with, drafts are evaluated with the new rules."""
    require(can_administer(user), NOT_ADMIN)
    if payer.clinic_id != user.clinic_id:
        raise ValidationError({"payer": "No such payer in your clinic."})
    data = _payer_clean(user, fields, payer)
    changed = [name for name, value in data.items() if getattr(payer, name) != value]
    for name, value in data.items():
        setattr(payer, name, value)
    payer.full_clean()
    payer.save()
    audit_record(
        user=user,
        action=AuditAction.UPDATE,
        obj=payer,
        patient=None,
        detail=f"{payer.name}: {_changes(changed)}",
    )
    return payer


@transaction.atomic
def payer_delete(*, user: User, payer: Payer) -> None:
    """Delete a payer nobody references. Payers named by a patient's coverage or by an
    authorization are refused (the model has no "inactive" payer state)."""
    require(can_administer(user), NOT_ADMIN)
    if payer.clinic_id != user.clinic_id:
        raise ValidationError({"payer": "No such payer in your clinic."})
    coverages = Coverage.objects.filter(payer=payer).count()
    authorizations = Authorization.objects.filter(payer=payer).count()
    if coverages or authorizations:
        uses = []
        if coverages:
            uses.append(f"{coverages} patient coverage{'s' if coverages != 1 else ''}")
        if authorizations:
            uses.append(f"{authorizations} authorization{'s' if authorizations != 1 else ''}")
        raise ValidationError(
            {
                "payer": f"{payer.name} cannot be deleted: {' and '.join(uses)} "
                f"{'refers' if coverages + authorizations == 1 else 'refer'} "
                "to it. Move those patients to another payer first."
            }
        )
    audit_record(user=user, action=AuditAction.DELETE, obj=payer, patient=None, detail=payer.name)
    payer.delete()

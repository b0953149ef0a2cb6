"""Writes for clinics, users, payers, patients and coverages.

Conventions (style.md §7): `<entity>_<action>`, keyword-only arguments, one transaction,
`full_clean()` before `save()`, and an audit event for every change to a patient record.
Bad input raises `django.core.exceptions.ValidationError` keyed by field name; a role that
may not act raises `PermissionDenied`.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from handrail.web.audit.models import AuditAction
from handrail.web.audit.services import audit_record
from handrail.web.clinic.models import Clinic, Coverage, Patient, Payer, Role, User
from handrail.web.clinic.permissions import can_edit_patient, clinic_id_of, require

PATIENT_FIELDS = (
    "first_name",
    "last_name",
    "birth_date",
    "sex",
    "phone",
    "email",
    "address",
    "city",
    "state",
    "zip",
)


def _check_birth_date(birth_date: date) -> None:
    if birth_date > timezone.localdate():
        raise ValidationError({"birth_date": "The birth date is in the future."})


@transaction.atomic
def patient_create(
    *, user: User, first_name: str, last_name: str, birth_date: date, **fields: Any
) -> Patient:
    """Create a patient in the user's clinic. Other fields: see `PATIENT_FIELDS`."""
    require(can_edit_patient(user), "Your role cannot add patients.")
    unknown = set(fields) - set(PATIENT_FIELDS)
    if unknown:
        raise ValidationError(dict.fromkeys(sorted(unknown), "Unknown patient field."))
    patient = Patient(
        clinic_id=clinic_id_of(user),
        first_name=first_name.strip(),
        last_name=last_name.strip(),
        birth_date=birth_date,
        **fields,
    )
    patient.full_clean()
    _check_birth_date(patient.birth_date)
    patient.save()
    audit_record(user=user, action=AuditAction.CREATE, obj=patient, patient=patient)
    return patient


@transaction.atomic
def patient_update(*, user: User, patient: Patient, **fields: Any) -> Patient:
    """Change the given demographic fields; records which fields changed in the audit log."""
    require(can_edit_patient(user), "Your role cannot change patients.")
    unknown = set(fields) - set(PATIENT_FIELDS)
    if unknown:
        raise ValidationError(dict.fromkeys(sorted(unknown), "Unknown patient field."))
    changed = [name for name, value in fields.items() if getattr(patient, name) != value]
    for name, value in fields.items():
        setattr(patient, name, value.strip() if isinstance(value, str) else value)
    patient.full_clean()
    _check_birth_date(patient.birth_date)
    patient.save()
    audit_record(
        user=user,
        action=AuditAction.UPDATE,
        obj=patient,
        patient=patient,
        detail="changed " + ", ".join(changed) if changed else "no change",
    )
    return patient


@transaction.atomic
def coverage_set(
    *,
    user: User,
    patient: Patient,
    payer: Payer,
    member_id: str,
    order: int = 1,
    start_date: date | None = None,
    end_date: date | None = None,
) -> Coverage:
    """Create or replace the patient's primary (1) or secondary (2) coverage."""
    require(can_edit_patient(user), "Your role cannot change coverage.")
    if payer.clinic_id != patient.clinic_id:
        raise ValidationError({"payer": "Pick one of your clinic's payers."})
    coverage = Coverage.objects.filter(patient=patient, order=order).first() or Coverage(
        patient=patient, order=order
    )
    coverage.payer = payer
    coverage.member_id = member_id.strip()
    coverage.start_date = start_date
    coverage.end_date = end_date
    action = AuditAction.UPDATE if coverage.pk else AuditAction.CREATE
    coverage.full_clean()
    coverage.save()
    audit_record(user=user, action=action, obj=coverage, patient=patient)
    return coverage


@transaction.atomic
def clinic_create(*, name: str, zip: str, npi: str = "") -> Clinic:
    clinic = Clinic(name=name, zip=zip, npi=npi)
    clinic.full_clean()
    clinic.save()
    return clinic


@transaction.atomic
def user_create(
    *,
    clinic: Clinic,
    username: str,
    password: str,
    role: Role | str,
    first_name: str = "",
    last_name: str = "",
    discipline: str = "",
    npi: str = "",
    email: str = "",
) -> User:
    """Create a clinic user. Therapists and assistants need a discipline; others have none."""
    if role in (Role.THERAPIST, Role.ASSISTANT) and not discipline:
        raise ValidationError({"discipline": "Therapists and assistants need a discipline."})
    if role not in (Role.THERAPIST, Role.ASSISTANT) and discipline:
        raise ValidationError({"discipline": "Only therapists and assistants have a discipline."})
    user = User(
        clinic=clinic,
        username=username,
        role=str(role),
        first_name=first_name,
        last_name=last_name,
        discipline=discipline,
        npi=npi,
        email=email,
    )
    user.set_password(password)
    user.full_clean()
    user.save()
    return user


@transaction.atomic
def payer_create(*, clinic: Clinic, name: str, type: str, **rules: Any) -> Payer:
    """Create a payer. `rules`: unit_rule, requires_authorization, telehealth_allowed,
    distinct_modifier, assistant_cosign_required."""
    payer = Payer(clinic=clinic, name=name, type=type, **rules)
    payer.full_clean()
    payer.save()
    return payer

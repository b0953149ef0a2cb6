"""Writes for clinics, users, payers, patients and coverages.

Conventions (style.md §7): `<entity>_<action>`, keyword-only arguments, one transaction,
`full_clean()` before `save()`, and an audit event for every change to a patient record.
Bad input raises `django.core.exceptions.ValidationError` keyed by field name; a role that
may not act raises `PermissionDenied`.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from handrail.web.audit.models import AuditAction
from handrail.web.audit.services import audit_change, audit_record
from handrail.web.clinic.models import (
    Clinic,
    Coverage,
    Patient,
    Payer,
    Relationship,
    Role,
    User,
)
from handrail.web.clinic.permissions import can_edit_patient, clinic_id_of, require
from handrail.web.dates import EARLIEST, check_window

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


# USPS two-letter codes: the states, DC, the territories (AS, GU, MP, PR, VI, and the freely
# associated FM, MH, PW) and the armed forces' AA, AE, AP (USPS Publication 28, appendix B).
_STATE_CODES = (
    "AL AK AZ AR CA CO CT DE DC FL GA HI ID IL IN IA KS KY LA ME MD MA MI MN MS MO MT NE NV "
    "NH NJ NM NY NC ND OH OK OR PA RI SC SD TN TX UT VT VA WA WV WI WY "
    "AS GU MP PR VI FM MH PW AA AE AP"
)
US_STATES = frozenset(_STATE_CODES.split())
ZIP_SHAPE = re.compile(r"\d{5}(-\d{4})?")
# North American Numbering Plan: a 3-digit area code and a 3-digit exchange, each starting
# 2-9, then 4 digits; an optional leading country code 1.
PHONE_SHAPE = re.compile(r"1?([2-9]\d{2})([2-9]\d{2})(\d{4})")
PHONE_EXTRA = re.compile(r"[\s().+\-]")


def _clean_contact(fields: dict[str, Any]) -> None:
    """Normalise and check ZIP, state and phone in place (each optional); a bad one raises
    a ValidationError naming the field and the expected shape."""
    errors: dict[str, str] = {}
    if isinstance(fields.get("zip"), str):
        fields["zip"] = fields["zip"].strip()
        if fields["zip"] and not ZIP_SHAPE.fullmatch(fields["zip"]):
            errors["zip"] = (
                f"{fields['zip']!r} is not a ZIP code; give 5 digits or ZIP+4, "
                "e.g. 62701 or 62701-1234."
            )
    if isinstance(fields.get("state"), str):
        fields["state"] = fields["state"].strip().upper()
        if fields["state"] and fields["state"] not in US_STATES:
            errors["state"] = (
                f"{fields['state']!r} is not a US state code; use the two-letter postal "
                "code, e.g. IL."
            )
    if isinstance(fields.get("phone"), str):
        raw = fields["phone"].strip()
        digits = PHONE_EXTRA.sub("", raw)
        match = PHONE_SHAPE.fullmatch(digits)
        if raw and match is None:
            errors["phone"] = (
                f"{raw!r} is not a US phone number; give the area code and number, "
                "e.g. 217-555-0142."
            )
        fields["phone"] = "-".join(match.groups()) if match else raw
    if errors:
        raise ValidationError(errors)


def _check_birth_date(birth_date: date) -> None:
    if birth_date > timezone.localdate():
        raise ValidationError({"birth_date": "The birth date is in the future."})
    check_window("birth_date", birth_date, earliest=EARLIEST, latest=date.max)


def patient_duplicates(
    *,
    user: User,
    first_name: str,
    last_name: str,
    birth_date: date,
    exclude: Patient | None = None,
) -> list[Patient]:
    """Patients of the user's clinic with the same name (ignoring case and spaces around it)
    and birth date: likely the same person entered twice."""
    patients = Patient.objects.filter(
        clinic_id=clinic_id_of(user),
        first_name__iexact=first_name.strip(),
        last_name__iexact=last_name.strip(),
        birth_date=birth_date,
    )
    if exclude is not None:
        patients = patients.exclude(pk=exclude.pk)
    return list(patients.order_by("id"))


class DuplicatePatientError(ValidationError):
    """A likely duplicate exists and the user has not confirmed saving anyway."""

    def __init__(self, duplicates: list[Patient]) -> None:
        first = duplicates[0]
        super().__init__(
            {
                "__all__": f"{first.full_name}, born {first.birth_date.isoformat()}, is already "
                "a patient of your clinic; open that record, or save anyway if this is "
                "another person."
            },
            code="duplicate",
        )
        self.duplicates = duplicates


@transaction.atomic
def patient_create(
    *,
    user: User,
    first_name: str,
    last_name: str,
    birth_date: date,
    allow_duplicate: bool = False,
    **fields: Any,
) -> Patient:
    """Create a patient in the user's clinic. Other fields: see `PATIENT_FIELDS`.

    A patient of the same name and birth date raises DuplicatePatientError unless
    `allow_duplicate` (the user has seen the existing record and saves anyway)."""
    require(can_edit_patient(user), "Your role cannot add patients.")
    unknown = set(fields) - set(PATIENT_FIELDS)
    if unknown:
        raise ValidationError(dict.fromkeys(sorted(unknown), "Unknown patient field."))
    _clean_contact(fields)
    patient = Patient(
        clinic_id=clinic_id_of(user),
        first_name=first_name.strip(),
        last_name=last_name.strip(),
        birth_date=birth_date,
        **fields,
    )
    patient.full_clean()
    _check_birth_date(patient.birth_date)
    if not allow_duplicate:
        duplicates = patient_duplicates(
            user=user, first_name=first_name, last_name=last_name, birth_date=birth_date
        )
        if duplicates:
            raise DuplicatePatientError(duplicates)
    patient.save()
    audit_record(user=user, action=AuditAction.CREATE, obj=patient, patient=patient)
    return patient


@transaction.atomic
def patient_update(
    *, user: User, patient: Patient, allow_duplicate: bool = False, **fields: Any
) -> Patient:
    """Change the given demographic fields; records which fields changed in the audit log.
    A change that makes the patient look like another one (same name and birth date) raises
    DuplicatePatientError unless `allow_duplicate`."""
    require(can_edit_patient(user), "Your role cannot change patients.")
    unknown = set(fields) - set(PATIENT_FIELDS)
    if unknown:
        raise ValidationError(dict.fromkeys(sorted(unknown), "Unknown patient field."))
    fields = {
        name: value.strip() if isinstance(value, str) else value for name, value in fields.items()
    }
    _clean_contact(fields)
    changed = [name for name, value in fields.items() if getattr(patient, name) != value]
    if not changed:  # a save of the unchanged form writes and audits nothing
        return patient
    for name, value in fields.items():
        setattr(patient, name, value)
    patient.full_clean()
    _check_birth_date(patient.birth_date)
    identity = {"first_name", "last_name", "birth_date"}
    if not allow_duplicate and identity & set(changed):
        duplicates = patient_duplicates(
            user=user,
            first_name=patient.first_name,
            last_name=patient.last_name,
            birth_date=patient.birth_date,
            exclude=patient,
        )
        if duplicates:
            raise DuplicatePatientError(duplicates)
    patient.save()
    audit_record(
        user=user,
        action=AuditAction.UPDATE,
        obj=patient,
        patient=patient,
        detail="changed " + ", ".join(changed),
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
    relationship: str = Relationship.SELF,
    subscriber_first_name: str = "",
    subscriber_last_name: str = "",
    subscriber_birth_date: date | None = None,
    subscriber_sex: str = "",
) -> Coverage:
    """Create or replace the patient's primary (1) or secondary (2) coverage. When the
    patient is not the insured (`relationship` spouse, child or other: the 837P's loop
    2000C) the insured's name, birth date and sex are required; for self they are cleared."""
    require(can_edit_patient(user), "Your role cannot change coverage.")
    if payer.clinic_id != patient.clinic_id:
        raise ValidationError({"payer": "Pick one of your clinic's payers."})
    if relationship not in Relationship.values:
        known = ", ".join(f"{r.value} ({r.label.lower()})" for r in Relationship)
        raise ValidationError(
            {"relationship": f"Unknown relationship {relationship!r}: use one of {known}."}
        )
    if relationship == Relationship.SELF:
        subscriber_first_name = subscriber_last_name = subscriber_sex = ""
        subscriber_birth_date = None
    coverage = Coverage.objects.filter(patient=patient, order=order).first() or Coverage(
        patient=patient, order=order
    )
    fields = {
        "payer": payer,
        "member_id": member_id.strip(),
        "start_date": start_date,
        "end_date": end_date,
        "relationship": relationship,
        "subscriber_first_name": subscriber_first_name.strip(),
        "subscriber_last_name": subscriber_last_name.strip(),
        "subscriber_birth_date": subscriber_birth_date,
        "subscriber_sex": subscriber_sex,
    }
    stored = coverage.pk is not None
    changes = [
        audit_change(name, getattr(coverage, name) if stored else None, value)
        for name, value in fields.items()
        if (getattr(coverage, name) != value if stored else value not in (None, ""))
    ]
    if not changes:  # the same coverage saved again: nothing written, nothing audited
        return coverage
    for name, value in fields.items():
        setattr(coverage, name, value)
    coverage.full_clean()
    coverage.save()
    action = AuditAction.UPDATE if stored else AuditAction.CREATE
    audit_record(
        user=user, action=action, obj=coverage, patient=patient, detail="; ".join(changes)
    )
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

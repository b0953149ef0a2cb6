"""Reads for patients and payers, always scoped to the signed-in user's clinic.

A record of another clinic is "not found" (404), never "forbidden": we do not even confirm
it exists.
"""

from __future__ import annotations

from django.db.models import Q, QuerySet
from django.http import Http404

from handrail.web.clinic.models import Coverage, Patient, Payer, User
from handrail.web.clinic.permissions import clinic_id_of


def patient_list(*, user: User, query: str = "") -> QuerySet[Patient]:
    patients = Patient.objects.filter(clinic_id=clinic_id_of(user))
    for word in query.split():
        patients = patients.filter(
            Q(first_name__icontains=word) | Q(last_name__icontains=word) | Q(phone__icontains=word)
        )
    return patients


def patient_get(*, user: User, patient_id: int) -> Patient:
    """The patient if it belongs to the user's clinic; Http404 otherwise."""
    patient = Patient.objects.filter(clinic_id=clinic_id_of(user), pk=patient_id).first()
    if patient is None:
        raise Http404("No such patient.")
    return patient


def payer_list(*, user: User) -> QuerySet[Payer]:
    return Payer.objects.filter(clinic_id=clinic_id_of(user)).order_by("name")


def payer_get(*, user: User, payer_id: int) -> Payer:
    payer = Payer.objects.filter(clinic_id=clinic_id_of(user), pk=payer_id).first()
    if payer is None:
        raise Http404("No such payer.")
    return payer


def coverage_list(*, patient: Patient) -> QuerySet[Coverage]:
    return patient.coverages.select_related("payer").order_by("order")


def coverage_primary(*, patient: Patient) -> Coverage | None:
    return patient.coverages.select_related("payer").filter(order=1).first()

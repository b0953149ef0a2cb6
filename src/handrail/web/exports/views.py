"""Export pages (billers and clinic admins; 403 for other roles, 404 for another clinic's
patient): the CSV exports of claims, payments and adjustments with their filters, and a
patient's record as FHIR R4. Each download is a read of patient data, audited by
`audit_read` (one VIEW event naming the export and its filters, or the patient)."""

from __future__ import annotations

import csv
import json
from collections.abc import Callable, Iterable, Iterator
from datetime import date

from django import forms
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from handrail.web.audit.reads import audit_read
from handrail.web.billing.models import ClaimState
from handrail.web.billing.permissions import can_bill
from handrail.web.clinic.models import Payer, User
from handrail.web.clinic.permissions import clinic_id_of, require
from handrail.web.clinic.selectors import patient_get
from handrail.web.clinic.views import current_user
from handrail.web.exports import csvs
from handrail.web.exports.records import FhirExportError, patient_fhir

NOT_BILLER = "Only billers and clinic admins export billing data."
FILTER_FIELDS = ("from", "to", "payer", "state")


class FilterForm(forms.Form):
    """The exports' filters: a date range (`from`, `to`: a keyword in Python, so the fields
    are added by name), the payer and the claim state."""

    def __init__(self, data: object = None, *, clinic_id: int) -> None:
        super().__init__(data)  # type: ignore[arg-type]
        date_input = {"type": "date"}
        self.fields["from"] = forms.DateField(
            label="From", required=False, widget=forms.DateInput(date_input)
        )
        self.fields["to"] = forms.DateField(
            label="To", required=False, widget=forms.DateInput(date_input)
        )
        self.fields["payer"] = forms.ModelChoiceField(
            queryset=Payer.objects.filter(clinic_id=clinic_id), required=False, empty_label="Any"
        )
        self.fields["state"] = forms.ChoiceField(
            label="Claim state", required=False, choices=[("", "Any"), *ClaimState.choices]
        )

    def clean(self) -> dict[str, object]:
        cleaned = super().clean() or {}
        start, end = cleaned.get("from"), cleaned.get("to")
        if isinstance(start, date) and isinstance(end, date) and start > end:
            self.add_error("to", "The range ends before it starts.")
        return cleaned


def _biller(request: HttpRequest) -> User:
    user = current_user(request)
    clinic_id_of(user)
    require(can_bill(user), NOT_BILLER)
    return user


def _form(request: HttpRequest, user: User) -> FilterForm:
    return FilterForm(request.GET or None, clinic_id=clinic_id_of(user))


def _page(request: HttpRequest, form: FilterForm, status: int = 200) -> HttpResponse:
    return render(request, "exports/index.html", {"form": form, "nav": "exports"}, status=status)


@require_GET
def exports_view(request: HttpRequest) -> HttpResponse:
    """The filters and the three downloads (the page itself shows no patient data)."""
    user = _biller(request)
    return _page(request, _form(request, user))


def _csv_download(
    request: HttpRequest,
    name: str,
    header: Iterable[str],
    rows: Callable[[csvs.Filters], Iterator[list[str]]],
) -> HttpResponse:
    user = _biller(request)
    form = _form(request, user)
    unknown = sorted(set(request.GET) - set(FILTER_FIELDS))
    for field_name in unknown:
        form.add_error(
            None, f"{field_name}: not a filter of this export (use {', '.join(FILTER_FIELDS)})."
        )
    if unknown or (request.GET and not form.is_valid()):
        return _page(request, form, status=400)
    data = form.cleaned_data if request.GET else {}
    filters = csvs.Filters(
        clinic_id=clinic_id_of(user),
        start=data.get("from"),
        end=data.get("to"),
        payer=data.get("payer"),
        state=data.get("state") or "",
    )
    today = timezone.localdate().isoformat()
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{name}-{today}.csv"'
    writer = csv.writer(response)
    writer.writerow(header)
    writer.writerows(rows(filters))
    return response


@audit_read("claims export")
@require_GET
def claims_csv_view(request: HttpRequest) -> HttpResponse:
    return _csv_download(request, "claims", csvs.CLAIM_HEADER, csvs.claim_rows)


@audit_read("payments export")
@require_GET
def payments_csv_view(request: HttpRequest) -> HttpResponse:
    return _csv_download(request, "payments", csvs.PAYMENT_HEADER, csvs.payment_rows)


@audit_read("adjustments export")
@require_GET
def adjustments_csv_view(request: HttpRequest) -> HttpResponse:
    return _csv_download(request, "adjustments", csvs.ADJUSTMENT_HEADER, csvs.adjustment_rows)


@audit_read("FHIR record export")
@require_GET
def patient_fhir_view(request: HttpRequest, patient_id: int) -> HttpResponse:
    """The patient's record as a FHIR R4 Bundle (application/fhir+json), as a download."""
    user = _biller(request)
    patient = patient_get(user=user, patient_id=patient_id)
    try:
        bundle = patient_fhir(patient=patient)
    except FhirExportError as refused:
        return HttpResponse(
            f"The record cannot be exported as FHIR: {refused}",
            status=422,
            content_type="text/plain; charset=utf-8",
        )
    response = HttpResponse(
        json.dumps(bundle, indent=2, ensure_ascii=False),
        content_type="application/fhir+json; charset=utf-8",
    )
    response["Content-Disposition"] = f'attachment; filename="patient-{patient.pk}-fhir.json"'
    return response

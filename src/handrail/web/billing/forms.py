"""Billing forms: each field's check names the field (an NPI's check digit, a tax id's shape,
X12's reserved characters), so a bad value is a clear message on the form, never a 500."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from typing import Any

from django import forms

from handrail.claims.identifiers import ein_problem, npi_problem, taxonomy_problem
from handrail.web.billing.claims import FILING_BY_TYPE
from handrail.web.billing.models import (
    ChargeEntry,
    ClinicBilling,
    Contract,
    ContractKind,
    ContractRate,
    PayerBilling,
)
from handrail.web.clinic.models import Payer

_RESERVED = re.compile(r"[*~:^]")
_CODE = re.compile(r"^[0-9A-Z]\d{3}[0-9A-Z]$")
_STATE = re.compile(r"^[A-Z]{2}$")
_ZIP9 = re.compile(r"^\d{9}$")
FILING_CHOICES = [
    ("MB", "MB Medicare Part B"),
    ("16", "16 Medicare Advantage (HMO)"),
    ("MC", "MC Medicaid"),
    ("CI", "CI Commercial insurance"),
    ("BL", "BL Blue Cross/Blue Shield"),
    ("HM", "HM Health maintenance organisation"),
    ("WC", "WC Workers' compensation"),
    ("ZZ", "ZZ Mutually defined"),
]
assert {value for value, _ in FILING_CHOICES} >= set(FILING_BY_TYPE.values())


def _no_reserved(form: forms.BaseForm, names: list[str]) -> None:
    for name in names:
        value = form.cleaned_data.get(name)
        if isinstance(value, str) and _RESERVED.search(value):
            form.add_error(name, "X12 reserves * ~ : ^; remove them.")


def _clean_code(value: str) -> str:
    code = value.strip().upper()
    if not _CODE.match(code):
        raise forms.ValidationError("A CPT/HCPCS code is five characters, e.g. 97535.")
    return code


def _dates_in_order(form: forms.BaseForm) -> None:
    start, end = form.cleaned_data.get("effective_from"), form.cleaned_data.get("effective_to")
    if start and end and end < start:
        form.add_error("effective_to", "Ends before it starts.")


class ClinicBillingForm(forms.ModelForm):  # type: ignore[type-arg]
    zip_code = forms.CharField(
        label="ZIP+4", max_length=10, help_text="Nine digits for the 837P, e.g. 62701-1234"
    )

    class Meta:
        model = ClinicBilling
        exclude = ["clinic"]
        labels = {"production": "Send production files (ISA15 P)"}

    def clean_group_npi(self) -> str:
        value: str = self.cleaned_data["group_npi"].strip()
        if problem := npi_problem(value):
            raise forms.ValidationError(problem)
        return value

    def clean_tax_id(self) -> str:
        value: str = self.cleaned_data["tax_id"].strip()
        if problem := ein_problem(value):
            raise forms.ValidationError(problem)
        return value

    def clean_taxonomy(self) -> str:
        value: str = self.cleaned_data["taxonomy"].strip().upper()
        if problem := taxonomy_problem(value):
            raise forms.ValidationError(problem)
        return value

    def clean_state(self) -> str:
        value: str = self.cleaned_data["state"].strip().upper()
        if not _STATE.match(value):
            raise forms.ValidationError("A two-letter state code, e.g. IL.")
        return value

    def clean_zip_code(self) -> str:
        value: str = self.cleaned_data["zip_code"].replace("-", "").strip()
        if not _ZIP9.match(value):
            raise forms.ValidationError("The 837P needs the nine-digit ZIP+4, e.g. 62701-1234.")
        return value

    def clean_contact_phone(self) -> str:
        value: str = self.cleaned_data["contact_phone"]
        if len(re.sub(r"\D", "", value)) != 10:
            raise forms.ValidationError("A ten-digit phone number, e.g. 217-555-1234.")
        return value

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        for name in ("submitter_id", "receiver_id"):
            value = (data.get(name) or "").strip()
            if value and not 2 <= len(value) <= 15:
                self.add_error(name, "2 to 15 characters, as the clearinghouse assigned it.")
        _no_reserved(self, [f for f in self.fields if isinstance(data.get(f), str)])
        return data


class PayerBillingForm(forms.ModelForm):  # type: ignore[type-arg]
    filing_indicator = forms.ChoiceField(choices=FILING_CHOICES, label="Claim filing indicator")

    class Meta:
        model = PayerBilling
        fields = ["electronic_id", "filing_indicator", "requires_referring_provider"]
        labels = {"requires_referring_provider": "Claims must name the referring provider"}

    def clean_electronic_id(self) -> str:
        value: str = self.cleaned_data["electronic_id"].strip()
        if not 2 <= len(value) <= 20 or _RESERVED.search(value):
            raise forms.ValidationError("2 to 20 letters or digits, as the payer publishes it.")
        return value


class ClinicianBillingForm(forms.Form):
    npi = forms.CharField(label="NPI", max_length=10)
    taxonomy = forms.CharField(max_length=10, required=False, help_text="e.g. 225100000X")

    def clean_npi(self) -> str:
        value: str = self.cleaned_data["npi"].strip()
        if problem := npi_problem(value):
            raise forms.ValidationError(problem)
        return value

    def clean_taxonomy(self) -> str:
        value: str = self.cleaned_data["taxonomy"].strip().upper()
        if value and (problem := taxonomy_problem(value)):
            raise forms.ValidationError(problem)
        return value


class ChargeForm(forms.ModelForm):  # type: ignore[type-arg]
    class Meta:
        model = ChargeEntry
        fields = ["code", "charge", "effective_from", "effective_to"]
        widgets = {
            "effective_from": forms.DateInput(attrs={"type": "date"}),
            "effective_to": forms.DateInput(attrs={"type": "date"}),
        }

    def clean_code(self) -> str:
        return _clean_code(self.cleaned_data["code"])

    def clean_charge(self) -> Decimal:
        value: Decimal = self.cleaned_data["charge"]
        if value <= 0:
            raise forms.ValidationError("A charge must be more than 0.")
        return value

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        _dates_in_order(self)
        return data


class ContractForm(forms.ModelForm):  # type: ignore[type-arg]
    class Meta:
        model = Contract
        fields = ["kind", "percent", "effective_from", "effective_to"]
        widgets = {
            "effective_from": forms.DateInput(attrs={"type": "date"}),
            "effective_to": forms.DateInput(attrs={"type": "date"}),
        }

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        percent = data.get("percent")
        if data.get("kind") == ContractKind.PERCENT_OF_MEDICARE:
            if percent is None or percent <= 0:
                self.add_error("percent", "A percent contract needs a percent above 0.")
            elif percent > 1000:
                self.add_error("percent", "At most 1000%.")
        elif data.get("kind") == ContractKind.RATE_TABLE and percent is not None:
            self.add_error("percent", "A rate-table contract has no percent; leave it empty.")
        _dates_in_order(self)
        return data


class ContractRateForm(forms.ModelForm):  # type: ignore[type-arg]
    class Meta:
        model = ContractRate
        fields = ["code", "rate", "effective_from", "effective_to"]
        widgets = {
            "effective_from": forms.DateInput(attrs={"type": "date"}),
            "effective_to": forms.DateInput(attrs={"type": "date"}),
        }

    def clean_code(self) -> str:
        return _clean_code(self.cleaned_data["code"])

    def clean_rate(self) -> Decimal:
        value: Decimal = self.cleaned_data["rate"]
        if value <= 0:
            raise forms.ValidationError("A rate must be more than 0.")
        return value

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        _dates_in_order(self)
        return data


class ThroughForm(forms.Form):
    through = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))


class ExportForm(forms.Form):
    payer = forms.ModelChoiceField(queryset=Payer.objects.none())
    through = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args: Any, clinic_id: int, today: date, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["payer"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = Payer.objects.filter(clinic_id=clinic_id).order_by("name")
        self.fields["through"].initial = today


class CorrectForm(forms.Form):
    frequency = forms.ChoiceField(choices=[("7", "7 Replacement"), ("8", "8 Void")])
    payer_claim_number = forms.CharField(
        max_length=50, required=False, help_text="From the remittance (CLP07)"
    )

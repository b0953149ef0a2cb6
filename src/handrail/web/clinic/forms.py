from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError

from handrail.web.clinic.models import CoverageOrder, Patient, Payer
from handrail.web.clinic.throttle import (
    login_failure_record,
    login_failures_clear,
    login_is_locked,
)


class ThrottledLoginForm(AuthenticationForm):
    """Django's login form, refusing locked-out usernames/addresses before checking the
    password and recording each failure (handrail.web.clinic.throttle)."""

    error_messages = {
        **AuthenticationForm.error_messages,
        "locked": "Too many failed sign-ins. Wait 15 minutes or ask your clinic admin.",
    }

    def clean(self) -> dict[str, Any]:
        username = (self.cleaned_data.get("username") or "").strip()
        ip = self.request.META.get("REMOTE_ADDR", "") if self.request else ""
        if username and login_is_locked(username=username, ip=ip):
            raise ValidationError(self.error_messages["locked"], code="locked")
        try:
            cleaned = super().clean()
        except ValidationError:
            if username:
                login_failure_record(username=username, ip=ip)
            raise
        login_failures_clear(username=username)
        return cleaned


class PatientForm(forms.ModelForm):  # type: ignore[type-arg]
    class Meta:
        model = Patient
        fields = [
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
        ]
        widgets = {"birth_date": forms.DateInput(attrs={"type": "date"})}


class CoverageForm(forms.Form):
    payer = forms.ModelChoiceField(queryset=Payer.objects.none())
    member_id = forms.CharField(max_length=40, label="Member ID")
    order = forms.TypedChoiceField(choices=CoverageOrder.choices, coerce=int, initial=1)

    def __init__(self, *args: Any, payers: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["payer"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = payers

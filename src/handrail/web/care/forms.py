from __future__ import annotations

from datetime import date
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import QuerySet

from handrail.web.care.services import GoalInput
from handrail.web.clinic.models import Discipline, Payer

DATE = forms.DateInput(attrs={"type": "date"})


class CaseForm(forms.Form):
    discipline = forms.ChoiceField(choices=Discipline.choices)
    title = forms.CharField(max_length=200)
    opened_on = forms.DateField(widget=DATE)
    referring_provider = forms.CharField(max_length=200, required=False)


class PlanOfCareForm(forms.Form):
    diagnoses = forms.CharField(
        help_text="ICD-10-CM codes in order, primary first, separated by commas",
        max_length=500,
    )
    goals = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text="One goal a line: YYYY-MM-DD | measurable functional goal",
        max_length=5000,
    )
    frequency_per_week = forms.IntegerField(min_value=1, max_value=7)
    duration_weeks = forms.IntegerField(min_value=1, max_value=52)
    start_date = forms.DateField(widget=DATE)
    medical_necessity = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False)
    certified_on = forms.DateField(widget=DATE, required=False)
    certifier_name = forms.CharField(max_length=200, required=False)
    certifier_npi = forms.CharField(max_length=10, required=False)

    def clean_diagnoses(self) -> list[str]:
        raw: str = self.cleaned_data["diagnoses"]
        return [code.strip() for code in raw.replace(";", ",").split(",") if code.strip()]

    def clean_goals(self) -> list[GoalInput]:
        goals: list[GoalInput] = []
        for number, line in enumerate(self.cleaned_data["goals"].splitlines(), start=1):
            if not line.strip():
                continue
            when, sep, text = line.partition("|")
            try:
                target = date.fromisoformat(when.strip())
            except ValueError:
                raise ValidationError(
                    f"Line {number}: start with the target date, "
                    "e.g. 2026-03-14 | dons shirt alone"
                ) from None
            if not sep or not text.strip():
                raise ValidationError(f"Line {number}: write the goal after the | sign")
            goals.append(GoalInput(description=text.strip(), target_date=target))
        return goals


class CertifyForm(forms.Form):
    certified_on = forms.DateField(widget=DATE)
    certifier_name = forms.CharField(max_length=200)
    certifier_npi = forms.CharField(max_length=10, required=False)


class DischargeForm(forms.Form):
    closed_on = forms.DateField(widget=DATE, label="Discharged on")
    discharge_reason = forms.CharField(
        max_length=200, label="Reason", help_text="e.g. goals met, moved away, no longer benefits"
    )


class AuthorizationForm(forms.Form):
    payer = forms.ModelChoiceField(queryset=Payer.objects.none())
    number = forms.CharField(max_length=60, required=False, label="Authorization number")
    visits_authorized = forms.IntegerField(min_value=1, max_value=1000)
    units_authorized = forms.IntegerField(
        min_value=1, max_value=10000, required=False, help_text="Empty when units are not limited"
    )
    start_date = forms.DateField(widget=DATE)
    end_date = forms.DateField(widget=DATE)

    def __init__(self, *args: Any, payers: QuerySet[Payer], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["payer"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = payers


class AuthorizationEndForm(forms.Form):
    ended_on = forms.DateField(widget=DATE, label="Last covered day")

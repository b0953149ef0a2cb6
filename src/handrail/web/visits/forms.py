from __future__ import annotations

from django import forms

from handrail.web.visits.models import VisitType


class VisitStartForm(forms.Form):
    date = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))
    visit_type = forms.ChoiceField(choices=VisitType.choices, initial=VisitType.TREATMENT)

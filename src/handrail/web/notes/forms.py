"""Forms of the note page. They parse and bound the input; the rules live in the services."""

from __future__ import annotations

from django import forms

from handrail.web.visits.models import MAX_DAY_MINUTES, Telehealth, VisitType

NOTE_WIDGET = forms.Textarea(attrs={"rows": 2})


class VisitHeaderForm(forms.Form):
    visit_type = forms.ChoiceField(choices=VisitType.choices)
    telehealth = forms.ChoiceField(
        choices=[("", "In person"), *Telehealth.choices], required=False
    )
    patient_present = forms.BooleanField(required=False)
    caregiver_present = forms.BooleanField(required=False)
    distinct_services = forms.BooleanField(
        required=False, label="Services were distinct (separate time, separate goal)"
    )
    medical_necessity_attested = forms.BooleanField(
        required=False, label="Medically necessary above the threshold (KX)"
    )
    narrative = forms.CharField(
        required=False, max_length=20_000, widget=forms.Textarea(attrs={"rows": 3})
    )


class LineAddForm(forms.Form):
    code = forms.CharField(max_length=5)


class LineNoteForm(forms.Form):
    therapist_minutes = forms.IntegerField(
        min_value=0, max_value=MAX_DAY_MINUTES, label="Therapist min"
    )
    assistant_minutes = forms.IntegerField(
        min_value=0, max_value=MAX_DAY_MINUTES, label="Assistant min"
    )
    # The minutes the page showed when it was rendered or a timer last updated it: when the
    # posted minutes still equal them, the user did not type minutes, and an autosave that
    # raced a timer stop must not put the older value back.
    therapist_minutes_was = forms.IntegerField(required=False, widget=forms.HiddenInput)
    assistant_minutes_was = forms.IntegerField(required=False, widget=forms.HiddenInput)
    baseline = forms.CharField(
        required=False, max_length=5000, widget=NOTE_WIDGET, label="Baseline"
    )
    task = forms.CharField(required=False, max_length=5000, widget=NOTE_WIDGET, label="Task")
    technique = forms.CharField(
        required=False, max_length=5000, widget=NOTE_WIDGET, label="Technique / device"
    )
    skilled = forms.CharField(
        required=False, max_length=5000, widget=NOTE_WIDGET, label="Skilled need"
    )
    performance = forms.CharField(
        required=False, max_length=5000, widget=NOTE_WIDGET, label="Performance"
    )
    text = forms.CharField(required=False, max_length=20_000, widget=NOTE_WIDGET, label="Notes")

    NOTE_FIELDS = ("baseline", "task", "technique", "skilled", "performance", "text")


class TimerSegmentForm(forms.Form):
    """One start/stop of a per-code timer, as ISO 8601 instants from the browser."""

    started_at = forms.DateTimeField()
    ended_at = forms.DateTimeField()


class AddendumForm(forms.Form):
    reason = forms.CharField(max_length=200, label="Why")
    text = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), max_length=10_000)


class SignForm(forms.Form):
    """The sign button posts nothing; "sign anyway" (a note with error findings) posts why."""

    reason = forms.CharField(
        required=False,
        max_length=300,
        label="Why sign with these errors",
        widget=forms.Textarea(attrs={"rows": 2, "maxlength": 300}),
    )

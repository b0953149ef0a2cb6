"""Forms of the note page. They parse and bound the input; the rules live in the services.

Every field of a line or the header is checked on its own, so one bad value (a decimal in a
minutes box, a note past its length) is shown beside its field and never stops the other
fields from saving. Text limits are not enforced by the browser (a `maxlength` would cut
pasted text silently): the page counts the characters and the server refuses a field over
its limit with a message, keeping the others.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError

from handrail.web.visits.models import MAX_DAY_MINUTES, Telehealth, VisitType

NOTE_ROWS = 2


class NoteTextField(forms.CharField):
    """A note text with a length limit the page counts down (data-maxlength) instead of an
    HTML maxlength that would cut the text without saying so."""

    def __init__(self, *, max_length: int, rows: int = NOTE_ROWS, **kwargs: Any) -> None:
        super().__init__(
            required=False,
            max_length=max_length,
            widget=forms.Textarea(attrs={"rows": rows}),
            error_messages={
                "max_length": "%(show_value)d characters; the limit is %(limit_value)d. "
                "Shorten it to save this field (the other fields are saved)."
            },
            **kwargs,
        )

    def widget_attrs(self, widget: forms.Widget) -> dict[str, Any]:
        attrs = super().widget_attrs(widget)
        attrs.pop("maxlength", None)
        attrs["data-maxlength"] = str(self.max_length)
        return attrs


class MinutesField(forms.IntegerField):
    """Whole minutes, 0 to a day, with a message that names what was typed."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(
            min_value=0,
            max_value=MAX_DAY_MINUTES,
            error_messages={
                "required": "Type the minutes (0 when none).",
                "min_value": "Minutes are 0 or more.",
                "max_value": f"At most {MAX_DAY_MINUTES} minutes (24 hours).",
            },
            **kwargs,
        )

    def to_python(self, value: Any) -> int | None:
        text = str(value).strip() if value is not None else ""
        try:
            return super().to_python(text)
        except ValidationError as exc:
            if exc.code != "invalid":
                raise
            raise ValidationError(
                f"“{text[:20]}” is not a whole number of minutes; type whole minutes "
                "such as 22 or 23.",
                code="invalid",
            ) from None


class VersionField(forms.IntegerField):
    """The version of the header or line the page was showing (optimistic locking)."""

    def __init__(self) -> None:
        super().__init__(required=False, min_value=1, widget=forms.HiddenInput)


class StrictForm(forms.Form):
    """Refuses posted fields it does not know (besides the CSRF token), and a post with none
    of its own: the autosaves save each valid field, and an unticked box or an empty text is
    a field left empty, so a post naming no field (not from the page) would blank them all."""

    def unknown_fields(self) -> list[str]:
        known = {self.add_prefix(name) for name in self.fields} | {"csrfmiddlewaretoken"}
        return sorted(key for key in self.data if key not in known)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        unknown = self.unknown_fields()
        if unknown:
            raise ValidationError(
                "Unknown field(s): " + ", ".join(unknown) + "; reload the page and try again."
            )
        if not any(self.add_prefix(name) in self.data for name in self.fields):
            raise ValidationError("No field was sent; reload the page and try again.")
        return cleaned


class VisitHeaderForm(StrictForm):
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
    narrative = NoteTextField(max_length=20_000, rows=3)
    version = VersionField()


class LineAddForm(forms.Form):
    code = forms.CharField(max_length=5)


class LineNoteForm(StrictForm):
    therapist_minutes = MinutesField(label="Therapist min")
    assistant_minutes = MinutesField(label="Assistant min")
    # The minutes the page showed when it was rendered, last saved or a timer last updated
    # them: when the posted minutes still equal them, the user did not type minutes, and an
    # autosave that raced a timer stop must not put the older value back.
    therapist_minutes_was = forms.IntegerField(required=False, widget=forms.HiddenInput)
    assistant_minutes_was = forms.IntegerField(required=False, widget=forms.HiddenInput)
    baseline = NoteTextField(max_length=5000, label="Baseline")
    task = NoteTextField(max_length=5000, label="Task")
    technique = NoteTextField(max_length=5000, label="Technique / device")
    skilled = NoteTextField(max_length=5000, label="Skilled need")
    performance = NoteTextField(max_length=5000, label="Performance")
    text = NoteTextField(max_length=20_000, label="Notes")
    version = VersionField()

    NOTE_FIELDS = ("baseline", "task", "technique", "skilled", "performance", "text")
    MINUTE_FIELDS = ("therapist_minutes", "assistant_minutes")


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

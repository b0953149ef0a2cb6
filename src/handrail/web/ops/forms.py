from __future__ import annotations

from typing import Any

from django import forms
from django.core.files.uploadedfile import UploadedFile

from handrail.web.ops.data_services import KIND_LABELS


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Every file chosen in one input (Django's documented multiple-upload pattern)."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("widget", MultipleFileInput())
        super().__init__(**kwargs)

    def clean(self, data: Any, initial: Any = None) -> list[UploadedFile[bytes]]:
        single = super().clean
        if isinstance(data, list | tuple):
            return [single(item, initial) for item in data]
        return [single(data, initial)] if data else []


class DataImportForm(forms.Form):
    """An import's fields; the view hands every file of `file` to the service (PTP: parts)."""

    file = MultipleFileField(
        label="File",
        required=False,  # the service says which file(s) it needs, beside this field
        help_text="The text or CSV file as published by CMS or CDC, unzipped. For ptp, "
        "choose the part files of one quarter together.",
    )

    kind = forms.ChoiceField(label="Kind of file", choices=[("", "Choose…"), *KIND_LABELS.items()])
    release = forms.CharField(
        label="Release label (optional)",
        required=False,
        max_length=80,
        help_text="Leave empty to take it from the file's name, e.g. PPRRVU2026_Oct.",
    )
    effective = forms.DateField(
        label="First date of service (optional)",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text="Leave empty to take it from the file's name or header.",
    )

"""Shared form helpers: service ValidationErrors shown on the form, never a 500."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError


def form_apply_errors(form: forms.BaseForm, exc: ValidationError) -> None:
    """Attach a service's ValidationError to the form: on the named field when the form has
    it, otherwise as a form-wide error that names the field."""
    if not hasattr(exc, "error_dict"):
        form.add_error(None, exc)
        return
    for name, errors in exc.error_dict.items():
        for error in errors:
            message = " ".join(error.messages)
            if name in form.fields:
                form.add_error(name, message)
            elif name == "__all__":
                form.add_error(None, message)
            else:
                form.add_error(None, f"{name}: {message}")

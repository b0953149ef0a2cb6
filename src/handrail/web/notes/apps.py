from __future__ import annotations

from django.apps import AppConfig


class NotesConfig(AppConfig):
    name = "handrail.web.notes"
    label = "notes"
    verbose_name = "Visit note page"

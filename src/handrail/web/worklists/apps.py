from __future__ import annotations

from django.apps import AppConfig


class WorklistsConfig(AppConfig):
    name = "handrail.web.worklists"
    label = "worklists"
    verbose_name = "Worklists"

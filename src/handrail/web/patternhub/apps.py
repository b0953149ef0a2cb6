from __future__ import annotations

from django.apps import AppConfig


class PatternHubConfig(AppConfig):
    name = "handrail.web.patternhub"
    label = "patternhub"
    verbose_name = "Denial-pattern hub: enrolled clinic servers and the reports they send"
    default_auto_field = "django.db.models.BigAutoField"

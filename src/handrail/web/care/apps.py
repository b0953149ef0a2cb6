from __future__ import annotations

from django.apps import AppConfig


class CareConfig(AppConfig):
    name = "handrail.web.care"
    label = "care"
    verbose_name = "Cases, plans of care and authorizations"

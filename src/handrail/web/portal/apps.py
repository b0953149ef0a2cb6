from __future__ import annotations

from django.apps import AppConfig


class PortalConfig(AppConfig):
    name = "handrail.web.portal"
    label = "portal"
    verbose_name = "Patient portal"
    default_auto_field = "django.db.models.BigAutoField"

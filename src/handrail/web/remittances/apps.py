from __future__ import annotations

from django.apps import AppConfig


class RemittancesConfig(AppConfig):
    name = "handrail.web.remittances"
    label = "remittances"
    verbose_name = "Remittances: 835 posting, denials and denial patterns"
    default_auto_field = "django.db.models.BigAutoField"

from __future__ import annotations

from django.apps import AppConfig


class OpsConfig(AppConfig):
    name = "handrail.web.ops"
    label = "ops"
    verbose_name = "Operations"

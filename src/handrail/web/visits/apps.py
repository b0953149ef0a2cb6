from __future__ import annotations

from django.apps import AppConfig


class VisitsConfig(AppConfig):
    name = "handrail.web.visits"
    label = "visits"
    verbose_name = "Visits, service lines and signatures"

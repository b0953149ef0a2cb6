"""URLs of the operations pages (namespace "ops")."""

from __future__ import annotations

from django.urls import path

from handrail.web.ops import health, views

app_name = "ops"

urlpatterns = [
    path("clinic/data/", views.data_status_view, name="data-status"),
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("metrics", health.metrics, name="metrics"),
]

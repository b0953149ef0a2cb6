"""URLs of the operations pages (namespace "ops")."""

from __future__ import annotations

from django.urls import path

from handrail.web.ops import code_views, health, views

app_name = "ops"

urlpatterns = [
    path("clinic/data/", views.data_status_view, name="data-status"),
    path("codes/", code_views.code_index_view, name="code-index"),
    path("codes/<str:code>/", code_views.code_reference_view, name="code"),
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("metrics", health.metrics, name="metrics"),
]

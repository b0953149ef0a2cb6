"""URLs of the operations pages (namespace "ops")."""

from __future__ import annotations

from django.urls import path

from handrail.web.ops import views

app_name = "ops"

urlpatterns = [
    path("clinic/data/", views.data_status_view, name="data-status"),
]

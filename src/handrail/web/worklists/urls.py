"""URLs of the worklists, under /worklists/."""

from __future__ import annotations

from django.urls import path

from handrail.web.worklists import views

app_name = "worklists"

urlpatterns = [
    path("", views.index_view, name="index"),
    path("<slug:kind>/", views.kind_view, name="kind"),
]

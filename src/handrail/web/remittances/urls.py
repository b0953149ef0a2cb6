from __future__ import annotations

from django.urls import path

from handrail.web.remittances import views

app_name = "remittances"

urlpatterns = [
    path("", views.remittance_list_view, name="list"),
]

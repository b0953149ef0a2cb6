"""Staff pages of the messaging app, under /messages/."""

from __future__ import annotations

from django.urls import path

from handrail.web.messaging import views

app_name = "messaging"

urlpatterns = [
    path("", views.outbox_view, name="outbox"),
    path("<int:message_id>/retry/", views.retry_view, name="retry"),
]

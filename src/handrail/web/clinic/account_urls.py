"""URLs of the signed-in user's own account, under /account/."""

from __future__ import annotations

from django.urls import path

from handrail.web.clinic import account_views as views

urlpatterns = [
    path("password/", views.password_change_view, name="password-change"),
]

"""URLs of the signed-in user's own account, under /account/."""

from __future__ import annotations

from django.urls import path

from handrail.web.clinic import account_views as views

urlpatterns = [
    path("password/", views.password_change_view, name="password-change"),
    path("two-factor/", views.two_factor_view, name="two-factor"),
    path("two-factor/verify/", views.two_factor_verify_view, name="two-factor-verify"),
    path("two-factor/recovery-codes/", views.two_factor_recovery_view, name="two-factor-recovery"),
]

"""URLs of the clinic admin pages, under /clinic/ (namespace "clinic_admin")."""

from __future__ import annotations

from django.urls import path

from handrail.web.clinic import admin_views as views

app_name = "clinic_admin"

urlpatterns = [
    path("staff/", views.staff_list_view, name="staff-list"),
    path("staff/new/", views.staff_create_view, name="staff-create"),
    path("staff/<int:staff_id>/", views.staff_edit_view, name="staff-edit"),
    path("staff/<int:staff_id>/active/", views.staff_active_view, name="staff-active"),
    path("staff/<int:staff_id>/password/", views.staff_password_view, name="staff-password"),
    path("staff/<int:staff_id>/unlock/", views.staff_unlock_view, name="staff-unlock"),
    path("payers/", views.payer_list_view, name="payer-list"),
    path("payers/new/", views.payer_create_view, name="payer-create"),
    path("payers/<int:payer_id>/", views.payer_edit_view, name="payer-edit"),
    path("payers/<int:payer_id>/delete/", views.payer_delete_view, name="payer-delete"),
]

"""The patient's pages under /p/<token>/ (no account) and the staff pages of a program's
patient side under /programs/ (beside the programs app's pages)."""

from __future__ import annotations

from django.urls import path

from handrail.web.portal import views

app_name = "portal"

urlpatterns = [
    path("p/<str:token>/", views.patient_program_view, name="program"),
    path("p/<str:token>/print/", views.patient_print_view, name="print"),
    path("p/<str:token>/handout.pdf", views.patient_handout_view, name="handout"),
    path("p/<str:token>/media/<int:media_id>/", views.patient_media_view, name="media"),
    path("p/<str:token>/reminders/", views.patient_reminders_view, name="reminders"),
    path("programs/flags/", views.flags_view, name="flags"),
    path(
        "programs/<int:program_id>/patient/",
        views.program_patient_side_view,
        name="staff-program",
    ),
    path("programs/<int:program_id>/patient/link/", views.link_create_view, name="link-create"),
    path(
        "programs/<int:program_id>/patient/revoke/", views.links_revoke_view, name="links-revoke"
    ),
    path("programs/<int:program_id>/patient/notes/", views.note_add_view, name="note-add"),
    path(
        "programs/<int:program_id>/patient/reminders/",
        views.reminders_set_view,
        name="reminders-set",
    ),
    path("programs/<int:program_id>/patient/consent/", views.consent_view, name="consent"),
]

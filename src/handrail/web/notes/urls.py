"""URLs of the note page, under /visits/<id>/note/."""

from __future__ import annotations

from django.urls import path

from handrail.web.notes import views

app_name = "notes"

urlpatterns = [
    path("<int:visit_id>/note/", views.note_view, name="note"),
    path("<int:visit_id>/note/panel/", views.panel_view, name="panel"),
    path("<int:visit_id>/note/header/", views.header_save_view, name="header"),
    path("<int:visit_id>/note/lines/", views.line_add_view, name="line-add"),
    path("<int:visit_id>/note/lines/<int:line_id>/", views.line_save_view, name="line-save"),
    path(
        "<int:visit_id>/note/lines/<int:line_id>/delete/",
        views.line_delete_view,
        name="line-delete",
    ),
    path(
        "<int:visit_id>/note/lines/<int:line_id>/segments/",
        views.segment_add_view,
        name="segment-add",
    ),
    path("<int:visit_id>/note/timers/", views.timers_view, name="timers"),
    path(
        "<int:visit_id>/note/lines/<int:line_id>/timer/start/",
        views.timer_start_view,
        name="timer-start",
    ),
    path(
        "<int:visit_id>/note/lines/<int:line_id>/timer/stop/",
        views.timer_stop_view,
        name="timer-stop",
    ),
    path("<int:visit_id>/note/sign/", views.sign_view, name="sign"),
    path("<int:visit_id>/note/cosign/", views.cosign_view, name="cosign"),
    path("<int:visit_id>/note/addenda/", views.addendum_view, name="addendum"),
]

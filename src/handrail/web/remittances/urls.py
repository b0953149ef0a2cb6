from __future__ import annotations

from django.urls import path

from handrail.web.remittances import views

app_name = "remittances"

urlpatterns = [
    path("", views.remittance_list_view, name="list"),
    path("denials/", views.denial_list_view, name="denials"),
    path("patterns/", views.pattern_list_view, name="patterns"),
    path(
        "denials/<int:claim_id>/<int:line_number>/report/",
        views.denial_report_view,
        name="denial-report",
    ),
    path(
        "denials/<int:claim_id>/<int:line_number>/correct/",
        views.denial_correct_view,
        name="denial-correct",
    ),
    path(
        "denials/<int:claim_id>/<int:line_number>/appeal/",
        views.denial_appeal_view,
        name="denial-appeal",
    ),
]

"""URLs of the clinic app. Every page needs a signed-in user except /login/ and /static/."""

from __future__ import annotations

from django.contrib.auth import views as auth_views
from django.urls import include, path

from handrail.web.api.api import api
from handrail.web.care import views as care
from handrail.web.clinic import views as clinic
from handrail.web.exports import api as _exports_api  # noqa: F401 (registers its endpoints)
from handrail.web.messaging import views as messaging
from handrail.web.patternhub import api as _patternhub_api  # noqa: F401 (registers its endpoints)
from handrail.web.portal import api as _portal_api  # noqa: F401 (registers its endpoints)
from handrail.web.remittances import api as _remittances_api  # noqa: F401 (registers its endpoints)
from handrail.web.visits import views as visits

urlpatterns = [
    path("", clinic.home, name="home"),
    path("login/", clinic.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("account/", include("handrail.web.clinic.account_urls")),
    path("patients/", clinic.patient_list_view, name="patient-list"),
    path("patients/new/", clinic.patient_create_view, name="patient-create"),
    path("patients/<int:patient_id>/", clinic.patient_detail_view, name="patient-detail"),
    path("patients/<int:patient_id>/edit/", clinic.patient_edit_view, name="patient-edit"),
    path("patients/<int:patient_id>/audit/", clinic.patient_audit_view, name="patient-audit"),
    path(
        "patients/<int:patient_id>/audit/export/",
        clinic.patient_audit_export_view,
        name="patient-audit-export",
    ),
    path("patients/<int:patient_id>/coverage/", clinic.coverage_set_view, name="coverage-set"),
    path("patients/<int:patient_id>/cases/new/", care.case_create_view, name="case-create"),
    path("cases/<int:case_id>/", care.case_detail_view, name="case-detail"),
    path("cases/<int:case_id>/plan/new/", care.plan_create_view, name="plan-create"),
    path("cases/<int:case_id>/discharge/", care.case_discharge_view, name="case-discharge"),
    path(
        "cases/<int:case_id>/authorizations/",
        care.authorization_list_view,
        name="authorization-list",
    ),
    path(
        "authorizations/<int:authorization_id>/edit/",
        care.authorization_edit_view,
        name="authorization-edit",
    ),
    path(
        "authorizations/<int:authorization_id>/end/",
        care.authorization_end_view,
        name="authorization-end",
    ),
    path("plans/<int:plan_id>/certify/", care.plan_certify_view, name="plan-certify"),
    path("cases/<int:case_id>/visits/new/", visits.visit_start_view, name="visit-start"),
    # The old read-only visit page: a redirect to the note page, kept for bookmarks.
    path("visits/<int:visit_id>/", visits.visit_detail_view, name="visit-detail"),
    path("visits/", include("handrail.web.notes.urls")),
    path("worklists/", include("handrail.web.worklists.urls")),
    path("clinic/", include("handrail.web.clinic.admin_urls")),
    path("billing/", include("handrail.web.billing.urls")),
    path("exports/", include("handrail.web.exports.urls")),
    path("messages/", include("handrail.web.messaging.urls")),
    path("programs/", include("handrail.web.programs.urls")),
    path("remittances/", include("handrail.web.remittances.urls")),
    # The patient's link pages (/p/<token>/) and a program's patient side (/programs/...).
    path("", include("handrail.web.portal.urls")),
    path("unsubscribe/<str:token>/", messaging.unsubscribe_view, name="unsubscribe"),
    path("api/", api.urls),
    path("", include("handrail.web.ops.urls")),
]

# Friendly error pages in the app's layout, whatever DEBUG is (handrail.web.ops.errors).
handler400 = "handrail.web.ops.errors.bad_request"
handler403 = "handrail.web.ops.errors.permission_denied"
handler404 = "handrail.web.ops.errors.page_not_found"
handler500 = "handrail.web.ops.errors.server_error"

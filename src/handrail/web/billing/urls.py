"""URLs of the billing pages, under /billing/ (namespace "billing")."""

from __future__ import annotations

from django.urls import path

from handrail.web.billing import views

app_name = "billing"

urlpatterns = [
    path("", views.claims_view, name="claims"),
    path("make/", views.claims_make_view, name="claims-make"),
    path("claims/<int:claim_id>/", views.claim_view, name="claim"),
    path(
        "claims/<int:claim_id>/acknowledge/",
        views.claim_acknowledge_view,
        name="claim-acknowledge",
    ),
    path("claims/<int:claim_id>/rescrub/", views.claim_rescrub_view, name="claim-rescrub"),
    path("claims/<int:claim_id>/close/", views.claim_close_view, name="claim-close"),
    path("claims/<int:claim_id>/correct/", views.claim_correct_view, name="claim-correct"),
    path("batches/", views.batches_view, name="batches"),
    path("batches/export/", views.batch_export_view, name="batch-export"),
    path("batches/<int:batch_id>/837p.x12", views.batch_download_view, name="batch-download"),
    path("settings/", views.settings_view, name="settings"),
    path("settings/charges/", views.charges_view, name="charges"),
    path("settings/payers/<int:payer_id>/", views.payer_view, name="payer"),
    path(
        "settings/payers/<int:payer_id>/contracts/",
        views.contract_add_view,
        name="contract-add",
    ),
    path(
        "settings/payers/<int:payer_id>/contracts/<int:contract_id>/rates/",
        views.contract_rate_add_view,
        name="contract-rate-add",
    ),
    path("settings/clinicians/<int:staff_id>/", views.clinician_view, name="clinician"),
]

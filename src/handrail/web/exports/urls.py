"""URLs of the exports, under /exports/ (namespace "exports")."""

from __future__ import annotations

from django.urls import path

from handrail.web.exports import views

app_name = "exports"

urlpatterns = [
    path("", views.exports_view, name="index"),
    path("claims.csv", views.claims_csv_view, name="claims-csv"),
    path("payments.csv", views.payments_csv_view, name="payments-csv"),
    path("adjustments.csv", views.adjustments_csv_view, name="adjustments-csv"),
    path("patients/<int:patient_id>/fhir.json", views.patient_fhir_view, name="patient-fhir"),
]

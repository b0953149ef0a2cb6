from __future__ import annotations

from django.apps import AppConfig


class BillingConfig(AppConfig):
    name = "handrail.web.billing"
    label = "billing"
    verbose_name = "Billing: identity, charges, contracts, claims and 837P batches"
    default_auto_field = "django.db.models.BigAutoField"

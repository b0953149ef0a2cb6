from __future__ import annotations

from django.apps import AppConfig


class PortalConfig(AppConfig):
    name = "handrail.web.portal"
    label = "portal"
    verbose_name = "Patient portal"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # The program and reminder emails' renderers, and the hook that queues the email
        # when a program version is issued.
        from handrail.web.portal import messages

        messages.connect()

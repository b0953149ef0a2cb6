from __future__ import annotations

from django.apps import AppConfig


class ClinicConfig(AppConfig):
    name = "handrail.web.clinic"
    label = "clinic"
    verbose_name = "Clinic, users, payers and patients"

    def ready(self) -> None:
        # Connect the sign-in receivers (the session clocks, the two-factor state) when the
        # app loads. Left to the modules' first import (the middleware, built on the first
        # request), a sign-in before that request went without them: its session had no
        # clocks, and its first page rewrote the session.
        from handrail.web.clinic import session_limits, two_factor  # noqa: F401

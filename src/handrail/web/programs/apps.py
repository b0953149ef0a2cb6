from __future__ import annotations

from typing import Any

from django.apps import AppConfig
from django.db.models.signals import post_migrate


class ProgramsConfig(AppConfig):
    name = "handrail.web.programs"
    label = "programs"
    verbose_name = "Home programs"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        post_migrate.connect(_sync_after_migrate, sender=self)


def _sync_after_migrate(using: str = "default", **kwargs: Any) -> None:
    """`migrate` (and a test database's flush) leaves the built-in library in step with the
    package data, so a fresh install or an upgrade needs no second command."""
    from handrail.web.programs.services import library_sync

    library_sync(using=using)

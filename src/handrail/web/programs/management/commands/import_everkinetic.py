"""`manage.py import_everkinetic <folder> --clinic <id>`: the Everkinetic illustrations
(CC BY-SA 4.0, downloaded by the clinic) for one clinic's library. See
handrail.web.programs.media.everkinetic_import; nothing from the folder is shipped."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from handrail.library.everkinetic import CREDIT, EverkineticError
from handrail.web.clinic.models import Clinic
from handrail.web.programs.media import everkinetic_import


class Command(BaseCommand):
    help = "Import the Everkinetic exercise illustrations into a clinic's library."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("folder", type=Path, help="the folder holding exercises.json")
        parser.add_argument("--clinic", type=int, required=True, help="the clinic's id")

    def handle(self, *args: Any, **options: Any) -> None:
        clinic = Clinic.objects.filter(pk=options["clinic"]).first()
        if clinic is None:
            raise CommandError(f"--clinic: no clinic with id {options['clinic']}")
        try:
            result = everkinetic_import(clinic_id=clinic.pk, folder=options["folder"])
        except EverkineticError as exc:
            raise CommandError(str(exc)) from None
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from None
        self.stdout.write(
            f"{clinic.name}: {result.attached} pictures attached to built-in entries, "
            f"{result.added} entries added, {result.skipped} already imported. "
            f"Credit shown with each picture: {CREDIT}."
        )

"""The library in the database: built-ins synced from the package data, clinic entries."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from handrail.library import builtin_entries
from handrail.web.programs.models import EntrySource, LibraryEntry
from handrail.web.programs.services import (
    library_sync,
)


@pytest.mark.django_db
class LibrarySyncTests:
    def test_it_holds_every_builtin_after_migrate(self) -> None:
        count = LibraryEntry.objects.filter(source=EntrySource.BUILTIN, archived=False).count()
        assert count == len(builtin_entries())

    def test_it_changes_nothing_the_second_time(self) -> None:
        result = library_sync()
        assert (result.created, result.updated, result.archived) == (0, 0, 0)
        assert result.unchanged == len(builtin_entries())

    def test_it_rewrites_an_outdated_entry_and_archives_a_removed_one(self) -> None:
        first = builtin_entries()[0]
        LibraryEntry.objects.filter(key=first.key).update(builtin_version=0, title="Old")
        LibraryEntry.objects.create(
            key="gone-from-package",
            source="builtin",
            title="Gone",
            kind="exercise",
            billing_code="97110",
        )
        result = library_sync()
        assert (result.updated, result.archived) == (1, 1)
        assert LibraryEntry.objects.get(key=first.key).title == first.title
        assert LibraryEntry.objects.get(key="gone-from-package").archived

    def test_the_command_reports_what_it_did(self, capsys: pytest.CaptureFixture[str]) -> None:
        call_command("sync_library")
        assert "0 added, 0 updated, 0 archived" in capsys.readouterr().out

"""The demo clinic's home programs: templates, issued and revised programs, some taught at
the draft notes (billed there) and some waiting on the untaught worklist."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command

from handrail.web.programs.models import Program, ProgramTemplate, ProgramVersion
from handrail.web.visits.models import ServiceLine


@pytest.mark.django_db
class DemoProgramsTests:
    def test_the_demo_has_templates_and_revised_programs(self) -> None:
        out = StringIO()
        call_command("load_demo", stdout=out)
        assert "home programs" in out.getvalue()
        assert ProgramTemplate.objects.count() == 3
        programs = Program.objects.all()
        assert programs.count() >= 3
        assert all(p.version_number == 2 and p.status == "issued" for p in programs)
        taught = ProgramVersion.objects.filter(visit__isnull=False, billable=True)
        assert taught.exists()
        for version in taught:
            assert ServiceLine.objects.filter(
                visit=version.visit, code=version.billing_code, task__contains="Home program"
            ).exists()
        assert programs.filter(needs_teaching=True).exists()
        assert all(
            [c["change"] for c in v.changes if c["change"] == "added"]
            for v in ProgramVersion.objects.filter(number=2)
        )

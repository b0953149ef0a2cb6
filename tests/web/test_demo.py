from __future__ import annotations

from datetime import UTC, date, datetime
from io import StringIO

import pytest
import time_machine
from django.core.management import call_command

from handrail.web.clinic.models import Clinic, Patient, User
from handrail.web.visits.models import Visit


@pytest.mark.django_db
class LoadDemoTests:
    def test_it_loads_the_demo_clinic_once_and_prints_the_logins(self) -> None:
        first = StringIO()
        call_command("load_demo", stdout=first)
        counts = (Patient.objects.count(), Visit.objects.count())
        second = StringIO()
        call_command("load_demo", stdout=second)
        assert Clinic.objects.count() == 1
        assert (Patient.objects.count(), Visit.objects.count()) == counts
        assert counts[0] == 20 and 90 <= counts[1] <= 130
        assert "Demo clinic already loaded; nothing to do." in second.getvalue()
        for username in ("pt", "ot", "ota", "biller", "admin", "frontdesk"):
            assert f"  {username} " in first.getvalue()
        assert sorted(User.objects.values_list("role", flat=True)) == [
            "admin",
            "assistant",
            "biller",
            "front_desk",
            "therapist",
            "therapist",
        ]
        assert Visit.objects.filter(status="draft").count() == 2
        assert Visit.objects.filter(cosigned_by__isnull=False).exists()
        signed = Visit.objects.filter(status="signed")
        assert all(v.allowed_amount is not None and v.allowed_amount > 0 for v in signed)
        years = set(Visit.objects.values_list("date__year", flat=True))
        assert years == {2025, 2026}

    def test_it_dates_the_demo_within_the_shipped_data_after_its_last_year(self) -> None:
        # On 2027-03-01 the shipped data prices nothing after 2026-12-31: the demo stops there.
        with time_machine.travel(datetime(2027, 3, 1, 15, 0, tzinfo=UTC), tick=True):
            call_command("load_demo", stdout=StringIO())
        assert Visit.objects.latest("date").date <= date(2026, 12, 31)
        assert set(Visit.objects.values_list("date__year", flat=True)) == {2025, 2026}
        signed = Visit.objects.filter(status="signed")
        assert signed.exists() and all(v.allowed_amount for v in signed)

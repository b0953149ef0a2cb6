"""Date windows and saturating date arithmetic (handrail.web.dates), and pages that stay up
when a row holds a date no form would accept (inserted straight into the database)."""

from __future__ import annotations

from datetime import date

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from handrail.web.care.models import Authorization, Case, PlanOfCare
from handrail.web.clinic.models import Patient, User
from handrail.web.dates import check_window, days_after
from handrail.web.visits.models import Visit
from tests.web.conftest import World
from tests.web.notes_seed import seed_worklists


class DaysAfterTests:
    @pytest.mark.parametrize(
        ("day", "days", "expected"),
        [
            (date(2026, 11, 16), 90, date(2027, 2, 14)),
            (date(2026, 11, 16), -30, date(2026, 10, 17)),
            (date(9999, 12, 31), 0, date(9999, 12, 31)),
            (date(9999, 12, 31), 1, date.max),
            (date(9999, 10, 3), 90, date.max),
            (date(1, 1, 1), -1, date.min),
        ],
    )
    def test_it_adds_days_and_holds_at_the_calendars_ends(
        self, day: date, days: int, expected: date
    ) -> None:
        assert days_after(day, days) == expected


class CheckWindowTests:
    @pytest.mark.parametrize(
        "value", [date(2000, 1, 1), date(2000, 1, 2), date(2000, 12, 30), date(2000, 12, 31)]
    )
    def test_it_accepts_the_window_and_its_ends(self, value: date) -> None:
        check_window("start_date", value, earliest=date(2000, 1, 1), latest=date(2000, 12, 31))

    def test_it_names_the_field_before_the_window(self) -> None:
        with pytest.raises(ValidationError) as caught:
            check_window(
                "start_date", date(1999, 12, 31), earliest=date(2000, 1, 1), latest=date.max
            )
        assert caught.value.message_dict == {
            "start_date": ["1999-12-31 is before 2000-01-01; check the year."]
        }

    def test_it_names_the_field_after_the_window(self) -> None:
        with pytest.raises(ValidationError) as caught:
            check_window(
                "end_date",
                date(2001, 1, 1),
                earliest=date.min,
                latest=date(2000, 12, 31),
                before=" (never shown)",
                after=" (a year ahead at most)",
            )
        assert caught.value.message_dict == {
            "end_date": ["2001-01-01 is after 2000-12-31 (a year ahead at most); check the year."]
        }


ROLES = ("admin", "pt", "ot", "ota", "biller", "front_desk")
LAST = date(9999, 12, 31)
FIRST = date(1, 1, 1)


def _store_bad_dates(world: World) -> tuple[Visit, Visit]:
    """Rows no service would accept, written with .update() as a careless import would."""
    seeded = seed_worklists(world)
    # The OT plan in effect: certified on the calendar's last day (recertification would be
    # due 90 days later, past date.max); the PT plan starts then (its end is past date.max).
    PlanOfCare.objects.filter(pk=world.ot_plan.pk).update(certified_on=LAST)
    PlanOfCare.objects.filter(pk=seeded.pt_plan.pk).update(start_date=LAST, certified_on=LAST)
    Authorization.objects.filter(pk=seeded.authorization.pk).update(end_date=LAST)
    Case.objects.filter(pk=world.pt_case.pk).update(closed_on=LAST)
    Patient.objects.filter(pk=world.patient.pk).update(birth_date=FIRST)
    Visit.objects.filter(pk=seeded.signed[0].pk).update(date=LAST)
    return seeded.draft, seeded.signed[0]


class StoredBadDateTests:
    @pytest.mark.parametrize("role", ROLES)
    def test_it_keeps_every_page_up_with_a_date_at_the_calendars_end(
        self, world: World, role: str
    ) -> None:
        draft, far = _store_bad_dates(world)
        user: User = getattr(world, role)
        client = world.client_for(user)
        clinical = role != "front_desk"
        pages = {
            reverse("worklists:index"): 200,
            reverse("patient-detail", args=[world.patient.pk]): 200,
            reverse("case-detail", args=[world.ot_case.pk]): 200 if clinical else 403,
            reverse("case-detail", args=[world.pt_case.pk]): 200 if clinical else 403,
            reverse("notes:note", args=[draft.pk]): 200 if clinical else 403,
            reverse("notes:note", args=[far.pk]): 200 if clinical else 403,
            f"/api/visits/{far.pk}": 200 if clinical else 403,
            f"/api/patients/{world.patient.pk}": 200,
            f"/api/cases/{world.ot_case.pk}/counters": 200 if clinical else 403,
            f"/api/cases/{world.pt_case.pk}/counters": 200 if clinical else 403,
        }
        for kind in ("unsigned", "progress-reports", "recertifications", "threshold"):
            pages[reverse("worklists:kind", args=[kind])] = 200 if clinical else 403
        pages[reverse("worklists:kind", args=["authorizations"])] = 200  # front desk too
        answered = {url: client.get(url).status_code for url in pages}
        assert answered == pages

    def test_it_holds_the_recertification_at_the_plans_end(self, world: World) -> None:
        _store_bad_dates(world)
        response = world.client_for(world.ot).get(f"/api/cases/{world.ot_case.pk}/counters")
        # min(9999-12-31 + 90 days held at date.max, the plan's end after 8 weeks)
        assert response.json()["recertification_due"] == "2026-12-22"
        assert response.json()["days_since_certification"] is None

"""Worklist pages (handrail.web.worklists): what each list holds, who sees what, and the
authorization forecast."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.urls import reverse

from handrail.web.care.services import authorization_create, authorization_end, case_close
from handrail.web.visits.models import Visit
from handrail.web.worklists.selectors import (
    ACTIVE_VISIT_DAYS,
    authorization_forecast,
    authorizations_running_out,
    open_cases,
    progress_reports_due,
    recertifications_due,
    threshold_nearing,
    unsigned_notes,
)
from tests.web.conftest import World
from tests.web.notes_seed import seed_worklists


class WorklistForecastTests:
    @pytest.mark.parametrize(
        ("left", "per_week", "expected", "by_visits"),
        [
            (3, 2, date(2026, 3, 12), True),  # ceil(21 / 2) = 11 days
            (4, 2, date(2026, 3, 15), True),  # 14 days
            (1, 3, date(2026, 3, 4), True),  # ceil(7 / 3) = 3 days
            (0, 2, date(2026, 3, 1), True),  # used up today
            (-2, 2, date(2026, 3, 1), True),  # over-used: still today
            (20, 2, date(2026, 3, 31), False),  # the end date comes first
            (3, None, date(2026, 3, 31), False),  # no plan frequency: the end date
        ],
    )
    def test_it_forecasts_the_run_out_date(
        self, left: int, per_week: int | None, expected: date, by_visits: bool
    ) -> None:
        assert authorization_forecast(
            visits_left=left,
            frequency_per_week=per_week,
            today=date(2026, 3, 1),
            end_date=date(2026, 3, 31),
        ) == (expected, by_visits)


class WorklistPageSelectorTests:
    def test_it_lists_the_unsigned_draft_for_its_therapist_and_the_biller(
        self, world: World
    ) -> None:
        seeded = seed_worklists(world)
        assert unsigned_notes(user=world.ot) == [seeded.draft]
        assert unsigned_notes(user=world.biller) == [seeded.draft]
        assert unsigned_notes(user=world.pt) == []

    def test_it_counts_treatment_days_towards_the_progress_report(self, world: World) -> None:
        seed_worklists(world)
        rows = progress_reports_due(user=world.biller, today=world.today)
        assert [(r.case, r.treatment_days, r.due, r.days_to_go) for r in rows] == [
            (world.ot_case, 9, False, 1)
        ]
        assert progress_reports_due(user=world.pt, today=world.today) == []

    def test_it_lists_a_plan_awaiting_certification(self, world: World) -> None:
        seeded = seed_worklists(world)
        rows = recertifications_due(user=world.biller, today=world.today)
        assert [(r.plan, r.kind, r.due, r.days_left) for r in rows] == [
            (seeded.pt_plan, "certification", world.today + timedelta(days=10), 10)
        ]

    def test_it_forecasts_the_authorization_at_the_plans_frequency(self, world: World) -> None:
        seeded = seed_worklists(world)
        rows = authorizations_running_out(user=world.biller, today=world.today)
        assert len(rows) == 1
        row = rows[0]
        assert row.authorization == seeded.authorization
        # 12 authorized, 9 used; at 2 a week the 3 left last ceil(21 / 2) = 11 days.
        assert (row.visits_used, row.visits_left, row.frequency_per_week) == (9, 3, 2)
        assert (row.runs_out_on, row.by_visits, row.days_left) == (
            world.today + timedelta(days=11),
            True,
            11,
        )
        assert row.units_used == 16  # 8 signed visits x 2 units (30 min of 97535)

    def test_it_lists_the_patient_nearing_the_ot_threshold(self, world: World) -> None:
        seed_worklists(world)
        rows = threshold_nearing(user=world.biller, today=world.today)
        assert [(r.patient, r.group, r.accrued, r.nearing, r.over) for r in rows] == [
            (world.patient, "OT", Decimal("2100.00"), False, False)
        ]

    def test_it_keeps_other_clinics_out(self, world: World) -> None:
        seed_worklists(world)
        assert unsigned_notes(user=world.outsider) == []
        assert authorizations_running_out(user=world.outsider, today=world.today) == []
        assert threshold_nearing(user=world.outsider, today=world.today) == []


class WorklistPageTests:
    def test_it_shows_the_biller_every_list(self, world: World) -> None:
        seeded = seed_worklists(world)
        response = world.client_for(world.biller).get(reverse("worklists:index"))
        assert response.status_code == 200
        html = response.content.decode()
        for section in ("unsigned", "progress", "recerts", "authorizations", "threshold"):
            assert f'id="wl-{section}"' in html
        assert reverse("notes:note", kwargs={"visit_id": seeded.draft.pk}) in html
        runs_out = world.today + timedelta(days=11)
        assert (
            f"At 2 visits a week this runs out on <strong>{runs_out:%a %Y-%m-%d}</strong>"
        ) in html
        assert "$2,100.00 of $2,480.00 (84%)" in html

    def test_it_shows_the_front_desk_only_authorizations(self, world: World) -> None:
        seed_worklists(world)
        client = world.client_for(world.front_desk)
        html = client.get(reverse("worklists:index")).content.decode()
        assert 'id="wl-authorizations"' in html
        assert 'id="wl-unsigned"' not in html
        response = client.get(reverse("worklists:kind", kwargs={"kind": "unsigned"}))
        assert response.status_code == 403

    def test_it_shows_one_list_and_404s_an_unknown_one(self, world: World) -> None:
        seed_worklists(world)
        client = world.client_for(world.ot)
        html = client.get(reverse("worklists:kind", kwargs={"kind": "unsigned"})).content.decode()
        assert 'id="wl-unsigned"' in html
        assert 'id="wl-threshold"' not in html
        response = client.get(reverse("worklists:kind", kwargs={"kind": "nope"}))
        assert response.status_code == 404


class WorklistAuthorizationStatusTests:
    def test_it_lists_an_authorization_used_up_by_units(self, world: World) -> None:
        seeded = seed_worklists(world)
        seeded.authorization.units_authorized = 16  # 8 signed visits x 2 units: all used
        seeded.authorization.save()
        rows = authorizations_running_out(user=world.biller, today=world.today)
        assert [(r.authorization, r.status, r.runs_out_on, r.visits_left) for r in rows] == [
            (seeded.authorization, "exhausted", world.today, 3)
        ]
        html = (
            world.client_for(world.front_desk)
            .get(reverse("worklists:kind", kwargs={"kind": "authorizations"}))
            .content.decode()
        )
        assert "No units left" in html

    def test_it_lists_an_expired_authorization_of_a_case_in_treatment(self, world: World) -> None:
        seeded = seed_worklists(world)
        ended = world.today - timedelta(days=1)
        authorization_end(user=world.biller, authorization=seeded.authorization, ended_on=ended)
        rows = authorizations_running_out(user=world.biller, today=world.today)
        assert [(r.authorization, r.status, r.runs_out_on, r.days_left) for r in rows] == [
            (seeded.authorization, "expired", ended, -1)
        ]
        html = world.client_for(world.biller).get(reverse("worklists:index")).content.decode()
        assert f"Expired on {ended:%a %Y-%m-%d}</span>; no authorization covers today" in html

    def test_it_drops_an_expired_authorization_once_a_new_one_covers_today(
        self, world: World
    ) -> None:
        seeded = seed_worklists(world)
        authorization_end(
            user=world.biller,
            authorization=seeded.authorization,
            ended_on=world.today - timedelta(days=1),
        )
        authorization_create(
            user=world.biller,
            case=world.ot_case,
            payer=world.medicare,
            visits_authorized=20,
            start_date=world.today,
            end_date=world.today + timedelta(days=90),
        )
        assert authorizations_running_out(user=world.biller, today=world.today) == []


class WorklistRecertificationTests:
    def test_it_lists_an_overdue_recertification_without_recent_visits(self, world: World) -> None:
        # The OT plan (8 weeks from 20 days ago) seen 150 days later: its end passed long ago
        # and nobody has visited for months, but the case is still open.
        later = world.today + timedelta(days=150)
        rows = recertifications_due(user=world.biller, today=later)
        due = world.ot_plan.start_date + timedelta(weeks=8)
        assert [(r.plan, r.kind, r.due, r.days_left) for r in rows] == [
            (world.ot_plan, "recertification", due, (due - later).days)
        ]

    def test_it_leaves_out_a_discharged_case(self, world: World) -> None:
        case_close(
            user=world.ot, case=world.ot_case, closed_on=world.today, discharge_reason="Moved"
        )
        later = world.today + timedelta(days=150)
        assert recertifications_due(user=world.biller, today=later) == []


class WorklistRecentVisitTests:
    def test_a_case_is_recent_through_the_thirtieth_day_after_its_latest_visit(
        self, world: World
    ) -> None:
        """A case counts as seen recently while its latest visit is at most
        ACTIVE_VISIT_DAYS days old, that day included; a visit dated after the day asked
        counts too."""
        seed_worklists(world)
        latest = Visit.objects.filter(case=world.ot_case).order_by("-date").first()
        assert latest is not None

        def recent_on(day: date) -> bool:
            return world.ot_case.pk in open_cases(user=world.biller, today=day).recent

        assert recent_on(latest.date + timedelta(days=ACTIVE_VISIT_DAYS))
        assert not recent_on(latest.date + timedelta(days=ACTIVE_VISIT_DAYS + 1))
        assert recent_on(latest.date - timedelta(days=5))

"""Worklist pages (handrail.web.worklists): what each list holds, who sees what, and the
authorization forecast."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.urls import reverse

from handrail.web.worklists.selectors import (
    authorization_forecast,
    authorizations_running_out,
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

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from handrail.web.care.services import GoalInput, authorization_create, plan_of_care_create
from handrail.web.visits.models import Visit
from handrail.web.visits.worklists import (
    worklist_authorizations,
    worklist_certifications,
    worklist_progress_reports,
    worklist_threshold,
    worklist_unsigned,
)
from tests.web.conftest import World


def _visit(world: World, case: object, day: date, **fields: object) -> Visit:
    clinician = fields.pop("clinician", world.ot if case is world.ot_case else world.pt)
    return Visit.objects.create(
        clinic=world.clinic, case=case, date=day, clinician=clinician, **fields
    )


def _sign(visit: Visit, world: World, allowed: str = "0") -> None:
    visit.status = "signed"
    visit.signed_by = visit.clinician
    visit.signed_at = visit.created_at
    visit.allowed_amount = Decimal(allowed)
    visit.save()


class WorklistTests:
    def test_it_lists_drafts_then_assistant_notes_awaiting_cosign(self, world: World) -> None:
        draft = _visit(world, world.ot_case, world.today - timedelta(days=3))
        by_assistant = _visit(
            world, world.ot_case, world.today - timedelta(days=2), clinician=world.ota
        )
        _sign(by_assistant, world)
        done = _visit(world, world.ot_case, world.today - timedelta(days=1))
        _sign(done, world)
        assert worklist_unsigned(user=world.biller) == [draft, by_assistant]

    def test_it_lists_cases_nearing_a_progress_report(self, world: World) -> None:
        start = world.today - timedelta(days=19)
        _visit(world, world.ot_case, start, visit_type="evaluation")
        for offset in range(1, 9):
            _visit(world, world.ot_case, start + timedelta(days=2 * offset))
        due = worklist_progress_reports(user=world.ot, on=world.today)
        assert [(item.case, item.counters.treatment_days_since_report) for item in due] == [
            (world.ot_case, 8)
        ]

    def test_it_lists_uncertified_plans_with_their_due_date(self, world: World) -> None:
        start = world.today - timedelta(days=20)
        plan = plan_of_care_create(
            user=world.pt,
            case=world.pt_case,
            diagnoses=["M17.11"],
            goals=[GoalInput("Climbs 12 stairs with one rail", start + timedelta(weeks=6))],
            frequency_per_week=2,
            duration_weeks=6,
            start_date=start,
        )
        items = worklist_certifications(user=world.pt, on=world.today)
        assert [(i.plan, i.kind, i.due, i.overdue) for i in items] == [
            (plan, "certification", start + timedelta(days=30), False)
        ]

    def test_it_forecasts_when_an_authorization_runs_out(self, world: World) -> None:
        start = world.today - timedelta(days=20)
        authorization = authorization_create(
            user=world.biller,
            case=world.ot_case,
            payer=world.commercial,
            visits_authorized=5,
            start_date=start,
            end_date=world.today + timedelta(days=40),
        )
        for offset in (1, 5, 9):
            _visit(world, world.ot_case, start + timedelta(days=offset))
        [status] = worklist_authorizations(user=world.biller, on=world.today)
        assert status.authorization == authorization
        assert (status.visits_used, status.visits_left, status.frequency_per_week) == (3, 2, 2)
        assert status.runs_out_on == world.today + timedelta(days=7)
        assert status.reason == (
            f"at 2 visits a week the 2 visits left run out on {status.runs_out_on.isoformat()}"
        )

    def test_it_lists_patients_nearing_the_threshold(self, world: World) -> None:
        for number, allowed in enumerate(("1200.00", "800.50")):
            visit = _visit(world, world.ot_case, date(2026, 3, 2 + number))
            _sign(visit, world, allowed)
        [standing] = worklist_threshold(user=world.biller, year=2026)
        assert (standing.patient, standing.group, standing.accrued) == (
            world.patient,
            "OT",
            Decimal("2000.50"),
        )
        assert (standing.threshold, standing.over_threshold) == (Decimal("2480"), False)
        assert worklist_threshold(user=world.biller, year=2031) == []

"""Test data for the note page and the worklists, built through the services on top of the
shared `world` personas (tests/web/conftest.py)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from handrail.web.care.models import Authorization, PlanOfCare
from handrail.web.care.services import GoalInput, authorization_create, plan_of_care_create
from handrail.web.visits.models import Visit
from handrail.web.visits.services import service_line_add, visit_create, visit_sign
from tests.web.conftest import World

GOOD_NOTE = {
    "baseline": "Needs moderate assistance and 6 verbal cues to don a pullover shirt.",
    "task": "Upper-body dressing: pullover shirt seated at the edge of the bed.",
    "technique": "One-handed dressing method, weak arm into the sleeve first.",
    "skilled": "Left neglect after stroke needs graded cues and task breakdown for safety.",
    "performance": "Donned the shirt with minimal assistance and 2 verbal cues.",
}
SIGNED_VISITS = 8  # OT treatment days before the draft: 8 + the draft = day 9 of 10
# Allowed amount per signed visit, so the year's OT total is 8 x 262.50 = $2,100.00 (84.7%
# of the 2026 OT threshold of $2,480): on the "nearing the threshold" list.
ALLOWED_PER_VISIT = Decimal("262.50")


@dataclass
class Seeded:
    signed: list[Visit]
    draft: Visit
    authorization: Authorization
    pt_plan: PlanOfCare


def seed_worklists(world: World) -> Seeded:
    signed = []
    for days_ago in range(19, 19 - SIGNED_VISITS, -1):
        visit = visit_create(
            user=world.ot, case=world.ot_case, date=world.today - timedelta(days=days_ago)
        )
        service_line_add(
            user=world.ot, visit=visit, code="97535", therapist_minutes=30, **GOOD_NOTE
        )
        signed.append(visit_sign(user=world.ot, visit=visit))
    # Stands in for a year of earlier visits: the accrual feeds only the threshold list.
    Visit.objects.filter(pk__in=[v.pk for v in signed]).update(allowed_amount=ALLOWED_PER_VISIT)
    draft = visit_create(user=world.ot, case=world.ot_case, date=world.today - timedelta(days=2))
    service_line_add(user=world.ot, visit=draft, code="97535", therapist_minutes=20)
    authorization = authorization_create(
        user=world.biller,
        case=world.ot_case,
        payer=world.medicare,
        visits_authorized=12,
        units_authorized=30,
        start_date=world.today - timedelta(days=20),
        end_date=world.today + timedelta(days=40),
        number="AUTH-77120",
    )
    pt_plan = plan_of_care_create(
        user=world.pt,
        case=world.pt_case,
        diagnoses=["Z47.1"],
        goals=[GoalInput("Walks 150 ft with a cane", world.today + timedelta(weeks=4))],
        frequency_per_week=3,
        duration_weeks=6,
        start_date=world.today - timedelta(days=20),
    )
    return Seeded(signed=signed, draft=draft, authorization=authorization, pt_plan=pt_plan)

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.core.exceptions import ValidationError

from handrail.web.care.models import PlanOfCare
from handrail.web.care.services import (
    GoalInput,
    authorization_create,
    case_close,
    plan_of_care_create,
)
from tests.web.conftest import World


def _plan(world: World, **overrides: object) -> PlanOfCare:
    start = world.today - timedelta(days=10)
    arguments: dict[str, object] = {
        "user": world.pt,
        "case": world.pt_case,
        "diagnoses": ["M17.11"],
        "goals": [GoalInput("Climbs 12 stairs with one rail", start + timedelta(weeks=6))],
        "frequency_per_week": 3,
        "duration_weeks": 16,
        "start_date": start,
    }
    arguments.update(overrides)
    return plan_of_care_create(**arguments)  # type: ignore[arg-type]


class PlanOfCareCreateTests:
    def test_it_refuses_a_non_billable_code_naming_its_position(self, world: World) -> None:
        with pytest.raises(ValidationError) as caught:
            _plan(world, diagnoses=["M17.11", "M17"])
        assert caught.value.message_dict == {
            "diagnoses": [
                "diagnoses[1]: M17 is a category, not a billable code; "
                "pick a more specific code under it"
            ]
        }
        assert PlanOfCare.objects.filter(case=world.pt_case).count() == 0

    def test_it_refuses_an_unknown_code(self, world: World) -> None:
        with pytest.raises(ValidationError) as caught:
            _plan(world, diagnoses=["Q99.999"])
        assert "is not in ICD-10-CM FY2026" in caught.value.message_dict["diagnoses"][0]

    def test_it_refuses_a_goal_dated_before_the_plan(self, world: World) -> None:
        with pytest.raises(ValidationError) as caught:
            _plan(world, goals=[GoalInput("Walks 300 feet", date(2020, 1, 1))])
        assert list(caught.value.message_dict) == ["goals"]

    def test_it_refuses_a_plan_for_another_discipline(self, world: World) -> None:
        with pytest.raises(ValidationError) as caught:
            _plan(world, user=world.ot)
        assert list(caught.value.message_dict) == ["case"]

    def test_it_sets_recertification_90_days_after_certification(self, world: World) -> None:
        certified = world.today - timedelta(days=8)
        plan = _plan(world, certified_on=certified, certifier_name="Dr. Synthetic")
        assert plan.recertification_due == certified + timedelta(days=90)
        assert plan.diagnoses == ["M17.11"]


class CaseAndAuthorizationTests:
    def test_it_refuses_an_authorization_ending_before_it_starts(self, world: World) -> None:
        with pytest.raises(ValidationError) as caught:
            authorization_create(
                user=world.biller,
                case=world.pt_case,
                payer=world.commercial,
                visits_authorized=10,
                start_date=world.today,
                end_date=world.today - timedelta(days=1),
            )
        assert list(caught.value.message_dict) == ["end_date"]

    def test_it_closes_a_case_but_not_in_the_future(self, world: World) -> None:
        with pytest.raises(ValidationError) as caught:
            case_close(
                user=world.pt, case=world.pt_case, closed_on=world.today + timedelta(days=1)
            )
        assert list(caught.value.message_dict) == ["closed_on"]
        case = case_close(user=world.pt, case=world.pt_case, closed_on=world.today)
        assert case.closed_on == world.today

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from handrail.web.audit.models import AuditEvent
from handrail.web.care.models import Authorization, PlanOfCare
from handrail.web.care.services import (
    GoalInput,
    authorization_create,
    authorization_end,
    authorization_update,
    case_close,
    case_create,
    plan_of_care_certify,
    plan_of_care_create,
)
from handrail.web.visits.models import Visit
from handrail.web.visits.services import visit_create
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


class PlanOfCareCertifyTests:
    def _uncertified(self, world: World) -> PlanOfCare:
        return _plan(world)

    def test_it_refuses_a_therapist_of_another_discipline(self, world: World) -> None:
        plan = self._uncertified(world)
        with pytest.raises(PermissionDenied) as caught:
            plan_of_care_certify(
                user=world.ot, plan=plan, certified_on=world.today, certifier_name="Dr. X"
            )
        assert str(caught.value) == (
            "This is a PT plan; only a PT therapist can record its certification."
        )
        plan.refresh_from_db()
        assert plan.certified_on is None

    def test_it_never_overwrites_a_recorded_certification(self, world: World) -> None:
        first = world.ot_plan.certified_on
        with pytest.raises(ValidationError) as caught:
            plan_of_care_certify(
                user=world.ot,
                plan=world.ot_plan,
                certified_on=world.today,
                certifier_name="Dr. Other",
            )
        assert caught.value.message_dict == {
            "certified_on": [
                f"This plan was certified on {first.isoformat()} by Dr. Synthetic; to "
                "recertify, establish the updated plan and record its certification."
            ]
        }
        world.ot_plan.refresh_from_db()
        assert (world.ot_plan.certified_on, world.ot_plan.certifier_name) == (
            first,
            "Dr. Synthetic",
        )

    @pytest.mark.parametrize(
        ("offset", "accepted"), [(-11, False), (-10, True), (0, True), (1, False)]
    )
    def test_it_dates_the_certification_from_the_plans_start_to_today(
        self, world: World, offset: int, accepted: bool
    ) -> None:
        plan = self._uncertified(world)  # starts 10 days ago
        day = world.today + timedelta(days=offset)
        if accepted:
            certified = plan_of_care_certify(
                user=world.pt, plan=plan, certified_on=day, certifier_name="Dr. Synthetic"
            )
            assert certified.certified_on == day
        else:
            with pytest.raises(ValidationError) as caught:
                plan_of_care_certify(
                    user=world.pt, plan=plan, certified_on=day, certifier_name="Dr. Synthetic"
                )
            assert list(caught.value.message_dict) == ["certified_on"]


class PlanOfCareDateTests:
    @pytest.mark.parametrize(
        ("start", "accepted"),
        [
            (date(1948, 5, 1), False),  # the patient was born on 1948-05-02
            (date(1948, 5, 2), True),
            (date(2027, 11, 17), True),  # today + 366 days
            (date(2027, 11, 18), False),
        ],
    )
    def test_it_starts_the_plan_from_the_patients_birth_to_a_year_ahead(
        self, world: World, start: date, accepted: bool
    ) -> None:
        goals = [GoalInput("Climbs 12 stairs", start + timedelta(weeks=4))]
        if accepted:
            assert _plan(world, start_date=start, goals=goals).start_date == start
        else:
            with pytest.raises(ValidationError) as caught:
                _plan(world, start_date=start, goals=goals)
            assert list(caught.value.message_dict) == ["start_date"]

    def test_it_refuses_a_goal_more_than_two_years_out(self, world: World) -> None:
        start = world.today - timedelta(days=10)
        with pytest.raises(ValidationError) as caught:
            _plan(world, goals=[GoalInput("Walks 300 feet", start + timedelta(days=732))])
        assert caught.value.message_dict == {
            "goals": [
                f"goals[0]: {(start + timedelta(days=732)).isoformat()} is more than two "
                "years after the plan starts; check the year"
            ]
        }
        plan = _plan(world, goals=[GoalInput("Walks 300 feet", start + timedelta(days=731))])
        assert plan.goals.get().target_date == start + timedelta(days=731)


class CaseCreateTests:
    def test_it_refuses_an_opening_before_the_patients_birth(self, world: World) -> None:
        with pytest.raises(ValidationError) as caught:
            case_create(
                user=world.pt,
                patient=world.patient,
                discipline="PT",
                title="Knee",
                opened_on=date(1948, 5, 1),
            )
        assert caught.value.message_dict == {
            "opened_on": [
                "1948-05-01 is before 1948-05-02 (the patient's birth date); check the year."
            ]
        }

    def test_it_refuses_an_opening_more_than_a_year_ahead(self, world: World) -> None:
        day = world.today + timedelta(days=367)
        with pytest.raises(ValidationError) as caught:
            case_create(
                user=world.pt, patient=world.patient, discipline="PT", title="Knee", opened_on=day
            )
        assert list(caught.value.message_dict) == ["opened_on"]
        ahead = world.today + timedelta(days=366)
        case = case_create(
            user=world.pt, patient=world.patient, discipline="PT", title="Knee", opened_on=ahead
        )
        assert case.opened_on == ahead


class CaseCloseTests:
    def test_it_closes_a_case_but_not_in_the_future(self, world: World) -> None:
        with pytest.raises(ValidationError) as caught:
            case_close(
                user=world.pt,
                case=world.pt_case,
                closed_on=world.today + timedelta(days=1),
                discharge_reason="Goals met",
            )
        assert list(caught.value.message_dict) == ["closed_on"]
        case = case_close(
            user=world.pt,
            case=world.pt_case,
            closed_on=world.today,
            discharge_reason=" Goals met ",
        )
        assert (case.closed_on, case.discharge_reason) == (world.today, "Goals met")
        event = AuditEvent.objects.filter(object_type="case", action="update").latest("id")
        assert event.detail == f"discharged on {world.today.isoformat()}: Goals met"

    def test_it_needs_a_reason(self, world: World) -> None:
        with pytest.raises(ValidationError) as caught:
            case_close(
                user=world.pt, case=world.pt_case, closed_on=world.today, discharge_reason="  "
            )
        assert list(caught.value.message_dict) == ["discharge_reason"]
        world.pt_case.refresh_from_db()
        assert world.pt_case.closed_on is None

    def test_it_refuses_a_discharge_before_the_last_visit(self, world: World) -> None:
        visit_create(user=world.ot, case=world.ot_case, date=world.today - timedelta(days=3))
        with pytest.raises(ValidationError) as caught:
            case_close(
                user=world.ot,
                case=world.ot_case,
                closed_on=world.today - timedelta(days=4),
                discharge_reason="Goals met",
            )
        assert caught.value.message_dict == {
            "closed_on": [
                f"The case has a visit on {(world.today - timedelta(days=3)).isoformat()}; "
                "discharge it on that day or later."
            ]
        }
        case = case_close(
            user=world.ot,
            case=world.ot_case,
            closed_on=world.today - timedelta(days=3),
            discharge_reason="Goals met",
        )
        assert case.closed_on == world.today - timedelta(days=3)

    def test_it_refuses_a_second_discharge(self, world: World) -> None:
        case_close(
            user=world.pt, case=world.pt_case, closed_on=world.today, discharge_reason="Moved"
        )
        with pytest.raises(ValidationError) as caught:
            case_close(
                user=world.pt,
                case=world.pt_case,
                closed_on=world.today,
                discharge_reason="Goals met",
            )
        assert caught.value.message_dict == {
            "closed_on": [f"The case was already discharged on {world.today.isoformat()}."]
        }

    @pytest.mark.parametrize("role", ["biller", "front_desk"])
    def test_it_refuses_roles_that_do_not_treat(self, world: World, role: str) -> None:
        with pytest.raises(PermissionDenied):
            case_close(
                user=getattr(world, role),
                case=world.pt_case,
                closed_on=world.today,
                discharge_reason="Goals met",
            )

    @pytest.mark.parametrize(("offset", "accepted"), [(-1, True), (0, True), (1, False)])
    def test_it_refuses_a_visit_after_the_discharge(
        self, world: World, offset: int, accepted: bool
    ) -> None:
        closed = world.today - timedelta(days=5)
        case_close(user=world.ot, case=world.ot_case, closed_on=closed, discharge_reason="Moved")
        world.ot_case.refresh_from_db()
        day = closed + timedelta(days=offset)
        if accepted:
            assert visit_create(user=world.ot, case=world.ot_case, date=day).date == day
        else:
            with pytest.raises(ValidationError) as caught:
                visit_create(user=world.ot, case=world.ot_case, date=day)
            assert caught.value.message_dict == {
                "date": [
                    f"The case was discharged on {closed.isoformat()}; date the visit on or "
                    "before that day, or open a new case."
                ]
            }
            assert not Visit.objects.filter(date=day).exists()


def _authorization(world: World, **overrides: object) -> Authorization:
    arguments: dict[str, object] = {
        "user": world.biller,
        "case": world.pt_case,
        "payer": world.commercial,
        "visits_authorized": 10,
        "start_date": world.today - timedelta(days=5),
        "end_date": world.today + timedelta(days=55),
    }
    arguments.update(overrides)
    return authorization_create(**arguments)  # type: ignore[arg-type]


class AuthorizationServiceTests:
    def test_it_refuses_an_authorization_ending_before_it_starts(self, world: World) -> None:
        with pytest.raises(ValidationError) as caught:
            _authorization(world, start_date=world.today, end_date=world.today - timedelta(1))
        assert caught.value.message_dict == {
            "end_date": ["The authorization ends before it starts."]
        }

    @pytest.mark.parametrize(
        ("start", "end", "field"),
        [
            (date(1899, 12, 31), date(1900, 3, 1), "start_date"),
            (date(2027, 11, 18), date(2027, 12, 1), "start_date"),  # today + 367
            (date(2026, 1, 1), date(2028, 1, 3), "end_date"),  # start + 732 days
        ],
    )
    def test_it_refuses_dates_outside_the_window(
        self, world: World, start: date, end: date, field: str
    ) -> None:
        with pytest.raises(ValidationError) as caught:
            _authorization(world, start_date=start, end_date=end)
        assert list(caught.value.message_dict) == [field]
        assert not Authorization.objects.exists()

    @pytest.mark.parametrize(
        ("start", "end"),
        [
            (date(1900, 1, 1), date(1900, 1, 1)),
            (date(2027, 11, 17), date(2027, 11, 17)),  # today + 366
            (date(2026, 1, 1), date(2028, 1, 2)),  # start + 731 days
        ],
    )
    def test_it_accepts_the_windows_ends(self, world: World, start: date, end: date) -> None:
        authorization = _authorization(world, start_date=start, end_date=end)
        assert (authorization.start_date, authorization.end_date) == (start, end)

    def test_it_refuses_an_assistant(self, world: World) -> None:
        with pytest.raises(PermissionDenied):
            _authorization(world, user=world.ota)

    def test_it_refuses_another_clinics_payer(self, world: World) -> None:
        from handrail.web.clinic.services import payer_create

        foreign = payer_create(clinic=world.other_clinic, name="Far", type="commercial")
        with pytest.raises(ValidationError) as caught:
            _authorization(world, payer=foreign)
        assert list(caught.value.message_dict) == ["payer"]

    def test_it_changes_fields_and_audits_old_and_new(self, world: World) -> None:
        authorization = _authorization(world, number="A-1")
        changed = authorization_update(
            user=world.front_desk,
            authorization=authorization,
            visits_authorized=14,
            units_authorized=40,
            number=" A-2 ",
        )
        assert (changed.visits_authorized, changed.units_authorized, changed.number) == (
            14,
            40,
            "A-2",
        )
        event = AuditEvent.objects.filter(object_type="authorization").latest("id")
        assert event.detail == (
            "changed visits_authorized 10 -> 14; units_authorized (none) -> 40; number A-1 -> A-2"
        )

    def test_it_refuses_an_unknown_field_and_saves_nothing(self, world: World) -> None:
        authorization = _authorization(world)
        with pytest.raises(ValidationError) as caught:
            authorization_update(
                user=world.biller, authorization=authorization, visits=3, number="X"
            )
        assert caught.value.message_dict == {"visits": ["Unknown authorization field."]}
        authorization.refresh_from_db()
        assert authorization.number == ""

    def test_it_refuses_a_change_that_breaks_the_dates(self, world: World) -> None:
        authorization = _authorization(world)
        with pytest.raises(ValidationError) as caught:
            authorization_update(
                user=world.biller, authorization=authorization, end_date=date(9999, 12, 31)
            )
        assert list(caught.value.message_dict) == ["end_date"]
        authorization.refresh_from_db()
        assert authorization.end_date == world.today + timedelta(days=55)

    @pytest.mark.parametrize(
        ("offset", "accepted"), [(-6, False), (-5, True), (54, True), (55, False)]
    )
    def test_it_ends_an_authorization_early(
        self, world: World, offset: int, accepted: bool
    ) -> None:
        authorization = _authorization(world)
        day = world.today + timedelta(days=offset)
        if accepted:
            ended = authorization_end(user=world.biller, authorization=authorization, ended_on=day)
            assert ended.end_date == day
        else:
            with pytest.raises(ValidationError) as caught:
                authorization_end(user=world.biller, authorization=authorization, ended_on=day)
            assert list(caught.value.message_dict) == ["ended_on"]
            authorization.refresh_from_db()
            assert authorization.end_date == world.today + timedelta(days=55)

"""The therapy threshold crossing forecast (handrail.web.worklists.selectors): the arithmetic,
the words, the worklist rows built from signed visits and the patient page block.

Visits are signed through the services (visit_sign stores the engine's allowed amount); the
amounts are then pinned to round figures so the expected averages and dates do not move with
the fee schedule. The 2026 threshold is $2,480 (PT+SLP and OT each).
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.template.loader import render_to_string
from django.urls import reverse

from handrail.web.care.models import Case
from handrail.web.care.services import GoalInput, case_create, plan_of_care_create
from handrail.web.clinic.models import Patient, User
from handrail.web.clinic.services import coverage_set, patient_create, user_create
from handrail.web.visits.models import Visit
from handrail.web.visits.services import service_line_add, visit_create, visit_sign
from handrail.web.worklists.selectors import (
    ForecastKind,
    ThresholdForecast,
    ThresholdRow,
    date_of_visit,
    patient_threshold,
    threshold_forecast,
    threshold_nearing,
)
from tests.web.conftest import PASSWORD, World
from tests.web.notes_seed import GOOD_NOTE

TODAY = date(2026, 10, 1)  # a Thursday
AMOUNT = Decimal("2480")  # 2026 (CMS CR 14252)
DIAGNOSIS = {"PT": "Z47.1", "SLP": "R47.01", "OT": "I69.351"}
CODE = {"PT": "97110", "SLP": "92507", "OT": "97535"}


def _patient(world: World, first_name: str) -> Patient:
    patient = patient_create(
        user=world.front_desk,
        first_name=first_name,
        last_name="Forecast",
        birth_date=date(1949, 3, 14),
        zip="62701",
    )
    coverage_set(user=world.front_desk, patient=patient, payer=world.medicare, member_id="1EG4")
    return patient


def _case(therapist: User, patient: Patient, opened_on: date = date(2026, 6, 1)) -> Case:
    return case_create(
        user=therapist,
        patient=patient,
        discipline=therapist.discipline,
        title=f"{therapist.discipline} episode",
        opened_on=opened_on,
    )


def _plan(therapist: User, case: Case, per_week: int, start: date, weeks: int) -> None:
    plan_of_care_create(
        user=therapist,
        case=case,
        diagnoses=[DIAGNOSIS[case.discipline]],
        goals=[GoalInput("Walks 150 ft with a cane", start + timedelta(weeks=weeks))],
        frequency_per_week=per_week,
        duration_weeks=weeks,
        start_date=start,
    )


def _sign(therapist: User, case: Case, allowed: dict[date, str]) -> list[Visit]:
    """Sign one visit a date, then pin its allowed amount."""
    visits = []
    for day, amount in allowed.items():
        visit = visit_create(user=therapist, case=case, date=day)
        service_line_add(
            user=therapist,
            visit=visit,
            code=CODE[case.discipline],
            therapist_minutes=30,
            **GOOD_NOTE,
        )
        visit = visit_sign(user=therapist, visit=visit, reason="Test history")
        Visit.objects.filter(pk=visit.pk).update(allowed_amount=Decimal(amount))
        visits.append(visit)
    return visits


def _row(rows: list[ThresholdRow], patient: Patient, group: str = "PT/SLP") -> ThresholdRow:
    found = [r for r in rows if r.patient == patient and r.group == group]
    assert len(found) == 1, [(r.patient, r.group) for r in rows]
    return found[0]


def _slp_therapist(world: World) -> User:
    return user_create(
        clinic=world.clinic,
        username="sam",
        password=PASSWORD,
        role="therapist",
        discipline="SLP",
        first_name="Sam",
        last_name="Test",
    )


class ThresholdForecastArithmeticTests:
    @pytest.mark.parametrize(
        ("accrued", "visits", "per_week", "today", "expected"),
        [
            # avg 250.00; 2000 + 2 x 250 = 2500 > 2480 (1 visit: 2250); ceil(14 / 2) = 7 days
            ("2000", 8, 2, TODAY, ("crosses", 2, "250.00", 2, date(2026, 10, 8))),
            # exactly at the amount is not over: one more visit crosses; ceil(7 / 2) = 4 days
            ("2480", 10, 2, TODAY, ("crosses", 2, "248.00", 1, date(2026, 10, 5))),
            # avg 333.33 (to the cent): 1000 + 5 x 333.33 = 2666.65; ceil(35 / 3) = 12 days
            ("1000", 3, 3, TODAY, ("crosses", 3, "333.33", 5, date(2026, 10, 13))),
            # the crossing visit on Dec 31 is still this year
            ("2000", 8, 2, date(2026, 12, 24), ("crosses", 2, "250.00", 2, date(2026, 12, 31))),
            # at 1 a week the same 2 visits take 14 days: Jan 7, after the reset
            ("2000", 8, 1, date(2026, 12, 24), ("next-year", 1, "250.00", 2, date(2027, 1, 7))),
            ("0", 3, 2, TODAY, ("zero-average", 2, "0.00", 0, None)),
            ("0.01", 3, 2, TODAY, ("zero-average", 2, "0.00", 0, None)),  # rounds to $0.00
            ("0", 0, 2, TODAY, ("no-visits", 2, "0.00", 0, None)),
            ("2000", 8, 0, TODAY, ("no-plan", 0, "0.00", 0, None)),
        ],
    )
    def test_it_forecasts_visits_left_and_the_crossing_date(
        self,
        accrued: str,
        visits: int,
        per_week: int,
        today: date,
        expected: tuple[str, int, str, int, date | None],
    ) -> None:
        forecast = threshold_forecast(
            accrued=Decimal(accrued),
            amount=AMOUNT,
            visits=visits,
            frequency_per_week=per_week,
            today=today,
        )
        kind, frequency, average, left, on = expected
        assert forecast == ThresholdForecast(
            kind=ForecastKind(kind),
            frequency_per_week=frequency,
            average=Decimal(average),
            visits_left=left,
            on=on,
        )

    def test_it_reports_over_with_the_crossing_visit_whatever_the_plan(self) -> None:
        forecast = threshold_forecast(
            accrued=Decimal("2480.01"),
            amount=AMOUNT,
            visits=9,
            frequency_per_week=0,
            today=TODAY,
            crossed_on=date(2026, 9, 22),
        )
        assert forecast == ThresholdForecast(kind=ForecastKind.OVER, on=date(2026, 9, 22))

    @pytest.mark.parametrize(
        ("visits", "per_week", "expected"),
        [(1, 1, date(2026, 10, 8)), (1, 7, date(2026, 10, 2)), (3, 2, date(2026, 10, 12))],
    )
    def test_it_dates_the_nth_visit_at_the_weekly_frequency(
        self, visits: int, per_week: int, expected: date
    ) -> None:
        assert date_of_visit(visits=visits, frequency_per_week=per_week, today=TODAY) == expected


class ThresholdForecastWordsTests:
    @pytest.mark.parametrize(
        ("forecast", "expected"),
        [
            (
                ThresholdForecast(ForecastKind.CROSSES, 2, Decimal("71.40"), 3, date(2026, 12, 8)),
                "At 2 visits a week (avg $71.40 a visit) crosses on <strong>Tue 2026-12-08"
                "</strong> (3 visits)",
            ),
            (
                ThresholdForecast(ForecastKind.CROSSES, 1, Decimal("250"), 1, date(2026, 10, 8)),
                "At 1 visit a week (avg $250.00 a visit) crosses on <strong>Thu 2026-10-08"
                "</strong> (1 visit)",
            ),
            (
                ThresholdForecast(ForecastKind.OVER, on=date(2026, 10, 2)),
                '<span class="sev-error">over since Fri 2026-10-02</span>',
            ),
            (
                ThresholdForecast(ForecastKind.NEXT_YEAR, 1, Decimal("250"), 2, date(2027, 1, 7)),
                "At 1 visit a week (avg $250.00 a visit): not this year (resets on Jan 1)",
            ),
            (
                ThresholdForecast(ForecastKind.NO_PLAN),
                '<span class="muted">no plan in effect: no forecast</span>',
            ),
            (
                ThresholdForecast(ForecastKind.NO_VISITS, 2),
                '<span class="muted">no signed visits this year: no forecast</span>',
            ),
            (
                ThresholdForecast(ForecastKind.ZERO_AVERAGE, 2, Decimal("0.00")),
                '<span class="muted">average allowed amount is $0.00 a visit: no forecast</span>',
            ),
        ],
    )
    def test_it_says_the_forecast_in_words(
        self, forecast: ThresholdForecast, expected: str
    ) -> None:
        html = render_to_string("worklists/_threshold_forecast.html", {"f": forecast})
        assert html.strip() == expected


class ThresholdForecastSelectorTests:
    def test_it_forecasts_the_crossing_from_the_patients_signed_visits(self, world: World) -> None:
        patient = _patient(world, "Nora")
        case = _case(world.pt, patient)
        _plan(world.pt, case, per_week=2, start=date(2026, 9, 1), weeks=12)
        amounts = ["280.00", "290.00", "285.00", "281.20", "290.00", "283.00", "290.00"]
        days = [date(2026, 9, d) for d in (1, 3, 8, 10, 15, 17, 22)]
        _sign(world.pt, case, dict(zip(days, amounts, strict=True)))
        row = _row(threshold_nearing(user=world.biller, today=TODAY), patient)
        # 7 visits, $1,999.20: avg $285.60; 1 more visit reaches $2,284.80, 2 reach $2,570.40.
        assert (row.accrued, row.nearing, row.over) == (Decimal("1999.20"), False, False)
        assert row.forecast == ThresholdForecast(
            kind=ForecastKind.CROSSES,
            frequency_per_week=2,
            average=Decimal("285.60"),
            visits_left=2,
            on=date(2026, 10, 8),  # ceil(7 x 2 / 2) = 7 days after Thu 2026-10-01
        )

    def test_it_dates_the_first_visit_that_went_over(self, world: World) -> None:
        patient = _patient(world, "Olga")
        case = _case(world.pt, patient)
        _plan(world.pt, case, per_week=2, start=date(2026, 9, 1), weeks=12)
        days = [date(2026, 9, d) for d in (1, 3, 8, 10, 15, 17, 22)]
        # Running total 600, 1200, 1800, 2400, 2480 (at the amount: not over), 2580, 2630.
        amounts = ["600", "600", "600", "600", "80", "100", "50"]
        _sign(world.pt, case, dict(zip(days, amounts, strict=True)))
        row = _row(threshold_nearing(user=world.biller, today=TODAY), patient)
        assert (row.accrued, row.over) == (Decimal("2630.00"), True)
        assert row.forecast == ThresholdForecast(kind=ForecastKind.OVER, on=date(2026, 9, 17))

    def test_it_gives_no_forecast_when_no_plan_is_in_effect(self, world: World) -> None:
        patient = _patient(world, "Pia")
        case = _case(world.pt, patient)
        # 4 weeks from Jun 1: ended Jun 29, so nothing is in effect on Oct 1.
        _plan(world.pt, case, per_week=2, start=date(2026, 6, 1), weeks=4)
        days = [date(2026, 6, d) for d in (2, 4, 9, 11)]
        _sign(world.pt, case, dict.fromkeys(days, "500"))
        row = _row(threshold_nearing(user=world.biller, today=TODAY), patient)
        assert row.accrued == Decimal("2000.00")
        assert row.forecast == ThresholdForecast(kind=ForecastKind.NO_PLAN)

    def test_it_does_not_forecast_past_the_end_of_the_year(self, world: World) -> None:
        patient = _patient(world, "Quinn")
        case = _case(world.pt, patient)
        _plan(world.pt, case, per_week=1, start=date(2026, 9, 1), weeks=20)  # to 2027-01-19
        days = [date(2026, 9, d) for d in (1, 3, 8, 10, 15, 17, 22, 24)]
        _sign(world.pt, case, dict.fromkeys(days, "250"))
        # $2,000 over 8 visits: 2 more at 1 a week take 14 days.
        october = _row(threshold_nearing(user=world.biller, today=TODAY), patient)
        assert october.forecast == ThresholdForecast(
            ForecastKind.CROSSES, 1, Decimal("250.00"), 2, date(2026, 10, 15)
        )
        december = _row(threshold_nearing(user=world.biller, today=date(2026, 12, 20)), patient)
        assert december.forecast == ThresholdForecast(
            ForecastKind.NEXT_YEAR, 1, Decimal("250.00"), 2, date(2027, 1, 3)
        )

    def test_it_adds_the_frequencies_of_the_pt_and_slp_plans(self, world: World) -> None:
        slp = _slp_therapist(world)
        patient = _patient(world, "Rosa")
        pt_case = _case(world.pt, patient)
        slp_case = _case(slp, patient)
        ot_case = _case(world.ot, patient)  # OT accrues separately: its 3 a week do not count
        _plan(world.pt, pt_case, per_week=2, start=date(2026, 9, 1), weeks=12)
        _plan(slp, slp_case, per_week=1, start=date(2026, 9, 1), weeks=12)
        _plan(world.ot, ot_case, per_week=3, start=date(2026, 9, 1), weeks=12)
        _sign(world.pt, pt_case, dict.fromkeys([date(2026, 9, d) for d in (1, 3, 8, 10)], "400"))
        _sign(slp, slp_case, dict.fromkeys([date(2026, 9, 2), date(2026, 9, 9)], "200"))
        expected = ThresholdForecast(
            kind=ForecastKind.CROSSES,
            frequency_per_week=3,  # PT 2 + SLP 1
            average=Decimal("333.33"),  # $2,000.00 over 6 visits
            visits_left=2,  # 2000 + 2 x 333.33 = 2666.66 > 2480
            on=date(2026, 10, 6),  # ceil(14 / 3) = 5 days
        )
        biller_row = _row(threshold_nearing(user=world.biller, today=TODAY), patient)
        assert (biller_row.accrued, biller_row.forecast) == (Decimal("2000.00"), expected)
        # The PT therapist treats only the PT case; the accrual is still the patient's.
        pt_row = _row(threshold_nearing(user=world.pt, today=TODAY), patient)
        assert (pt_row.accrued, pt_row.forecast) == (Decimal("2000.00"), expected)
        # The OT therapist sees no PT/SLP row, and the OT group has accrued nothing.
        assert [
            r for r in threshold_nearing(user=world.ot, today=TODAY) if r.patient == patient
        ] == []
        rows = patient_threshold(user=world.ot, patient=patient, today=TODAY)
        assert [(r.group, r.accrued, r.forecast) for r in rows] == [
            ("PT/SLP", Decimal("2000.00"), expected),
            ("OT", Decimal("0.00"), ThresholdForecast(ForecastKind.NO_VISITS, 3)),
        ]

    def test_it_counts_visits_up_to_today_only(self, world: World) -> None:
        patient = _patient(world, "Sofia")
        case = _case(world.pt, patient)
        _plan(world.pt, case, per_week=2, start=date(2026, 9, 1), weeks=12)
        _sign(world.pt, case, {date(2026, 9, 1): "1900", date(2026, 10, 2): "400"})
        row = _row(threshold_nearing(user=world.biller, today=TODAY), patient)
        # Only Sep 1 by Oct 1: avg $1,900, the next visit crosses, ceil(7 / 2) = 4 days.
        assert (row.accrued, row.forecast) == (
            Decimal("1900.00"),
            ThresholdForecast(ForecastKind.CROSSES, 2, Decimal("1900.00"), 1, date(2026, 10, 5)),
        )

    def test_it_shows_the_patient_page_block_only_for_medicare_patients(
        self, world: World
    ) -> None:
        patient = _patient(world, "Tess")
        _case(world.pt, patient)
        assert [r.group for r in patient_threshold(user=world.biller, patient=patient)] == [
            "PT/SLP"
        ]
        coverage_set(
            user=world.front_desk, patient=patient, payer=world.commercial, member_id="AC-1"
        )
        assert patient_threshold(user=world.biller, patient=patient) == []


class ThresholdForecastPageTests:
    """Pages use the real date, so the data sits on today (always in this year)."""

    def _over_today(self, world: World) -> Visit:
        # world.patient: Medicare; a PT case without a plan, an OT case with a 2-a-week plan.
        (visit,) = _sign(world.pt, world.pt_case, {world.today: "2500"})
        return visit

    def test_it_shows_the_forecast_on_the_worklist(self, world: World) -> None:
        self._over_today(world)
        html = world.client_for(world.biller).get(reverse("worklists:index")).content.decode()
        assert "<th>Forecast</th>" in html
        assert f'<span class="sev-error">over since {world.today:%a %Y-%m-%d}</span>' in html

    def test_it_shows_the_threshold_block_on_the_patient_page(self, world: World) -> None:
        self._over_today(world)
        url = reverse("patient-detail", kwargs={"patient_id": world.patient.pk})
        for user in (world.biller, world.ota, world.admin):
            html = world.client_for(user).get(url).content.decode()
            assert 'id="threshold"' in html
            assert f"Therapy threshold {world.today.year}" in html
            assert "$2,500.00 of $2,480.00 (100%)" in html
            assert f"over since {world.today:%a %Y-%m-%d}" in html
            assert "$0.00 of $2,480.00 (0%)" in html  # OT
            assert "no signed visits this year: no forecast" in html

    def test_it_says_no_plan_on_the_patient_page(self, world: World) -> None:
        url = reverse("patient-detail", kwargs={"patient_id": world.patient.pk})
        html = world.client_for(world.pt).get(url).content.decode()
        assert "no plan in effect: no forecast" in html  # the PT case has no plan

    def test_it_hides_the_block_from_the_front_desk(self, world: World) -> None:
        self._over_today(world)
        url = reverse("patient-detail", kwargs={"patient_id": world.patient.pk})
        response = world.client_for(world.front_desk).get(url)
        assert response.status_code == 200
        assert 'id="threshold"' not in response.content.decode()

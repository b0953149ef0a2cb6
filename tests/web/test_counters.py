"""Per-case counters and the yearly threshold accrual."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from handrail.web.visits.models import Visit
from handrail.web.visits.selectors import (
    case_counters,
    case_treatment_days_since_report,
    threshold_accrual,
    threshold_accrued,
    visit_facts,
)
from tests.web.conftest import World


def _visit(world: World, case: object, day: date, visit_type: str = "treatment") -> Visit:
    clinician = world.ot if case is world.ot_case else world.pt
    return Visit.objects.create(
        clinic=world.clinic, case=case, date=day, clinician=clinician, visit_type=visit_type
    )


class CaseCounterTests:
    def test_it_counts_treatment_days_since_the_last_report_per_case(self, world: World) -> None:
        start = world.today - timedelta(days=15)
        _visit(world, world.ot_case, start, "evaluation")
        for offset in (2, 4, 6):
            _visit(world, world.ot_case, start + timedelta(days=offset))
        Visit.objects.create(
            clinic=world.clinic,
            case=world.ot_case,
            date=start + timedelta(days=8),
            clinician=world.ota,
        )
        for offset in (1, 3, 5):  # the PT case of the same patient never mixes in
            _visit(world, world.pt_case, start + timedelta(days=offset))
        on = start + timedelta(days=8)
        assert case_treatment_days_since_report(case=world.ot_case, on=on) == 4
        assert case_treatment_days_since_report(case=world.pt_case, on=on) == 3

    def test_it_restarts_the_count_at_a_progress_report(self, world: World) -> None:
        start = world.today - timedelta(days=15)
        _visit(world, world.ot_case, start, "evaluation")
        _visit(world, world.ot_case, start + timedelta(days=2))
        _visit(world, world.ot_case, start + timedelta(days=4), "progress_report")
        _visit(world, world.ot_case, start + timedelta(days=6))
        assert (
            case_treatment_days_since_report(case=world.ot_case, on=start + timedelta(days=4)) == 2
        )
        assert (
            case_treatment_days_since_report(case=world.ot_case, on=start + timedelta(days=6)) == 1
        )

    def test_it_gives_recertification_90_days_after_certification_or_the_plan_end(
        self, world: World
    ) -> None:
        counters = case_counters(case=world.ot_case, on=world.today)
        plan = world.ot_plan
        assert plan.certified_on is not None
        assert counters.days_since_certification == (world.today - plan.certified_on).days == 18
        # 8-week plan: its end (start + 56 days) comes before certification + 90 days.
        assert counters.recertification_due == plan.start_date + timedelta(weeks=8)
        assert counters.certification_due is None
        assert counters.progress_report_due is False


class ThresholdAccrualTests:
    def test_it_sums_signed_allowed_amounts_pt_with_slp_and_ot_apart(self, world: World) -> None:
        year = world.today.year
        day = date(year, 1, 10)
        ot = _visit(world, world.ot_case, day)
        pt = _visit(world, world.pt_case, day)
        draft = _visit(world, world.pt_case, day + timedelta(days=1))
        for visit, amount in ((ot, "101.25"), (pt, "88.10"), (draft, "50.00")):
            visit.allowed_amount = Decimal(amount)
            if visit is not draft:
                visit.status = "signed"
                visit.signed_by = world.ot
                visit.signed_at = visit.created_at
            visit.save()
        assert threshold_accrual(patient=world.patient, year=year) == {
            "PT+SLP": Decimal("88.10"),
            "OT": Decimal("101.25"),
        }
        assert threshold_accrual(patient=world.patient, year=year - 1) == {
            "PT+SLP": Decimal("0.00"),
            "OT": Decimal("0.00"),
        }


class VisitFactsTests:
    """visit_facts reads the treatment days and the threshold accrual in one aggregate: the
    same figures as the selectors that read them one by one, on every day of an episode."""

    def test_it_gives_the_same_figures_as_the_one_by_one_selectors(self, world: World) -> None:
        start = world.today - timedelta(days=15)
        kinds = {0: "evaluation", 5: "progress_report", 11: "re_evaluation"}
        visits = [
            _visit(world, world.ot_case, start + timedelta(days=day), kinds.get(day, "treatment"))
            for day in range(0, 15)
        ]
        pt = _visit(world, world.pt_case, start + timedelta(days=3))
        for number, visit in enumerate([*visits[::2], pt]):
            visit.allowed_amount = Decimal("40.10") + number
            visit.status = "signed"
            visit.signed_by = world.ot
            visit.signed_at = visit.created_at
            visit.save()
        seen = set()
        for visit in visits:
            facts = visit_facts(visit=visit)
            expected = (
                case_treatment_days_since_report(case=world.ot_case, on=visit.date),
                threshold_accrued(
                    patient=world.patient,
                    year=visit.date.year,
                    discipline="OT",
                    exclude_visit=visit,
                    up_to=visit.date,
                ),
            )
            assert (facts.treatment_days, facts.accrued_before) == expected
            assert facts.counters == case_counters(case=world.ot_case, on=visit.date)
            seen.add(expected[0])
        assert seen == {1, 2, 3, 4, 5, 6}  # the count restarts at each report

"""The stored yearly threshold accrual (ThresholdAccrual, kept by the triggers of visits
migration 0009): after signs through the services and every other write that changes what it
sums (an amount pinned, a note unsigned or re-signed, deleted, redated across the new year, a
case moved to another patient or group, a bulk insert), the stored figures equal the signed
visits' sums to the cent; the worklist and the patient page read them; the migration's fill
and `manage.py threshold_accrual_check` recompute them. Runs on SQLite and, with
HANDRAIL_TEST_DATABASE_URL, PostgreSQL (the parallel signs: tests/web/test_sign_races.py).
"""

from __future__ import annotations

import importlib
import random
from datetime import date, timedelta
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection, transaction
from django.utils import timezone

from handrail.web.care.models import Case
from handrail.web.care.services import case_create
from handrail.web.clinic.models import Patient
from handrail.web.clinic.services import coverage_set, patient_create
from handrail.web.visits.models import ThresholdAccrual, Visit, VisitStatus
from handrail.web.visits.services import service_line_add, visit_create, visit_sign
from handrail.web.worklists.selectors import ThresholdRow, patient_threshold, threshold_nearing
from tests.web.accruals import Key, assert_consistent, stored
from tests.web.conftest import World
from tests.web.notes_seed import ALLOWED_PER_VISIT, GOOD_NOTE, seed_worklists

pytestmark = pytest.mark.django_db

CODE = {"PT": "97110", "OT": "97535"}


def _sign(world: World, case: Case, day: date) -> Visit:
    therapist = world.pt if case.discipline == "PT" else world.ot
    visit = visit_create(user=therapist, case=case, date=day, medical_necessity_attested=True)
    service_line_add(
        user=therapist,
        visit=visit,
        code=CODE[case.discipline],
        therapist_minutes=30,
        **GOOD_NOTE,
    )
    return visit_sign(user=therapist, visit=visit, reason="Test history")


def _key(world: World, year: int, group: str, patient: Patient | None = None) -> Key:
    return (world.clinic.pk, (patient or world.patient).pk, year, group)


class SignTests:
    def test_it_adds_a_signed_visit_to_its_patient_year_and_group(self, world: World) -> None:
        first = _sign(world, world.ot_case, world.today - timedelta(days=3))
        assert first.allowed_amount is not None and first.allowed_amount > 0
        assert stored() == {_key(world, 2026, "OT"): (first.allowed_amount, 1)}
        second = _sign(world, world.pt_case, world.today - timedelta(days=2))
        third = _sign(world, world.pt_case, world.today - timedelta(days=1))
        assert second.allowed_amount is not None and third.allowed_amount is not None
        assert stored() == {
            _key(world, 2026, "OT"): (first.allowed_amount, 1),
            _key(world, 2026, "PT/SLP"): (second.allowed_amount + third.allowed_amount, 2),
        }
        assert_consistent()

    def test_it_sums_pinned_amounts_to_the_cent(self, world: World) -> None:
        """Amounts with cents that floating point cannot hold: 3 x $101.37 + $0.01."""
        visits = [_sign(world, world.pt_case, world.today - timedelta(days=n)) for n in (1, 2, 3)]
        visits.append(_sign(world, world.pt_case, world.today - timedelta(days=4)))
        for visit, amount in zip(visits, ("101.37", "101.37", "101.37", "0.01"), strict=True):
            Visit.objects.filter(pk=visit.pk).update(allowed_amount=Decimal(amount))
        row = ThresholdAccrual.objects.get()
        assert (row.allowed_cents, row.visits) == (30412, 4)
        assert row.allowed == Decimal("304.12")
        assert_consistent()

    def test_it_leaves_nothing_when_the_signing_transaction_rolls_back(self, world: World) -> None:
        visit = visit_create(user=world.ot, case=world.ot_case, date=world.today)
        service_line_add(
            user=world.ot, visit=visit, code="97535", therapist_minutes=30, **GOOD_NOTE
        )
        with pytest.raises(RuntimeError), transaction.atomic():
            visit_sign(user=world.ot, visit=visit, reason="Test history")
            assert ThresholdAccrual.objects.count() == 1  # in the signing transaction
            raise RuntimeError("the request failed after signing")
        assert stored() == {}
        assert_consistent()

    def test_it_counts_no_visit_without_an_allowed_amount(self, world: World) -> None:
        """A patient without coverage is signed without an evaluation: no amount to add."""
        patient = patient_create(
            user=world.front_desk,
            first_name="No",
            last_name="Coverage",
            birth_date=date(1950, 1, 1),
        )
        case = case_create(
            user=world.pt, patient=patient, discipline="PT", title="Gait", opened_on=world.today
        )
        visit = _sign(world, case, world.today)
        assert visit.allowed_amount is None
        assert stored() == {}
        assert_consistent()


class EveryWriteTests:
    def test_it_stays_equal_to_the_visits_through_a_random_sequence_of_writes(
        self, world: World
    ) -> None:
        """Signs through the services mixed with every other write to a visit or a case,
        in a seeded random order; checked against the visits after each."""
        rng = random.Random(20261206)
        second = patient_create(
            user=world.front_desk,
            first_name="Bea",
            last_name="Second",
            birth_date=date(1944, 4, 4),
        )
        coverage_set(user=world.front_desk, patient=second, payer=world.medicare, member_id="2B")
        opened = date(2025, 11, 20)  # visits on both sides of Jan 1
        cases = [
            case_create(
                user=user, patient=patient, discipline=discipline, title="Random", opened_on=opened
            )
            for user, patient, discipline in (
                (world.pt, world.patient, "PT"),
                (world.ot, world.patient, "OT"),
                (world.pt, second, "PT"),
            )
        ]
        days = [opened + timedelta(days=n) for n in range((world.today - opened).days + 1)]
        used: set[tuple[int, date]] = set()

        def free_day(case: Case) -> date:
            while True:
                day = rng.choice(days)
                if (case.pk, day) not in used:
                    used.add((case.pk, day))
                    return day

        for _ in range(12):
            case = rng.choice(cases)
            _sign(world, case, free_day(case))
        assert_consistent()
        operations = [
            "sign",
            "pin",
            "unsign",
            "resign",
            "null",
            "redate",
            "delete",
            "move",
            "bulk",
        ]
        done: dict[str, int] = {}
        for step in range(60):
            operation = operations[step] if step < len(operations) else rng.choice(operations)
            signed = list(Visit.objects.filter(status=VisitStatus.SIGNED).order_by("pk"))
            visit = rng.choice(signed)
            if operation == "sign":
                case = rng.choice(cases)
                _sign(world, case, free_day(case))
            elif operation == "pin":
                cents = rng.randrange(1, 30000)
                Visit.objects.filter(pk=visit.pk).update(allowed_amount=Decimal(cents) / 100)
            elif operation == "unsign":  # back to a draft (a correction in a shell)
                Visit.objects.filter(pk=visit.pk).update(status=VisitStatus.DRAFT)
            elif operation == "resign":
                draft = Visit.objects.filter(
                    status=VisitStatus.DRAFT, signed_by__isnull=False
                ).first()
                if draft is not None:
                    draft.status = VisitStatus.SIGNED
                    draft.save()
            elif operation == "null":
                Visit.objects.filter(pk=visit.pk).update(allowed_amount=None)
            elif operation == "redate":  # across Jan 1 when it falls so
                Visit.objects.filter(pk=visit.pk).update(date=free_day(visit.case))
            elif operation == "delete":
                Visit.objects.get(pk=visit.pk).delete()
            elif operation == "move":  # a case moved to the other patient or group
                case = rng.choice(cases)
                if rng.random() < 0.5:
                    patient = second if case.patient_id == world.patient.pk else world.patient
                    Case.objects.filter(pk=case.pk).update(patient=patient)
                else:
                    discipline = "OT" if case.discipline == "PT" else "PT"
                    Case.objects.filter(pk=case.pk).update(discipline=discipline)
                for case in cases:
                    case.refresh_from_db()
            elif operation == "bulk":
                case = rng.choice(cases)
                Visit.objects.bulk_create(
                    Visit(
                        clinic=world.clinic,
                        case=case,
                        date=free_day(case),
                        clinician=world.pt,
                        status=VisitStatus.SIGNED,
                        signed_by=world.pt,
                        signed_at=timezone.now(),
                        allowed_amount=Decimal(rng.randrange(0, 20000)) / 100,
                    )
                    for _ in range(3)
                )
            done[operation] = done.get(operation, 0) + 1
            assert_consistent()
        assert set(done) == set(operations)
        years = {key[2] for key in stored()}
        assert years == {2025, 2026}


def _ot(rows: list[ThresholdRow]) -> ThresholdRow:
    """The OT row of the patient page (the patient has a PT case too: its row is $0)."""
    assert [(row.group, row.accrued) for row in rows if row.group != "OT"] == [
        ("PT/SLP", Decimal("0.00"))
    ]
    (row,) = [row for row in rows if row.group == "OT"]
    return row


class ReadsTests:
    def test_the_worklist_and_the_patient_page_read_the_stored_accrual(self, world: World) -> None:
        seed_worklists(world)  # 8 OT visits of $262.50: $2,100.00
        (row,) = threshold_nearing(user=world.biller, today=world.today)
        assert (row.group, row.accrued) == ("OT", ALLOWED_PER_VISIT * 8)
        page = _ot(patient_threshold(user=world.biller, patient=world.patient, today=world.today))
        assert page.accrued == Decimal("2100.00")
        # A stored figure changed behind the triggers' back shows: the pages sum no visits.
        ThresholdAccrual.objects.filter(therapy_group="OT").update(allowed_cents=220012)
        (row,) = threshold_nearing(user=world.biller, today=world.today)
        assert row.accrued == Decimal("2200.12")
        page = _ot(patient_threshold(user=world.biller, patient=world.patient, today=world.today))
        assert page.accrued == Decimal("2200.12")

    def test_a_past_day_leaves_out_the_visits_signed_after_it(self, world: World) -> None:
        seeded = seed_worklists(world)  # 19 to 12 days ago
        day = seeded.signed[4].date  # the 5th visit's day: 5 x $262.50
        page = _ot(patient_threshold(user=world.biller, patient=world.patient, today=day))
        assert (page.accrued, page.forecast.average) == (Decimal("1312.50"), ALLOWED_PER_VISIT)
        assert threshold_nearing(user=world.biller, today=day) == []  # under 75% of $2,480
        (row,) = threshold_nearing(user=world.biller, today=day, share=Decimal("0.5"))
        assert row.accrued == Decimal("1312.50")


class MigrationFillTests:
    def test_the_migrations_fill_gives_the_sums_of_the_signed_visits(self, world: World) -> None:
        seed_worklists(world)
        _sign(world, world.pt_case, world.today - timedelta(days=1))
        expected = stored()
        assert len(expected) == 2
        ThresholdAccrual.objects.all().delete()
        migration = importlib.import_module(
            "handrail.web.visits.migrations.0009_threshold_accrual"
        )
        _triggers, fill, _remove = migration.STATEMENTS[connection.vendor]
        with connection.cursor() as cursor:
            cursor.execute(fill)
        assert stored() == expected
        assert_consistent()


class CheckCommandTests:
    def test_it_reports_no_drift(self, world: World) -> None:
        seed_worklists(world)
        out = StringIO()
        call_command("threshold_accrual_check", stdout=out)
        assert out.getvalue() == (
            "Checked 1 stored threshold accrual against the signed visits: no drift.\n"
        )

    def test_it_reports_each_drift_and_fails_then_repairs(self, world: World) -> None:
        seed_worklists(world)
        pt = _sign(world, world.pt_case, world.today - timedelta(days=1))
        Visit.objects.filter(pk=pt.pk).update(allowed_amount=Decimal("50.00"))
        ThresholdAccrual.objects.filter(therapy_group="OT").update(allowed_cents=209999)
        ThresholdAccrual.objects.filter(therapy_group="PT/SLP").delete()
        out = StringIO()
        with pytest.raises(CommandError) as raised:
            call_command("threshold_accrual_check", stdout=out)
        assert str(raised.value) == (
            "2 of the threshold accruals differ from their signed visits (1 stored threshold "
            "accrual checked); run `manage.py threshold_accrual_check --repair` to rewrite "
            "them from the visits."
        )
        patient, clinic = world.patient.pk, world.clinic.pk
        assert out.getvalue().splitlines() == [
            f"patient {patient} (clinic {clinic}), 2026 OT: stored $2,099.99 over 8 visits, "
            "signed visits $2,100.00 over 8 visits",
            f"patient {patient} (clinic {clinic}), 2026 PT/SLP: stored none, signed visits "
            "$50.00 over 1 visits",
        ]
        out = StringIO()
        call_command("threshold_accrual_check", "--repair", stdout=out)
        assert out.getvalue().splitlines()[-1] == (
            "Repaired 2 threshold accruals from the signed visits."
        )
        assert stored() == {
            _key(world, 2026, "OT"): (Decimal("2100.00"), 8),
            _key(world, 2026, "PT/SLP"): (Decimal("50.00"), 1),
        }
        assert_consistent()

    def test_it_repairs_a_stored_row_without_visits(self, world: World) -> None:
        seed_worklists(world)
        ThresholdAccrual.objects.create(
            clinic=world.clinic,
            patient=world.patient,
            year=2025,
            therapy_group="OT",
            allowed_cents=100,
            visits=1,
        )
        with pytest.raises(CommandError):
            call_command("threshold_accrual_check", stdout=StringIO())
        call_command("threshold_accrual_check", "--repair", stdout=StringIO())
        assert stored() == {_key(world, 2026, "OT"): (Decimal("2100.00"), 8)}

"""A worklist tab's count is the length of its list (issue #10: the counts no longer build
every list): for every role, across a seeded clinic, each tab shows the number of rows its
list holds, and a list fetched a page at a time holds the same rows in the same order as
the whole list."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from typing import Any

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from handrail.web.care.models import Authorization
from handrail.web.care.selectors import authorization_usage
from handrail.web.clinic.models import User
from handrail.web.visits.models import Visit
from handrail.web.worklists import selectors
from handrail.web.worklists.views import KINDS
from tests.web.conftest import World
from tests.web.notes_seed import seed_worklists
from tests.web.test_worklist_queries import _add_patients

TAB = re.compile(r'href="/worklists/([a-z-]+)/"[^>]*>[^<]*<span class="count">(\d+)</span>')


def _tabs(world: World, user: User) -> dict[str, int]:
    html = world.client_for(user).get(reverse("worklists:index")).content.decode()
    return {kind: int(count) for kind, count in TAB.findall(html)}


def _lengths(world: World, user: User) -> dict[str, int]:
    """Each visible list built whole by the selectors, every row fetched."""
    today = world.today
    if user.role == "front_desk":
        return {
            "authorizations": len(selectors.authorizations_running_out(user=user, today=today))
        }
    return {
        "unsigned": len(selectors.unsigned_notes(user=user)),
        "progress-reports": len(selectors.progress_reports_due(user=user, today=today)),
        "recertifications": len(selectors.recertifications_due(user=user, today=today)),
        "authorizations": len(selectors.authorizations_running_out(user=user, today=today)),
        "threshold": len(selectors.threshold_nearing(user=user, today=today)),
    }


def _keys(rows: list[Any]) -> list[tuple[Any, ...]]:
    out: list[tuple[Any, ...]] = []
    for row in rows:
        if isinstance(row, selectors.ProgressRow):
            out.append((row.case.pk, row.treatment_days, row.case.patient.last_name))
        elif isinstance(row, selectors.RecertRow):
            out.append((row.plan.pk, row.case.pk, row.due, row.kind))
        else:
            out.append((row.authorization.pk, row.runs_out_on, row.authorization.case.pk))
    return out


class WorklistTabCountTests:
    def test_every_tab_counts_the_rows_of_its_list(self, world: World) -> None:
        seed_worklists(world)
        _add_patients(world, 0, 3)
        users = (world.admin, world.biller, world.ot, world.ota, world.pt, world.front_desk)
        for user in users:
            tabs = _tabs(world, user)
            lengths = _lengths(world, user)
            assert tabs == lengths, user.username
        biller = _tabs(world, world.biller)
        assert set(biller) == set(KINDS)
        # The seeded lists are not empty: the counts compared above are of real rows.
        assert all(biller[kind] > 0 for kind in ("unsigned", "progress-reports", "threshold"))
        assert biller["authorizations"] >= 3
        assert _tabs(world, world.ot)["progress-reports"] >= 3

    def test_a_list_read_a_slice_at_a_time_holds_the_whole_lists_rows_in_order(
        self, world: World
    ) -> None:
        seed_worklists(world)
        _add_patients(world, 0, 3)
        user, today = world.biller, world.today
        cases = selectors.open_cases(user=user, today=today)
        for build in (
            selectors.progress_report_rows,
            selectors.recertification_rows,
            selectors.authorization_rows,
        ):
            rows = build(user=user, today=today, cases=cases)
            whole = _keys(list(rows))
            assert len(whole) == rows.count() == len(rows)
            sliced = _keys(rows[:2]) + _keys(rows[2:3]) + _keys(rows[3:])
            assert sliced == whole, build.__name__
            if whole:
                assert _keys([rows[0]]) == whole[:1]
            assert rows[len(whole) :] == []

    def test_counting_a_list_fetches_none_of_its_rows(self, world: World) -> None:
        seed_worklists(world)
        _add_patients(world, 0, 3)
        user, today = world.biller, world.today
        cases = selectors.open_cases(user=user, today=today)
        rows = selectors.progress_report_rows(user=user, today=today, cases=cases)
        with CaptureQueriesContext(connection) as captured:
            assert rows.count() >= 3
        assert captured.captured_queries == []
        with CaptureQueriesContext(connection) as captured:
            shown = rows[:2]
        # The rows shown, whole (case and patient), in one query.
        assert len(captured.captured_queries) == 1
        assert [row.case.patient.last_name for row in shown]


def _plain_accruals(clinic_id: int, today: date) -> dict[tuple[int, str], tuple[Decimal, int]]:
    """(patient id, group) -> (allowed amounts, visits) of the clinic's signed visits with an
    allowed amount this year to `today`, added up one visit at a time: the reference the
    stored accrual is checked against."""
    out: dict[tuple[int, str], tuple[Decimal, int]] = {}
    for visit in Visit.objects.filter(
        clinic_id=clinic_id,
        status="signed",
        allowed_amount__isnull=False,
        date__gte=date(today.year, 1, 1),
        date__lte=today,
    ).select_related("case"):
        key = (visit.case.patient_id, "OT" if visit.case.discipline == "OT" else "PT/SLP")
        total, count = out.get(key, (Decimal("0"), 0))
        out[key] = (total + (visit.allowed_amount or Decimal("0")), count + 1)
    return out


class ClinicAccrualTests:
    def test_the_clinic_accrual_sums_as_the_per_visit_accrual_does(self, world: World) -> None:
        """The worklist's one-query accrual (summed per case, then per patient and group)
        gives the sums and visit counts of the plain accrual, to the cent, and drops only
        the groups below the amount asked for."""
        seed_worklists(world)
        _add_patients(world, 0, 3)
        # Amounts with cents, so a floating-point sum would show.
        for number, visit in enumerate(
            Visit.objects.filter(clinic=world.clinic, status="signed").order_by("id")
        ):
            Visit.objects.filter(pk=visit.pk).update(
                allowed_amount=Decimal("101.37") + Decimal(number) / 100
            )
        today = world.today
        plain = _plain_accruals(world.clinic.pk, today)
        assert len(plain) >= 4
        assert selectors._clinic_accruals(world.clinic.pk, today, Decimal("0")) == plain
        cut = sorted(total for total, _visits in plain.values())[len(plain) // 2]
        assert selectors._clinic_accruals(world.clinic.pk, today, cut) == {
            key: value for key, value in plain.items() if value[0] >= cut
        }
        assert selectors._clinic_accruals(world.other_clinic.pk, today, Decimal("0")) == {}


class AuthorizationUsageTests:
    def test_each_listed_authorization_shows_the_usage_of_its_own_page(self, world: World) -> None:
        """Rows are chosen with the visits' dates alone when the authorization has no unit
        limit; the rows shown still carry the units used, as the authorization page counts
        them."""
        seed_worklists(world)
        _add_patients(world, 0, 3)
        rows = selectors.authorizations_running_out(user=world.biller, today=world.today)
        assert len(rows) >= 4
        assert any(row.authorization.units_authorized is None for row in rows)
        assert any(row.authorization.units_authorized is not None for row in rows)
        for row in rows:
            usage = authorization_usage(authorization=row.authorization, on=world.today)
            assert (row.visits_used, row.units_used, row.status) == (
                usage.visits_used,
                usage.units_used,
                usage.status,
            )
        assert all(row.units_used > 0 for row in rows if row.visits_used)

    def test_a_row_deleted_after_the_list_was_chosen_is_left_out_not_an_error(
        self, world: World
    ) -> None:
        seed_worklists(world)
        _add_patients(world, 0, 3)
        rows = selectors.authorization_rows(user=world.biller, today=world.today)
        chosen = rows.count()
        assert chosen >= 2
        gone = rows[0].authorization
        Authorization.objects.filter(pk=gone.pk).delete()
        shown = rows[:]
        assert len(shown) == chosen - 1
        assert gone.pk not in {row.authorization.pk for row in shown}

"""The worklists cost a fixed number of queries whatever the clinic's size and history
(issue #10): each page is counted with N patients in treatment and again with 3N, and the
counts must not move while the lists grow."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from handrail.web.care.models import Case
from handrail.web.care.services import (
    GoalInput,
    authorization_create,
    case_close,
    case_create,
    plan_of_care_create,
)
from handrail.web.clinic.models import User
from handrail.web.clinic.services import coverage_set, patient_create
from handrail.web.remittances.services import remittance_post
from handrail.web.visits.models import Visit
from handrail.web.visits.services import service_line_add, visit_create, visit_sign
from handrail.web.worklists.selectors import threshold_nearing
from handrail.web.worklists.views import KINDS, PAGE_SIZE
from tests.web.conftest import World
from tests.web.notes_seed import GOOD_NOTE
from tests.web.remittance_seed import (
    LineSpec,
    adjustment,
    claim_payment,
    paid_line,
    remittance_text,
    sent_claim,
    set_up_billing,
)

D = Decimal
N = 2
DRAFTS = 57  # three cases with 19 draft notes each: more than a page
# Allowed amounts that put each patient's OT year (four signed visits) at $2,100 of $2,480:
# on the threshold list.
ALLOWED = Decimal("525.00")
# The most queries any worklist page may make (session, user, the lists, the tab counts).
MAX_QUERIES = 24


def _signed(world: World, case: Case, day: date, by: User) -> Visit:
    visit = visit_create(user=by, case=case, date=day)
    if by.role == "assistant":
        service_line_add(user=by, visit=visit, code="97535", assistant_minutes=30, **GOOD_NOTE)
    else:
        service_line_add(user=by, visit=visit, code="97535", therapist_minutes=30, **GOOD_NOTE)
    return visit_sign(user=by, visit=visit, reason="Synthetic test note.")


def _add_patients(world: World, first: int, count: int) -> None:
    """Patients in OT treatment, each with last year's discharged episode, three signed
    visits, an assistant's note never co-signed, four drafts (treatment day 8 of 10: a
    progress report due soon) and an authorization running out."""
    today = world.today
    for number in range(first, first + count):
        patient = patient_create(
            user=world.front_desk,
            first_name=f"Scale{number}",
            last_name=f"Patient{number:03d}",
            birth_date=date(1950, 1, 1 + number),
        )
        coverage_set(
            user=world.front_desk, patient=patient, payer=world.medicare, member_id=f"M{number}"
        )
        old = case_create(
            user=world.ot,
            patient=patient,
            discipline="OT",
            title="Earlier episode",
            opened_on=today - timedelta(days=400),
        )
        for days_ago in (400, 397):
            _signed(world, old, today - timedelta(days=days_ago), world.ot)
        case_close(
            user=world.ot,
            case=old,
            closed_on=today - timedelta(days=397),
            discharge_reason="Goals met",
        )
        case = case_create(
            user=world.ot,
            patient=patient,
            discipline="OT",
            title="ADL retraining",
            opened_on=today - timedelta(days=30),
        )
        plan_of_care_create(
            user=world.ot,
            case=case,
            diagnoses=["I69.351"],
            goals=[GoalInput("Dresses with set-up only", today + timedelta(weeks=4))],
            frequency_per_week=2,
            duration_weeks=6,
            start_date=today - timedelta(days=30),
            certified_on=today - timedelta(days=28),
            certifier_name="Dr. Synthetic",
        )
        authorization_create(
            user=world.biller,
            case=case,
            payer=world.medicare,
            visits_authorized=12,
            start_date=today - timedelta(days=30),
            end_date=today + timedelta(days=20),
        )
        for days_ago in (30, 27, 24):
            _signed(world, case, today - timedelta(days=days_ago), world.ot)
        _signed(world, case, today - timedelta(days=21), world.ota)
        for days_ago in (18, 15, 12):  # treatment days 5-7, never signed: drafts
            visit_create(user=world.ot, case=case, date=today - timedelta(days=days_ago))
        draft = visit_create(user=world.ot, case=case, date=today - timedelta(days=1))
        service_line_add(user=world.ot, visit=draft, code="97535", therapist_minutes=20)
        Visit.objects.filter(case=case, status="signed").update(allowed_amount=ALLOWED)


def _page_queries(world: World, user: User) -> dict[str, int]:
    client = world.client_for(user)
    urls = {"index": reverse("worklists:index")}
    urls |= {kind: reverse("worklists:kind", args=[kind]) for kind in KINDS}
    out = {}
    for name, url in urls.items():
        with CaptureQueriesContext(connection) as captured:
            response = client.get(url)
        if response.status_code == 200:
            out[name] = len(captured.captured_queries)
    return out


@dataclass(frozen=True)
class _Listed:
    unsigned: int
    threshold: int
    authorizations: int
    cosign: int
    progress: int


def _listed(world: World) -> _Listed:
    html = world.client_for(world.biller).get(reverse("worklists:index")).content.decode()
    tabs = {kind: html.count(f'href="/worklists/{kind}/"') for kind in KINDS}
    assert all(tabs.values())
    return _Listed(
        unsigned=Visit.objects.filter(clinic=world.clinic, status="draft").count(),
        threshold=html.count("$2,100.00 of $2,480.00"),
        authorizations=html.count("8 of 12</td>"),
        cosign=html.count("<td>Oscar Test, OTA</td>"),
        progress=html.count("8 of 10</td>"),
    )


class WorklistQueryCountTests:
    def test_it_keeps_the_query_count_of_every_page_when_the_clinic_triples(
        self, world: World
    ) -> None:
        _add_patients(world, 0, N)
        before = {
            user.username: _page_queries(world, user)
            for user in (world.biller, world.ot, world.ota, world.front_desk)
        }
        listed_before = _listed(world)
        _add_patients(world, N, 2 * N)
        after = {
            user.username: _page_queries(world, user)
            for user in (world.biller, world.ot, world.ota, world.front_desk)
        }
        assert after == before
        assert max(count for pages in after.values() for count in pages.values()) <= MAX_QUERIES
        assert set(after["bill"]) == {"index", *KINDS}
        assert set(after["fran"]) == {"index", "authorizations"}
        # The lists did grow with the clinic: the counts above are of real, longer lists.
        listed_after = _listed(world)
        assert (listed_before.progress, listed_after.progress) == (N, 3 * N)
        assert (listed_before.threshold, listed_after.threshold) == (N, 3 * N)
        assert (listed_before.authorizations, listed_after.authorizations) == (N, 3 * N)
        assert (listed_before.cosign, listed_after.cosign) == (N, 3 * N)
        assert (listed_before.unsigned, listed_after.unsigned) == (4 * N, 4 * 3 * N)


class WorklistPagingTests:
    def test_it_pages_a_long_list_and_shows_the_first_rows_on_the_overview(
        self, world: World
    ) -> None:
        for number in range(3):
            case = case_create(
                user=world.ot,
                patient=world.patient,
                discipline="OT",
                title=f"Episode {number}",
                opened_on=world.today - timedelta(days=20),
            )
            for days_ago in range(19):
                visit_create(user=world.ot, case=case, date=world.today - timedelta(days=days_ago))
        client = world.client_for(world.biller)
        first = client.get(reverse("worklists:kind", args=["unsigned"])).content.decode()
        assert first.count('href="/visits/') == PAGE_SIZE
        assert f"Page 1 of 2 (1-{PAGE_SIZE} of {DRAFTS})" in first
        assert 'href="?page=2" rel="next"' in first
        second = client.get(reverse("worklists:kind", args=["unsigned"]) + "?page=2")
        assert second.content.decode().count('href="/visits/') == DRAFTS - PAGE_SIZE
        # A page number past the end or not a number shows the nearest page, not an error.
        for page in ("99", "x"):
            response = client.get(reverse("worklists:kind", args=["unsigned"]) + f"?page={page}")
            assert response.status_code == 200
        overview = client.get(reverse("worklists:index")).content.decode()
        assert f"The first 10 of {DRAFTS}." in overview
        assert f'<span class="count">{DRAFTS}</span>' in overview


def _remit(world: World, numbers: range, trace: str) -> None:
    """Post one Medicare 835 paying each patient's first signed visit this year: charge
    600.00, allowed 480.00 (paid 384.00, CO-45 120.00, PR-2 96.00) against the 525.00
    estimated."""
    payments = []
    for number in numbers:
        visit = (
            Visit.objects.filter(
                case__patient__last_name=f"Patient{number:03d}",
                status="signed",
                date__year=world.today.year,
            )
            .order_by("date")
            .first()
        )
        assert visit is not None
        claim = sent_claim(
            world,
            f"TR{number:08d}",
            (LineSpec("97535", ("GO",), 2, "600.00"),),
            visit=visit,
            patient=visit.case.patient,
        )
        [line] = claim.lines.all()
        payments.append(
            claim_payment(
                claim,
                [
                    paid_line(
                        line,
                        "384.00",
                        adjustment("CO", "45", "120.00"),
                        adjustment("PR", "2", "96.00"),
                        allowed="480.00",
                    ),
                ],
            )  # fmt: skip
        )
    remittance_post(
        user=world.biller, text=remittance_text(payments, trace=trace, control=int(trace))
    )


def _threshold_page(world: World) -> tuple[int, str]:
    client = world.client_for(world.biller)
    url = reverse("worklists:kind", args=["threshold"])
    client.get(url)  # the session's first-request queries are not the list's
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return len(captured.captured_queries), response.content.decode()


class ThresholdRemittedTests:
    def test_it_shows_estimated_remitted_and_difference_in_a_fixed_number_of_queries(
        self, world: World
    ) -> None:
        set_up_billing(world)
        _add_patients(world, 0, 1)
        _remit(world, range(0, 1), trace="11")
        one, html = _threshold_page(world)
        # 4 visits x 525.00 estimated = 2,100.00; one remitted at 480.00 allowed: 2,055.00.
        assert html.count("$2,100.00 of $2,480.00") == 1
        assert html.count('<td class="num wl-remitted">$2,055.00<br><small>1 visit remitted') == 1
        assert html.count('<td class="num wl-difference">-$45.00</td>') == 1
        _add_patients(world, 1, 3)
        _remit(world, range(1, 3), trace="12")  # patient 3 has no remittance
        four, html = _threshold_page(world)
        assert four == one
        assert html.count('<td class="num wl-difference">-$45.00</td>') == 3
        assert html.count('<td class="num wl-difference">$0.00</td>') == 1
        rows = {
            r.patient.last_name: (r.accrued, r.remitted, r.difference, r.visits_remitted)
            for r in threshold_nearing(user=world.biller)
        }
        assert rows == {
            "Patient000": (D("2100.00"), D("2055.00"), D("-45.00"), 1),
            "Patient001": (D("2100.00"), D("2055.00"), D("-45.00"), 1),
            "Patient002": (D("2100.00"), D("2055.00"), D("-45.00"), 1),
            "Patient003": (D("2100.00"), D("2100.00"), D("0.00"), 0),
        }

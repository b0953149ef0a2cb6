"""Two people at once, through the pages, on PostgreSQL: two billers making claims, two
billers posting the same 835, a therapist and an assistant issuing the same home program.
Neither answers 5xx; the work is done once (one claim per visit, one posting, one version)
and the other person is told why.

SQLite's in-memory test database is one connection, so threads cannot race there: these
tests skip without HANDRAIL_TEST_DATABASE_URL (`make test-postgres` sets it)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.db.models import Count
from django.test import Client
from django.urls import reverse

from handrail.web.billing.models import Claim
from handrail.web.clinic.models import User
from handrail.web.programs.models import LibraryEntry, ProgramVersion
from handrail.web.programs.services import ItemInput, program_create
from handrail.web.remittances.models import ClaimPayment, Remittance
from tests.web.billing_seed import set_up_billing, signed_ot_visit
from tests.web.conftest import World
from tests.web.remittance_seed import (
    LineSpec,
    adjustment,
    claim_payment,
    paid_line,
    remittance_text,
    sent_claim,
)

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _postgresql_only() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("races need PostgreSQL: set HANDRAIL_TEST_DATABASE_URL")


def _client(user: User) -> Client:
    client = Client(raise_request_exception=False)
    client.force_login(user)
    return client


def _at_once(calls: list[Callable[[], Any]]) -> list[Any]:
    """Each call in its own thread (its own database connection), released together."""
    results: list[Any] = [None] * len(calls)
    barrier = threading.Barrier(len(calls))

    def work(index: int) -> None:
        try:
            barrier.wait()
            results[index] = calls[index]()
        finally:
            connection.close()

    threads = [threading.Thread(target=work, args=(i,)) for i in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads), "a request hung"
    return results


class TwoAtOnceTests:
    def test_two_billers_making_claims_make_one_claim_per_visit(self, world: World) -> None:
        set_up_billing(world)
        visits = [signed_ot_visit(world, days) for days in (3, 5, 7)]
        clients = [_client(world.biller), _client(world.admin)]
        url = reverse("billing:claims-make")
        data = {"through": world.today.isoformat()}
        responses = _at_once([lambda c=c: c.post(url, data, follow=True) for c in clients])
        assert [r.status_code for r in responses] == [200, 200]
        per_visit = dict(
            Claim.objects.values_list("visit_id").annotate(n=Count("id")).order_by("visit_id")
        )
        assert per_visit == {visit.pk: 1 for visit in visits}
        pages = [r.content.decode() for r in responses]
        assert sum("Made 3 claim(s)" in page for page in pages) == 1, pages

    def test_two_billers_posting_one_835_post_it_once(self, world: World) -> None:
        from tests.web.remittance_seed import set_up_billing as set_up_remittances

        set_up_remittances(world)
        claim = sent_claim(world, "RT00000001", (LineSpec("97535", ("GO",), 2, "150.00"),))
        (line,) = claim.lines.all()
        payment = claim_payment(
            claim,
            [
                paid_line(
                    line,
                    "96.00",
                    adjustment("CO", "45", "30.00"),
                    adjustment("PR", "2", "24.00"),
                    allowed="120.00",
                )
            ],
        )
        text = remittance_text([payment]).encode()
        clients = [_client(world.biller), _client(world.admin)]
        url = reverse("remittances:list")

        def post(client: Client) -> Any:
            upload = SimpleUploadedFile("medicare.835", text, content_type="text/plain")
            return client.post(url, {"file": upload})

        responses = _at_once([lambda c=c: post(c) for c in clients])
        statuses = sorted(r.status_code for r in responses)
        assert all(status < 500 for status in statuses), statuses
        assert Remittance.objects.count() == 1
        assert ClaimPayment.objects.filter(claim=claim).count() == 1
        refused = [r for r in responses if r.status_code != 302]
        assert len(refused) == 1, statuses
        html = refused[0].content.decode()
        assert "posted" in html, html[:400]

    def test_two_people_issuing_one_program_issue_it_once(self, world: World) -> None:
        entry = LibraryEntry.objects.filter(clinic__isnull=True, kind="self_care").order_by("key")[
            0
        ]
        program = program_create(
            user=world.ot,
            case=world.ot_case,
            title="Dressing at home",
            items=[ItemInput(entry_id=entry.pk, dose={})],
        )
        url = reverse("programs:issue", args=[program.pk])
        clients = [_client(world.ot), _client(world.ota)]
        # Both opened the issue page on version 0 and press Issue together.
        responses = _at_once([lambda c=c: c.post(url, {"version": "0"}) for c in clients])
        assert sorted(r.status_code for r in responses) == [302, 400]
        assert list(ProgramVersion.objects.filter(program=program).values_list("number")) == [(1,)]
        (refused,) = [r for r in responses if r.status_code == 400]
        assert "issued version 1 after you opened this page" in refused.content.decode()

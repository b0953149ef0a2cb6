"""837P batches: every exported file passes pyx12 (0 errors) and the checks pyx12 does not
make; totals, NPIs and control numbers are right; control numbers are never reused, also
when billers export at once (PostgreSQL); a second download gives the same bytes; a batch
that cannot be written saves nothing."""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from handrail.claims.x12_validation import x12_errors
from handrail.web.audit.models import AuditAction, AuditEvent
from handrail.web.billing.batches import batch_create, batch_x12
from handrail.web.billing.claims import claims_from_visits
from handrail.web.billing.models import Batch, Claim, ClaimState, ClinicBilling, ControlCounter
from handrail.web.clinic.models import User
from tests.web.billing_seed import (
    CERTIFIER_NPI,
    GROUP_NPI,
    OT_NPI,
    commercial_patient_visit,
    set_up_billing,
    signed_ot_visit,
)
from tests.web.conftest import World


def _segments(text: str, tag: str) -> list[list[str]]:
    return [
        line.rstrip("~").split("*") for line in text.splitlines() if line.startswith(tag + "*")
    ]


def _check_file(text: str, claims: list[Claim]) -> None:
    assert x12_errors(text) == []
    clms = _segments(text, "CLM")
    assert [c[1] for c in clms] == [c.control_number for c in claims]
    # CLM02 is the sum of the claim's SV102s, claim by claim.
    blocks = re.split(r"\nCLM\*", text)[1:]
    for block, claim in zip(blocks, claims, strict=True):
        charges = [
            Decimal(seg.split("*")[2]) for seg in block.splitlines() if seg.startswith("SV1*")
        ]
        assert sum(charges) == Decimal(block.split("*")[1]) == claim.total_charge
        refs = [
            seg.rstrip("~").split("*")[2] for seg in block.splitlines() if seg.startswith("REF*6R")
        ]
        assert refs == [line.line_control_number for line in claim.lines.all()]
    npis = {seg[-1] for seg in _segments(text, "NM1") if "XX" in seg}
    assert {GROUP_NPI, OT_NPI, CERTIFIER_NPI} <= npis


@pytest.mark.django_db
class ExportTests:
    def test_it_writes_a_valid_file_and_marks_the_claims_sent(self, world: World) -> None:
        set_up_billing(world)
        for days in (3, 5, 7):
            signed_ot_visit(world, days, minutes=20 + days)
        batch = batch_create(user=world.biller, payer=world.medicare, through=world.today)
        claims = list(Claim.objects.filter(batch=batch).order_by("visit__date", "pk"))
        assert len(claims) == 3 == batch.claim_count
        assert all(c.state == ClaimState.SENT for c in claims)
        assert batch.total_charge == sum(c.total_charge for c in claims)
        _check_file(batch.x12, claims)
        isa = _segments(batch.x12, "ISA")[0]
        assert int(isa[13]) == batch.isa_control
        assert _segments(batch.x12, "ST")[0][2] == f"{batch.st_control:04d}"

    def test_the_same_batch_downloads_byte_for_byte_and_each_read_is_audited(
        self, world: World
    ) -> None:
        set_up_billing(world)
        signed_ot_visit(world, 3)
        batch = batch_create(user=world.biller, payer=world.medicare, through=world.today)
        first = batch_x12(user=world.biller, batch=batch)
        again = batch_x12(user=world.admin, batch=Batch.objects.get(pk=batch.pk))
        assert first == again == batch.x12
        views = AuditEvent.objects.filter(action=AuditAction.VIEW, object_type="batch")
        assert [e.patient for e in views] == [world.patient, world.patient]

    def test_control_numbers_are_never_reused(self, world: World) -> None:
        set_up_billing(world)
        seen: set[tuple[int, int, int]] = set()
        for days in (3, 4, 5):
            signed_ot_visit(world, days)
            batch = batch_create(
                user=world.biller, payer=world.medicare, through=world.today - timedelta(days)
            )
            seen.add((batch.isa_control, batch.gs_control, batch.st_control))
        assert seen == {(1, 1, 1), (2, 2, 2), (3, 3, 3)}

    def test_no_ready_claim_is_a_clear_error(self, world: World) -> None:
        set_up_billing(world)
        with pytest.raises(ValidationError) as raised:
            batch_create(user=world.biller, payer=world.medicare, through=world.today)
        assert "through" in raised.value.message_dict
        assert not Batch.objects.exists()

    def test_a_clinic_without_billing_identity_exports_nothing(self, world: World) -> None:
        set_up_billing(world)
        signed_ot_visit(world, 3)
        ClinicBilling.objects.all().delete()
        with pytest.raises(ValidationError) as raised:
            batch_create(user=world.biller, payer=world.medicare, through=world.today)
        assert "clinic_billing" in raised.value.message_dict
        assert not Batch.objects.exists() and not Claim.objects.exists()

    def test_a_claim_gone_bad_after_its_scrub_stops_the_whole_batch(self, world: World) -> None:
        set_up_billing(world)
        signed_ot_visit(world, 3)
        signed_ot_visit(world, 4)
        claims_from_visits(user=world.biller, clinic=world.clinic, through=world.today)
        assert Claim.objects.filter(state=ClaimState.READY).count() == 2
        User.objects.filter(pk=world.ot.pk).update(npi="1245319598")  # a wrong check digit
        with pytest.raises(ValidationError) as raised:
            batch_create(user=world.biller, payer=world.medicare, through=world.today)
        assert "check digit" in " ".join(raised.value.message_dict["claim"])
        assert not Batch.objects.exists()
        assert Claim.objects.filter(state=ClaimState.READY, batch=None).count() == 2
        # Nothing sent, so the numbers the failed export took were rolled back too.
        assert not ControlCounter.objects.filter(name="isa").exclude(value=0).exists()

    def test_batches_are_per_payer(self, world: World) -> None:
        set_up_billing(world)
        signed_ot_visit(world, 3)
        commercial_patient_visit(world)
        medicare = batch_create(user=world.biller, payer=world.medicare, through=world.today)
        commercial = batch_create(user=world.biller, payer=world.commercial, through=world.today)
        assert "NM1*PR*2*MEDICARE PART B*****PI*00952~" in medicare.x12
        assert "NM1*PR*2*ACME HEALTH*****PI*60054~" in commercial.x12
        assert "SBR*P*18*******CI~" in commercial.x12
        _check_file(commercial.x12, list(commercial.claims.all()))

    def test_a_replacement_claim_goes_out_with_frequency_7(self, world: World) -> None:
        from handrail.web.billing.claims import claim_correct
        from handrail.web.billing.services import change_state

        set_up_billing(world)
        signed_ot_visit(world, 3)
        first = batch_create(user=world.biller, payer=world.medicare, through=world.today)
        claim = first.claims.get()
        change_state(claim, ClaimState.DENIED, by=None, reason="835")
        new = claim_correct(
            user=world.biller, claim=claim, frequency="7", payer_claim_number="PCN7"
        )
        second = batch_create(user=world.biller, payer=world.medicare, through=world.today)
        assert second.claims.get() == new
        assert f"CLM*{new.control_number}*" in second.x12
        assert ":B:7*" in second.x12 and "REF*F8*PCN7~" in second.x12
        assert x12_errors(second.x12) == []


def _race(calls: list[Callable[[], Any]]) -> list[Any]:
    results: list[Any] = [None] * len(calls)
    barrier = threading.Barrier(len(calls))

    def work(index: int) -> None:
        try:
            barrier.wait()
            results[index] = calls[index]()
        except Exception as exc:  # each result is asserted by the caller
            results[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=work, args=(i,)) for i in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads), "a racing export hung"
    return results


@pytest.mark.django_db(transaction=True)
class ExportRaceTests:
    @pytest.fixture(autouse=True)
    def _postgresql_only(self) -> None:
        if connection.vendor != "postgresql":
            pytest.skip("export races need PostgreSQL: set HANDRAIL_TEST_DATABASE_URL")

    def test_two_billers_exporting_at_once_never_share_a_control_number(
        self, world: World
    ) -> None:
        set_up_billing(world)
        signed_ot_visit(world, 3)
        commercial_patient_visit(world)
        claims_from_visits(user=world.biller, clinic=world.clinic, through=world.today)
        results = _race(
            [
                lambda: batch_create(
                    user=world.biller, payer=world.medicare, through=world.today, make_claims=False
                ),
                lambda: batch_create(
                    user=world.admin,
                    payer=world.commercial,
                    through=world.today,
                    make_claims=False,
                ),
            ]
        )
        assert all(isinstance(r, Batch) for r in results), results
        controls = [(b.isa_control, b.gs_control, b.st_control) for b in results]
        assert sorted(controls) == [(1, 1, 1), (2, 2, 2)]
        for batch in results:
            assert x12_errors(batch.x12) == []

    def test_the_same_claims_go_into_one_batch_only(self, world: World) -> None:
        set_up_billing(world)
        signed_ot_visit(world, 3)
        signed_ot_visit(world, 4)
        claims_from_visits(user=world.biller, clinic=world.clinic, through=world.today)
        results = _race(
            [
                lambda user=user: batch_create(
                    user=user, payer=world.medicare, through=world.today, make_claims=False
                )
                for user in (world.biller, world.admin, world.biller)
            ]
        )
        batches = [r for r in results if isinstance(r, Batch)]
        refused = [r for r in results if isinstance(r, ValidationError)]
        assert (len(batches), len(refused)) == (1, 2), results
        assert all("through" in r.message_dict for r in refused)
        assert Claim.objects.filter(batch=batches[0], state=ClaimState.SENT).count() == 2
        assert Batch.objects.count() == 1

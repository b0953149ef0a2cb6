"""Claim events and posted remittances are append-only in the database (UPDATE and DELETE
refused by triggers on SQLite and PostgreSQL, through raw SQL and the ORM); a reversal is a
new posting."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import IntegrityError, connection, transaction

from handrail.claims import x835
from handrail.web.billing.models import Claim, ClaimEvent
from handrail.web.remittances.models import (
    Adjustment,
    ClaimPayment,
    LinePayment,
    PaymentAdvice,
    ProviderAdjustment,
    Remittance,
)
from handrail.web.remittances.services import remittance_post
from tests.web.conftest import World
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
# Each ledger table, a column to change and the value to try.
TABLES = [
    ("billing_claimevent", "reason", "'rewritten'"),
    ("remittances_remittance", "paid_total", "0"),
    ("remittances_paymentadvice", "total_paid", "0"),
    ("remittances_claimpayment", "paid", "0"),
    ("remittances_linepayment", "paid", "0"),
    ("remittances_adjustment", "amount", "0"),
    ("remittances_provideradjustment", "amount", "0"),
]


def _posted(world: World, trace: str = "12345678901", sign: int = 1) -> Claim:
    claim = Claim.objects.filter(control_number="HR00000001").first() or sent_claim(
        world, "HR00000001", (LineSpec("97535", ("GP",), 2, "150.00"),)
    )
    [line] = claim.lines.all()
    paid = D("96.00") * sign
    payment = claim_payment(
        claim,
        [paid_line(line, f"{paid}", adjustment("CO", "45", f"{D('30.00') * sign}"),
                   adjustment("PR", "2", f"{D('24.00') * sign}"), sign=sign)],
        status="1" if sign > 0 else "22",
    )  # fmt: skip
    plb = (x835.ProviderAdjustment("WO", "SY0", D("6.00")),) if sign > 0 else ()
    text = remittance_text([payment], trace=trace, control=int(trace[-4:]), plb=plb)
    remittance_post(user=world.biller, text=text)
    return claim


def _refused(sql: str) -> str:
    with (
        pytest.raises(IntegrityError) as refused,
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(sql)
    return str(refused.value)


def _rows(table: str) -> list[tuple[object, ...]]:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {table} ORDER BY id")
        return list(cursor.fetchall())


class LedgerAppendOnlyTests:
    @pytest.mark.parametrize(("table", "column", "value"), TABLES)
    def test_it_refuses_a_raw_update_and_delete(
        self, world: World, table: str, column: str, value: str
    ) -> None:
        set_up_billing(world)
        _posted(world)
        before = _rows(table)
        assert before  # the posting wrote to every ledger table
        update = _refused(f"UPDATE {table} SET {column} = {value}")
        assert f"append-only: UPDATE and DELETE are refused (UPDATE on {table})" in update
        delete = _refused(f"DELETE FROM {table}")
        assert f"append-only: UPDATE and DELETE are refused (DELETE on {table})" in delete
        assert _rows(table) == before

    def test_it_refuses_orm_updates_and_deletes(self, world: World) -> None:
        set_up_billing(world)
        claim = _posted(world)
        for model in (ClaimPayment, LinePayment, Adjustment, PaymentAdvice, ProviderAdjustment):
            with pytest.raises(IntegrityError), transaction.atomic():
                model.objects.all().delete()
        with pytest.raises(IntegrityError), transaction.atomic():
            Remittance.objects.update(filename="x")
        with pytest.raises(IntegrityError), transaction.atomic():
            ClaimEvent.objects.filter(claim=claim).update(reason="x")
        assert ClaimEvent.objects.filter(claim=claim, reason="x").count() == 0

    def test_a_reversal_is_new_rows(self, world: World) -> None:
        set_up_billing(world)
        claim = _posted(world)
        _posted(world, trace="99999999998", sign=-1)
        assert list(ClaimPayment.objects.order_by("pk").values_list("status", "paid")) == [
            ("1", D("96.00")),
            ("22", D("-96.00")),
        ]
        assert list(Adjustment.objects.order_by("pk").values_list("reason", "amount")) == [
            ("45", D("30.00")),
            ("2", D("24.00")),
            ("45", D("-30.00")),
            ("2", D("-24.00")),
        ]
        assert list(
            ClaimEvent.objects.filter(claim=claim).values_list("from_state", "to_state")
        ) == [("sent", "paid"), ("paid", "denied")]


@pytest.mark.django_db(transaction=True)
class LedgerAppendOnlyCommittedTests:
    def test_it_refuses_changes_to_committed_postings(self, world: World) -> None:
        """Outside a test transaction (autocommit, as in production) too; the teardown's
        flush still empties the tables (conftest lifts the triggers for it)."""
        set_up_billing(world)
        _posted(world)
        with pytest.raises(IntegrityError):
            LinePayment.objects.update(paid=0)
        with pytest.raises(IntegrityError):
            ClaimEvent.objects.all().delete()
        assert list(LinePayment.objects.values_list("paid", flat=True)) == [D("96.00")]

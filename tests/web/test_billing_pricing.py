"""Charges and expected payments: the charge master by date, a payer's contract (percent of
the Medicare fee schedule or a rate table) on the note's live panel and behind
`expected_amount`, which the remittance side uses to flag underpayments."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.urls import reverse

from handrail.web.billing.claims import claim_from_visit
from handrail.web.billing.models import (
    ChargeEntry,
    Contract,
    ContractRate,
    DatedRow,
    row_in_effect,
)
from handrail.web.billing.pricing import expected_amount, unit_charge
from tests.web.billing_seed import commercial_patient_visit, set_up_billing, signed_ot_visit
from tests.web.conftest import World

pytestmark = pytest.mark.django_db
D = Decimal


def test_the_charge_in_effect_on_the_date_of_service_is_used(world: World) -> None:
    set_up_billing(world, charges=False)
    ChargeEntry.objects.create(
        clinic=world.clinic,
        code="97535",
        charge=Decimal("80.00"),
        effective_from=date(2026, 1, 1),
        effective_to=date(2026, 11, 10),
    )
    ChargeEntry.objects.create(
        clinic=world.clinic,
        code="97535",
        charge=Decimal("99.00"),
        effective_from=date(2026, 11, 11),
    )
    assert unit_charge(world.clinic, "97535", date(2026, 11, 10)) == Decimal("80.00")
    assert unit_charge(world.clinic, "97535", date(2026, 11, 11)) == Decimal("99.00")
    assert unit_charge(world.clinic, "97535", date(2025, 12, 31)) is None
    assert unit_charge(world.other_clinic, "97535", date(2026, 11, 11)) is None
    claim = claim_from_visit(user=world.biller, visit=signed_ot_visit(world, 3, minutes=38))
    assert claim.lines.get().charge == Decimal("297.00")  # 3 units x 99.00


def test_medicare_without_a_contract_expects_the_fee_schedule(world: World) -> None:
    set_up_billing(world)
    visit = signed_ot_visit(world, 3)
    claim = claim_from_visit(user=world.biller, visit=visit)
    expected = expected_amount(claim.lines.get())
    assert expected.amount == Decimal(str(visit.evaluation["claim_lines"][0]["amount"]))
    assert "fee schedule" in expected.source


def test_a_percent_contract_pays_its_share_of_the_medicare_amount(world: World) -> None:
    set_up_billing(world)
    visit = commercial_patient_visit(world)
    Contract.objects.create(
        clinic=world.clinic,
        payer=world.commercial,
        kind="percent",
        percent=Decimal("110"),
        effective_from=date(2026, 1, 1),
    )
    claim = claim_from_visit(user=world.biller, visit=visit)
    line = claim.lines.get()
    medicare = Decimal(str(visit.evaluation["claim_lines"][0]["amount"]))
    expected = expected_amount(line)
    assert expected.amount == (medicare * Decimal("1.1")).quantize(Decimal("0.01"))
    assert "Acme Health contract, 110% of the Medicare fee schedule" in expected.source


def test_a_rate_table_pays_its_rate_per_unit_and_says_when_a_code_has_none(
    world: World,
) -> None:
    set_up_billing(world)
    visit = commercial_patient_visit(world)  # 97530, 25 minutes
    contract = Contract.objects.create(
        clinic=world.clinic, payer=world.commercial, kind="rates", effective_from=date(2026, 1, 1)
    )
    claim = claim_from_visit(user=world.biller, visit=visit)
    line = claim.lines.get()
    missing = expected_amount(line)
    assert missing.amount is None and "no rate for 97530" in missing.source
    ContractRate.objects.create(
        contract=contract, code="97530", rate=Decimal("41.50"), effective_from=date(2026, 1, 1)
    )
    assert expected_amount(line).amount == Decimal("41.50") * line.units


def test_a_commercial_payer_without_a_contract_has_no_expected_amount(world: World) -> None:
    set_up_billing(world)
    claim = claim_from_visit(user=world.biller, visit=commercial_patient_visit(world))
    expected = expected_amount(claim.lines.get())
    assert expected.amount is None and "No contract" in expected.source


def test_a_contract_out_of_effect_is_not_used(world: World) -> None:
    set_up_billing(world)
    visit = commercial_patient_visit(world)
    Contract.objects.create(
        clinic=world.clinic,
        payer=world.commercial,
        kind="percent",
        percent=Decimal("90"),
        effective_from=date(2026, 1, 1),
        effective_to=visit.date - timedelta(days=1),
    )
    claim = claim_from_visit(user=world.biller, visit=visit)
    assert expected_amount(claim.lines.get()).amount is None


def test_the_note_panel_shows_the_contract_for_a_commercial_payer(world: World) -> None:
    set_up_billing(world)
    visit = commercial_patient_visit(world)
    url = reverse("notes:panel", kwargs={"visit_id": visit.pk})
    before = world.client_for(world.ot).get(url).content.decode()
    assert "Acme Health contract" not in before
    Contract.objects.create(
        clinic=world.clinic,
        payer=world.commercial,
        kind="percent",
        percent=Decimal("80"),
        effective_from=date(2026, 1, 1),
    )
    html = world.client_for(world.ot).get(url).content.decode()
    medicare = Decimal(str(visit.evaluation["claim_lines"][0]["amount"]))
    contracted = (medicare * Decimal("0.8")).quantize(Decimal("0.01"))
    assert "Source: Acme Health contract, 80% of the Medicare fee schedule" in html
    assert f"{contracted:,}" in html
    # The Medicare patient's note keeps the fee schedule.
    medicare_visit = signed_ot_visit(world, 5)
    other = world.client_for(world.ot).get(
        reverse("notes:panel", kwargs={"visit_id": medicare_visit.pk})
    )
    assert "contract" not in other.content.decode().split('id="payment-source"')[1][:200]


class RowInEffectTests:
    """`row_in_effect` over a query and over rows already read: the latest started row in
    effect, both ends of a row's dates included (swept day by day across the boundaries)."""

    @pytest.mark.parametrize(
        ("day", "charge"),
        [
            (date(2025, 12, 31), None),
            (date(2026, 1, 1), "80.00"),
            (date(2026, 3, 31), "80.00"),
            (date(2026, 4, 1), "85.00"),  # a later start wins while both are in effect
            (date(2026, 6, 30), "85.00"),
            (date(2026, 7, 1), "80.00"),  # the later row ended: the open-ended one again
            (date(2026, 7, 2), "80.00"),
            (date(2030, 1, 1), "80.00"),
        ],
    )
    def test_it_picks_the_latest_started_row_in_effect(
        self, world: World, day: date, charge: str | None
    ) -> None:
        ChargeEntry.objects.create(
            clinic=world.clinic, code="97110", charge=D("80.00"), effective_from=date(2026, 1, 1)
        )
        ChargeEntry.objects.create(
            clinic=world.clinic, code="97110", charge=D("85.00"),
            effective_from=date(2026, 4, 1), effective_to=date(2026, 6, 30),
        )  # fmt: skip
        query = ChargeEntry.objects.filter(clinic=world.clinic, code="97110")
        from_query = row_in_effect(query, day)
        from_rows = row_in_effect(list(query), day)
        expected = None if charge is None else D(charge)
        assert (from_query.charge if from_query else None) == expected
        assert (from_rows.charge if from_rows else None) == expected
        assert unit_charge(world.clinic, "97110", day) == expected

    def test_charges_contracts_and_rates_share_the_dated_shape(self, world: World) -> None:
        for model in (ChargeEntry, Contract, ContractRate):
            assert issubclass(model, DatedRow)
            assert {f.name for f in model._meta.fields} >= {"effective_from", "effective_to"}
        rate = ContractRate(effective_from=date(2026, 1, 1), effective_to=date(2026, 1, 31))
        assert [rate.in_effect_on(date(2026, 1, d)) for d in (1, 31)] == [True, True]
        assert rate.in_effect_on(date(2025, 12, 31)) is False
        assert rate.in_effect_on(date(2026, 2, 1)) is False

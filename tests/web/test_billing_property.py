"""Property: random valid notes become claims whose 837P validates (pyx12, 0 errors) and
balances (CLM02 = the sum of SV102 = the claim's charge; each line's charge = units x the
charge master's charge), with every line sent with its REF*6R; or, when the engine finds an
error, a held claim that names why and is never exported."""

from __future__ import annotations

import itertools
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from handrail.claims.x12_validation import x12_errors
from handrail.web.billing.batches import batch_create
from handrail.web.billing.claims import claim_acknowledge, claim_from_visit
from handrail.web.billing.models import Batch, ClaimState
from handrail.web.visits.services import service_line_add, visit_create, visit_sign
from tests.web.billing_seed import CHARGES, NOTE, set_up_billing
from tests.web.conftest import World

CODES = ("97535", "97530", "97110", "97112")
lines_strategy = st.dictionaries(
    st.sampled_from(CODES), st.integers(min_value=8, max_value=75), min_size=1, max_size=4
)
DAYS = itertools.count(1)


@pytest.mark.django_db
@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(lines=lines_strategy)
def test_random_notes_become_valid_balanced_claims(world: World, lines: dict[str, int]) -> None:
    if not hasattr(world, "billing_ready"):
        set_up_billing(world)
        world.billing_ready = True  # type: ignore[attr-defined]
    day = world.today - timedelta(days=next(DAYS))
    visit = visit_create(user=world.ot, case=world.ot_case, date=day)
    for code, minutes in lines.items():
        service_line_add(user=world.ot, visit=visit, code=code, therapist_minutes=minutes, **NOTE)
    visit = visit_sign(user=world.ot, visit=visit, reason="property test")
    claim = claim_from_visit(user=world.biller, visit=visit)
    for line in claim.lines.all():
        assert line.charge == Decimal(CHARGES[line.code]) * line.units
        assert 1 <= len(line.diagnosis_pointers) <= 4
    assert claim.total_charge == sum(line.charge for line in claim.lines.all())
    if claim.hold_reasons:
        assert claim.state == ClaimState.HELD
        with pytest.raises(ValidationError):
            batch_create(user=world.biller, payer=world.medicare, through=day, make_claims=False)
        assert not Batch.objects.filter(claims=claim).exists()
        return
    if claim.state == ClaimState.HELD:
        claim = claim_acknowledge(user=world.biller, claim=claim)
    batch = batch_create(user=world.biller, payer=world.medicare, through=day, make_claims=False)
    assert list(batch.claims.all()) == [claim]
    assert x12_errors(batch.x12) == []
    segments = [s.rstrip("~").split("*") for s in batch.x12.splitlines()]
    clm = next(s for s in segments if s[0] == "CLM")
    sv1 = [Decimal(s[2]) for s in segments if s[0] == "SV1"]
    refs = [s[2] for s in segments if s[0] == "REF" and s[1] == "6R"]
    assert Decimal(clm[2]) == sum(sv1) == claim.total_charge
    assert refs == [line.line_control_number for line in claim.lines.all()]

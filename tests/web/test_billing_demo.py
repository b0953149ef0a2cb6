"""The demo clinic bills: identity, charge master, a contract for the commercial payer,
claims in every state a biller works with, and one exported batch that pyx12 accepts."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command

from handrail.claims.identifiers import npi_problem
from handrail.claims.x12_validation import x12_errors
from handrail.web.billing.models import (
    Batch,
    ChargeEntry,
    Claim,
    ClaimState,
    ClinicBilling,
    Contract,
)
from handrail.web.clinic.models import PayerType, User


@pytest.mark.django_db
def test_the_demo_clinic_has_billing_claims_and_an_exported_batch() -> None:
    call_command("load_demo", stdout=StringIO())
    identity = ClinicBilling.objects.get()
    assert npi_problem(identity.group_npi) is None
    assert ChargeEntry.objects.filter(code="97535").exists()
    contract = Contract.objects.get()
    assert contract.payer.type == PayerType.COMMERCIAL
    states = set(Claim.objects.values_list("state", flat=True))
    assert states >= {
        ClaimState.HELD,
        ClaimState.READY,
        ClaimState.SENT,
        ClaimState.ACCEPTED,
        ClaimState.REJECTED,
        ClaimState.PAID,
        ClaimState.PARTLY_PAID,
        ClaimState.DENIED,
        ClaimState.APPEALED,
        ClaimState.CLOSED,
    }
    batch = Batch.objects.get()
    assert batch.claim_count == batch.claims.count() > 5
    assert x12_errors(batch.x12) == []
    for user in User.objects.filter(role__in=["therapist", "assistant"]):
        assert npi_problem(user.npi) is None
    held = Claim.objects.filter(state=ClaimState.HELD).first()
    assert held is not None and (held.hold_reasons or held.warnings)

"""The demo clinic's posted 835 (issue 9): the claims still out with Medicare are posted, two
lines denied to work, and one denial pattern shows."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command

from handrail.web.billing.models import ClaimState
from handrail.web.clinic.models import User
from handrail.web.remittances.models import Remittance
from handrail.web.remittances.patterns import visible_patterns
from handrail.web.remittances.selectors import denial_rows


@pytest.mark.django_db
def test_the_demo_has_a_posted_remittance_with_denials_and_a_pattern() -> None:
    call_command("load_demo", stdout=StringIO())
    [remittance] = Remittance.objects.all()
    assert remittance.claims_matched >= 2
    biller = User.objects.get(username="biller")
    rows = denial_rows(user=biller)
    assert sorted(r.denial_codes[0] for r in rows if r.outcome == "denied") == ["CO-50", "CO-97"]
    for row in rows:
        assert row.claim.state in (ClaimState.PARTLY_PAID, ClaimState.DENIED)
        assert all(reason.known for reason in row.reasons)
    [pattern] = visible_patterns()
    assert (pattern.code, pattern.reason, pattern.reports, pattern.clinics) == (
        "97530", "CO-97", 5, 3,
    )  # fmt: skip

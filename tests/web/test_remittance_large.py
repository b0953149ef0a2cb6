"""A real large 835 through the API: a synthetic file over Django's 2.5 MB request limit
(DATA_UPLOAD_MAX_MEMORY_SIZE, which stays as it is for the rest of the site) posts whole
under REMITTANCE_MAX_BYTES; the claims it pays are written straight from the synthetic
batch (handrail.claims.synthetic) so that every CLP and SVC matches."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings

from handrail.claims.synthetic import CLINIC_NPI, remittance_for, synthetic_batch
from handrail.claims.x835_write import Envelope, write_835
from handrail.web.billing.models import Claim, ClaimLine, ClaimState, ClinicBilling
from handrail.web.remittances.models import ClaimPayment, LinePayment, Remittance
from handrail.web.visits.models import Visit
from tests.web.conftest import World
from tests.web.remittance_seed import set_up_billing

CLAIMS = 8_000  # about 2.7 MB of 835


def _claims_of(world: World, batch: Any) -> None:
    day = world.today
    visits = Visit.objects.bulk_create(
        Visit(clinic=world.clinic, case=world.ot_case, date=day - timedelta(days=400 + n),
              clinician=world.ot)
        for n in range(len(batch.claims))
    )  # fmt: skip
    claims = Claim.objects.bulk_create(
        Claim(
            clinic=world.clinic,
            visit=visit,
            patient=world.patient,
            payer=world.medicare,
            state=ClaimState.SENT,
            control_number=claim.control_number,
            total_charge=claim.total_charge,
            place_of_service="11",
            diagnoses=list(claim.diagnoses),
            rendering=world.ot,
        )  # fmt: skip
        for visit, claim in zip(visits, batch.claims, strict=True)
    )
    ClaimLine.objects.bulk_create(
        ClaimLine(
            claim=row,
            clinic=world.clinic,
            number=number,
            code=line.code,
            modifiers=list(line.modifiers),
            units=line.units,
            charge=line.charge,
            service_date=line.service_date,
            diagnosis_pointers=[1],
            line_control_number=line.control_number,
        )  # fmt: skip
        for row, claim in zip(claims, batch.claims, strict=True)
        for number, line in enumerate(claim.lines, start=1)
    )


class LargeRemittanceTests:
    def test_a_file_over_the_site_wide_limit_posts_whole_through_the_api(
        self, world: World
    ) -> None:
        set_up_billing(world)
        ClinicBilling.objects.filter(clinic=world.clinic).update(group_npi=CLINIC_NPI)
        batch = synthetic_batch(CLAIMS, seed=9)
        _claims_of(world, batch)
        remittance = remittance_for(batch, trace="LARGE0001")
        envelope = Envelope("MEDICAREB01", "RIVREHAB01", 77, datetime(2026, 12, 1, 9, 0))
        text = write_835([remittance], envelope)
        assert len(text.encode()) > settings.DATA_UPLOAD_MAX_MEMORY_SIZE == 2_621_440
        assert settings.REMITTANCE_MAX_BYTES == 52_428_800
        response = world.client_for(world.biller).post(
            "/api/remittances", data=text, content_type="text/plain"
        )
        assert response.status_code == 200, response.content[:500]
        lines = sum(len(c.lines) for c in batch.claims)
        body = response.json()
        assert (body["claims_matched"], body["lines_posted"]) == (CLAIMS, lines)
        assert Decimal(body["paid_total"]) == remittance.total_paid
        assert (Remittance.objects.count(), ClaimPayment.objects.count()) == (1, CLAIMS)
        assert LinePayment.objects.count() == lines
        assert Claim.objects.filter(state=ClaimState.PAID).count() == CLAIMS

"""The billing pages: settings forms name the bad field (NPI check digit, a charge of 0, a
contract without its percent) with a 422 and save nothing; claims by state, a claim and its
actions; the export page and the download; billers and admins only."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse

from handrail.claims.x12_validation import x12_errors
from handrail.web.audit.models import AuditAction, AuditEvent
from handrail.web.billing.models import (
    Batch,
    ChargeEntry,
    Claim,
    ClaimState,
    ClinicBilling,
    Contract,
    PayerBilling,
)
from handrail.web.billing.services import change_state
from handrail.web.clinic.models import User
from handrail.web.clinic.services import user_create
from tests.web.billing_seed import set_up_billing, signed_ot_visit
from tests.web.conftest import PASSWORD, World

pytestmark = pytest.mark.django_db

IDENTITY = {
    "legal_name": "Riverside Rehab LLC",
    "group_npi": "1234567893",
    "tax_id": "37-1234567",
    "taxonomy": "225100000X",
    "address_line1": "123 Main St",
    "address_line2": "",
    "city": "Springfield",
    "state": "IL",
    "zip_code": "62701-1234",
    "submitter_id": "RIVREHAB01",
    "submitter_name": "Riverside Rehab",
    "contact_name": "Bill Test",
    "contact_phone": "217-555-1234",
    "contact_email": "",
    "receiver_id": "CLRHOUSE01",
    "receiver_name": "Example Clearinghouse",
}


class SettingsTests:
    def test_the_identity_form_checks_the_npi_digit_and_saves_a_good_one(
        self, world: World
    ) -> None:
        client = world.client_for(world.biller)
        url = reverse("billing:settings")
        bad = client.post(url, {**IDENTITY, "group_npi": "1234567890", "tax_id": "12"})
        assert bad.status_code == 422
        html = bad.content.decode()
        assert "the check digit is wrong (the tenth digit should be 3" in html
        assert "is not a tax id" in html
        assert not ClinicBilling.objects.exists()
        reserved = client.post(url, {**IDENTITY, "legal_name": "Rehab*Co"})
        assert reserved.status_code == 422 and "X12 reserves" in reserved.content.decode()
        ok = client.post(url, IDENTITY)
        assert ok.status_code == 302
        saved = ClinicBilling.objects.get(clinic=world.clinic)
        assert (saved.group_npi, saved.zip_code) == ("1234567893", "627011234")
        event = AuditEvent.objects.latest("pk")
        assert (event.action, event.object_type, event.user) == (
            AuditAction.CREATE,
            "clinicbilling",
            world.biller,
        )
        assert event.detail.startswith("billing identity: changed ")

    def test_a_charge_of_zero_is_refused_by_name(self, world: World) -> None:
        client = world.client_for(world.admin)
        url = reverse("billing:charges")
        data = {"code": "97535", "charge": "0", "effective_from": "2026-01-01"}
        response = client.post(url, data)
        assert response.status_code == 422
        assert "A charge must be more than 0." in response.content.decode()
        assert client.post(url, {**data, "code": "9753"}).status_code == 422
        assert client.post(url, {**data, "charge": "95.00"}).status_code == 302
        again = client.post(url, {**data, "charge": "96.00"})
        assert again.status_code == 422
        assert ChargeEntry.objects.get().charge == Decimal("95.00")

    def test_a_payer_gets_its_id_and_a_contract(self, world: World) -> None:
        client = world.client_for(world.biller)
        url = reverse("billing:payer", args=[world.commercial.pk])
        saved = client.post(
            url,
            {
                "payer-electronic_id": "60054",
                "payer-filing_indicator": "CI",
                "payer-requires_referring_provider": "on",
            },
        )
        assert saved.status_code == 302
        assert PayerBilling.objects.get(payer=world.commercial).electronic_id == "60054"
        add = reverse("billing:contract-add", args=[world.commercial.pk])
        no_percent = client.post(
            add, {"contract-kind": "percent", "contract-effective_from": "2026-01-01"}
        )
        assert no_percent.status_code == 422
        assert "A percent contract needs a percent above 0." in no_percent.content.decode()
        ok = client.post(
            add,
            {
                "contract-kind": "rates",
                "contract-effective_from": "2026-01-01",
            },
        )
        assert ok.status_code == 302
        contract = Contract.objects.get(payer=world.commercial)
        rate_url = reverse("billing:contract-rate-add", args=[world.commercial.pk, contract.pk])
        prefix = f"rate{contract.pk}"
        rate = client.post(
            rate_url,
            {
                f"{prefix}-code": "97530",
                f"{prefix}-rate": "41.50",
                f"{prefix}-effective_from": "2026-01-01",
            },
        )
        assert rate.status_code == 302
        assert contract.rates.get().rate == Decimal("41.50")
        page = client.get(url).content.decode()
        assert "41.50" in page

    def test_a_clinicians_npi_is_checked(self, world: World) -> None:
        client = world.client_for(world.biller)
        url = reverse("billing:clinician", args=[world.ot.pk])
        bad = client.post(url, {"npi": "1245319598", "taxonomy": ""})
        assert bad.status_code == 422 and "check digit" in bad.content.decode()
        ok = client.post(url, {"npi": "1245319599", "taxonomy": "225x00000x"})
        assert ok.status_code == 302
        world.ot.refresh_from_db()
        assert world.ot.npi == "1245319599"
        event = AuditEvent.objects.latest("pk")
        assert event.detail.endswith("NPI (none) -> 1245319599")
        assert world.ot.billing.taxonomy == "225X00000X"

    def test_other_roles_and_clinics_are_refused(self, world: World) -> None:
        pages = [
            reverse("billing:settings"),
            reverse("billing:charges"),
            reverse("billing:claims"),
            reverse("billing:batches"),
            reverse("billing:payer", args=[world.medicare.pk]),
        ]
        for user in (world.pt, world.ot, world.ota, world.front_desk):
            client = world.client_for(user)
            for url in pages:
                assert client.get(url).status_code == 403, (user, url)
        other_biller = user_create(
            clinic=world.other_clinic, username="obill", password=PASSWORD, role="biller"
        )
        response = world.client_for(other_biller).get(pages[-1])
        assert response.status_code == 404


class ClaimPageTests:
    def test_a_biller_makes_claims_and_works_a_held_one(self, world: World) -> None:
        set_up_billing(world, charges=False)
        signed_ot_visit(world, 3)
        client = world.client_for(world.biller)
        made = client.post(reverse("billing:claims-make"), {"through": str(world.today)})
        assert made.status_code == 302
        claim = Claim.objects.get()
        assert claim.state == ClaimState.HELD
        listing = client.get(reverse("billing:claims"), {"state": "held"}).content.decode()
        assert claim.control_number in listing and "Held (1)" in listing
        assert "No charge for 97535" in listing
        page = client.get(reverse("billing:claim", args=[claim.pk])).content.decode()
        assert "charge</strong>: No charge for 97535" in page
        ChargeEntry.objects.create(
            clinic=world.clinic, code="97535", charge=Decimal("90"), effective_from=world.today
        )
        # The visit was 3 days ago: a charge from today does not cover it.
        client.post(reverse("billing:claim-rescrub", args=[claim.pk]))
        assert Claim.objects.get().state == ClaimState.HELD
        ChargeEntry.objects.filter(code="97535").update(effective_from="2026-01-01")
        client.post(reverse("billing:claim-rescrub", args=[claim.pk]))
        assert Claim.objects.get().state == ClaimState.READY

    def test_a_denied_claim_gets_a_replacement_from_its_page(self, world: World) -> None:
        set_up_billing(world)
        signed_ot_visit(world, 3)
        client = world.client_for(world.biller)
        client.post(reverse("billing:claims-make"), {"through": str(world.today)})
        claim = Claim.objects.get()
        change_state(claim, ClaimState.SENT, by=world.biller)
        change_state(claim, ClaimState.DENIED, by=None, reason="835")
        url = reverse("billing:claim-correct", args=[claim.pk])
        missing = client.post(url, {"frequency": "7", "payer_claim_number": ""}, follow=True)
        assert "payer_claim_number: The payer" in missing.content.decode()
        done = client.post(url, {"frequency": "7", "payer_claim_number": "PCN-1"})
        new = Claim.objects.get(frequency="7")
        assert done["Location"] == reverse("billing:claim", args=[new.pk])
        assert Claim.objects.get(pk=claim.pk).state == ClaimState.CLOSED

    def test_closing_needs_a_reason(self, world: World) -> None:
        set_up_billing(world)
        signed_ot_visit(world, 3)
        client = world.client_for(world.biller)
        client.post(reverse("billing:claims-make"), {"through": str(world.today)})
        claim = Claim.objects.get()
        url = reverse("billing:claim-close", args=[claim.pk])
        client.post(url, {"reason": ""})
        assert Claim.objects.get().state == ClaimState.READY
        client.post(url, {"reason": "Patient paid privately"})
        assert Claim.objects.get().state == ClaimState.CLOSED


class ExportPageTests:
    def test_the_export_page_writes_a_batch_and_downloads_it(self, world: World) -> None:
        set_up_billing(world)
        signed_ot_visit(world, 3)
        client = world.client_for(world.biller)
        page = client.get(reverse("billing:batches"))
        assert page.status_code == 200
        response = client.post(
            reverse("billing:batch-export"),
            {"payer": world.medicare.pk, "through": str(world.today)},
        )
        assert response.status_code == 302
        batch = Batch.objects.get()
        download = client.get(reverse("billing:batch-download", args=[batch.pk]))
        assert download["Content-Disposition"] == (
            f'attachment; filename="837p-{batch.isa_control:09d}.x12"'
        )
        assert download.content.decode() == batch.x12 and x12_errors(batch.x12) == []
        listing = client.get(reverse("billing:batches")).content.decode()
        assert f"{batch.isa_control:09d}" in listing

    def test_an_export_that_cannot_be_written_says_why_and_saves_nothing(
        self, world: World
    ) -> None:
        set_up_billing(world)
        signed_ot_visit(world, 3)
        User.objects.filter(pk=world.ot.pk).update(npi="")
        client = world.client_for(world.biller)
        response = client.post(
            reverse("billing:batch-export"),
            {"payer": world.medicare.pk, "through": str(world.today)},
        )
        assert response.status_code == 422
        assert "No ready claims for Medicare Part B" in response.content.decode()
        assert "(1 held: see why on the claims page)" in response.content.decode()
        assert not Batch.objects.exists()
        assert Claim.objects.get().state == ClaimState.HELD


def test_the_note_shows_its_claims_state_and_only_billers_get_the_link(world: World) -> None:
    set_up_billing(world)
    visit = signed_ot_visit(world, 3)
    note = reverse("notes:note", args=[visit.pk])
    assert 'id="claim-state"' not in world.client_for(world.ot).get(note).content.decode()
    world.client_for(world.biller).post(
        reverse("billing:claims-make"), {"through": str(world.today)}
    )
    claim = Claim.objects.get()
    therapist = world.client_for(world.ot).get(note).content.decode()
    assert f"Claim {claim.control_number}: <strong>Ready</strong>" in therapist
    assert reverse("billing:claim", args=[claim.pk]) not in therapist
    biller = world.client_for(world.biller).get(note).content.decode()
    assert reverse("billing:claim", args=[claim.pk]) in biller


def test_the_claim_list_pages_and_keeps_the_state(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    from handrail.web.billing import views
    from tests.web.billing_seed import bare_claim

    visit = signed_ot_visit(world, 3)
    monkeypatch.setattr(views, "PAGE_SIZE", 2)
    for number in range(3):
        claim = bare_claim(world, visit)
        Claim.objects.filter(pk=claim.pk).update(
            control_number=f"HRP{number}", frequency="7", payer_claim_number="X"
        )
    client = world.client_for(world.biller)
    first = client.get(reverse("billing:claims"), {"state": "held"}).content.decode()
    assert "Page 1 of 2 (1-2 of 3)" in first
    assert 'href="?state=held&amp;page=2"' in first
    second = client.get(reverse("billing:claims"), {"state": "held", "page": "2"})
    assert "Page 2 of 2 (3-3 of 3)" in second.content.decode()
    assert client.get(reverse("billing:claims"), {"page": "x"}).status_code == 200

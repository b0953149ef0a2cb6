"""The billing API: payers, batches (with their 837P) and claims; errors name the field,
unknown fields are refused, only billers and admins see claims, and reads are audited."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from handrail.claims.x12_validation import x12_errors
from handrail.web.audit.models import AuditAction, AuditEvent
from handrail.web.billing.models import Batch, Claim
from tests.web.billing_seed import set_up_billing, signed_ot_visit
from tests.web.conftest import World

pytestmark = pytest.mark.django_db
CSRF = "a" * 32


def _client(user: Any) -> Client:
    client = Client(enforce_csrf_checks=True, HTTP_X_CSRFTOKEN=CSRF)
    client.force_login(user)
    client.cookies["csrftoken"] = CSRF
    return client


def _post(client: Client, body: Any) -> Any:
    return client.post("/api/claims/batches", body, content_type="application/json")


def test_it_lists_the_clinics_payers_with_their_ids(world: World) -> None:
    set_up_billing(world)
    response = _client(world.ot).get("/api/payers")
    assert response.status_code == 200
    payers = {p["name"]: p for p in response.json()}
    assert set(payers) == {"Medicare Part B", "Acme Health"}
    assert payers["Medicare Part B"]["electronic_id"] == "00952"
    assert payers["Medicare Part B"]["assistant_cosign_required"] is True
    assert _client(world.outsider).get("/api/payers").json() == []


def test_a_biller_exports_a_batch_and_downloads_its_file(world: World) -> None:
    set_up_billing(world)
    signed_ot_visit(world, 3)
    client = _client(world.biller)
    response = _post(client, {"payer_id": world.medicare.pk, "through": str(world.today)})
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["claims"], body["total_charge"]) == (1, "285.00")
    batch = Batch.objects.get(pk=body["id"])
    x12 = client.get(f"/api/claims/batches/{batch.pk}/x12")
    assert x12.status_code == 200
    assert x12["Content-Type"] == "text/plain; charset=utf-8"
    assert x12.content.decode() == batch.x12 and x12_errors(batch.x12) == []
    again = client.get(f"/api/claims/batches/{batch.pk}/x12")
    assert again.content == x12.content


def test_it_names_the_field_and_refuses_unknown_ones(world: World) -> None:
    set_up_billing(world)
    client = _client(world.biller)
    unknown = _post(client, {"payer_id": world.medicare.pk, "through": "2026-11-01", "x": 1})
    assert unknown.status_code == 422
    assert "x" in str(unknown.json())
    missing = _post(client, {"payer_id": world.medicare.pk})
    assert missing.status_code == 422 and "through" in str(missing.json())
    none_ready = _post(client, {"payer_id": world.medicare.pk, "through": "2026-11-01"})
    assert none_ready.status_code == 400
    assert none_ready.json()["detail"].startswith("through:")
    other = _post(client, {"payer_id": 999999, "through": "2026-11-01"})
    assert other.status_code == 404
    future = _post(client, {"payer_id": world.medicare.pk, "through": "2099-01-01"})
    assert future.status_code == 400 and future.json()["detail"].startswith("through:")
    assert not Batch.objects.exists()


def test_a_charge_of_zero_holds_the_claim_and_exports_nothing(world: World) -> None:
    set_up_billing(world, charges=False)
    signed_ot_visit(world, 3)
    response = _post(
        _client(world.biller), {"payer_id": world.medicare.pk, "through": str(world.today)}
    )
    assert response.status_code == 400
    claim = Claim.objects.get()
    assert claim.state == "held" and claim.hold_reasons[0]["field"] == "charge"
    assert not Batch.objects.exists()


def test_a_claim_reads_with_lines_state_and_expected_payment(world: World) -> None:
    set_up_billing(world)
    signed_ot_visit(world, 3)
    client = _client(world.biller)
    _post(client, {"payer_id": world.medicare.pk, "through": str(world.today)})
    claim = Claim.objects.get()
    before = AuditEvent.objects.filter(action=AuditAction.VIEW).count()
    response = client.get(f"/api/claims/{claim.pk}")
    assert response.status_code == 200
    body = response.json()
    assert (body["state"], body["frequency"], body["control_number"]) == (
        "sent",
        "1",
        claim.control_number,
    )
    [line] = body["lines"]
    assert (line["code"], line["units"], line["modifiers"]) == ("97535", 3, ["GO"])
    assert line["line_control_number"] == f"{claim.control_number}-1"
    assert line["expected_amount"] == "77.76"
    assert "Medicare" in line["expected_source"]
    assert (body["payments"], body["adjustments"]) == ([], [])
    views = AuditEvent.objects.filter(action=AuditAction.VIEW)
    assert views.count() == before + 1
    event = views.latest("pk")
    assert (event.object_type, event.patient, event.detail) == (
        "claim",
        world.patient,
        "api claim",
    )


def test_only_billers_and_admins_see_claims(world: World) -> None:
    set_up_billing(world)
    signed_ot_visit(world, 3)
    _post(_client(world.biller), {"payer_id": world.medicare.pk, "through": str(world.today)})
    claim, batch = Claim.objects.get(), Batch.objects.get()
    for user in (world.ot, world.ota, world.pt, world.front_desk):
        client = _client(user)
        assert client.get(f"/api/claims/{claim.pk}").status_code == 403
        assert client.get(f"/api/claims/batches/{batch.pk}/x12").status_code == 403
        assert (
            _post(client, {"payer_id": world.medicare.pk, "through": "2026-11-01"}).status_code
            == 403
        )
    assert _client(world.admin).get(f"/api/claims/{claim.pk}").status_code == 200
    outsider_biller = world.outsider
    assert _client(outsider_biller).get(f"/api/claims/{claim.pk}").status_code == 403

"""Posting 835 remittances (issue 9): the ledger to the cent, claim states, and refusals that
post nothing."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.test import Client

from handrail.claims import x835
from handrail.web.audit.models import AuditAction, AuditEvent
from handrail.web.billing.models import Claim, ClaimEvent, ClaimState, PayerBilling
from handrail.web.remittances.models import (
    Adjustment,
    ClaimPayment,
    LinePayment,
    ProviderAdjustment,
    Remittance,
)
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
URL = "/api/remittances"
LINES = (LineSpec("97535", ("GP",), 2, "150.00"), LineSpec("97530", ("GP", "59"), 1, "125.00"))


@pytest.fixture
def claim(world: World) -> Claim:
    set_up_billing(world)
    return sent_claim(world, "HR00000001", LINES)


def _post(world: World, text: str, client: Client | None = None) -> Any:
    client = client or world.client_for(world.biller)
    return client.post(URL, data=text, content_type="text/plain")


def _lines(claim: Claim) -> list[Any]:
    return list(claim.lines.order_by("number"))


def _ledger(claim: Claim) -> list[tuple[str, Decimal, list[tuple[str, str, Decimal]]]]:
    """Each line's net payment and its adjustments (group, reason, amount) in posting order."""
    out = []
    for line in _lines(claim):
        paid = sum((p.paid for p in LinePayment.objects.filter(line=line)), D("0"))
        adjustments = [
            (a.group, a.reason, a.amount)
            for a in Adjustment.objects.filter(line_payment__line=line).order_by("pk")
        ]
        out.append((line.code, paid, adjustments))
    return out


def _full_payment(claim: Claim) -> x835.ClaimPayment:
    first, second = _lines(claim)
    return claim_payment(
        claim,
        [
            paid_line(first, "96.00", adjustment("CO", "45", "30.00"),
                      adjustment("PR", "2", "24.00"), allowed="120.00"),
            paid_line(second, "80.00", adjustment("CO", "45", "25.00"),
                      adjustment("PR", "2", "20.00"), allowed="100.00"),
        ],
    )  # fmt: skip


def _nothing_posted() -> None:
    assert (Remittance.objects.count(), ClaimPayment.objects.count()) == (0, 0)
    assert (LinePayment.objects.count(), Adjustment.objects.count()) == (0, 0)


class PostingTests:
    def test_full_payment_with_contractual_and_coinsurance(
        self, world: World, claim: Claim
    ) -> None:
        response = _post(world, remittance_text([_full_payment(claim)]))
        assert response.status_code == 200, response.content
        body = response.json()
        assert (body["claims_matched"], body["lines_posted"], body["unmatched"]) == (1, 2, [])
        assert (D(body["paid_total"]), D(body["adjustment_total"])) == (D("176.00"), D("99.00"))
        assert _ledger(claim) == [
            ("97535", D("96.00"), [("CO", "45", D("30.00")), ("PR", "2", D("24.00"))]),
            ("97530", D("80.00"), [("CO", "45", D("25.00")), ("PR", "2", D("20.00"))]),
        ]
        claim.refresh_from_db()
        assert (claim.state, claim.payer_claim_number) == (ClaimState.PAID, "26123456789000")
        event = ClaimEvent.objects.filter(claim=claim).latest("pk")
        assert (event.from_state, event.to_state, event.by) == ("sent", "paid", world.biller)
        [line_payment] = LinePayment.objects.filter(line__number=1)
        assert (line_payment.allowed, line_payment.matched_by) == (D("120.00"), "6R")
        audit = AuditEvent.objects.filter(object_type="claim").latest("pk")
        assert (audit.action, audit.patient, audit.user) == (
            AuditAction.UPDATE, world.patient, world.biller,
        )  # fmt: skip

    def test_deductible_and_coinsurance_go_to_the_patient(
        self, world: World, claim: Claim
    ) -> None:
        first, second = _lines(claim)
        payment = claim_payment(
            claim,
            [
                paid_line(first, "96.00", adjustment("CO", "45", "30.00"),
                          adjustment("PR", "2", "24.00")),
                paid_line(second, "0.00", adjustment("CO", "45", "25.00"),
                          adjustment("PR", "1", "100.00")),
            ],
        )  # fmt: skip
        assert _post(world, remittance_text([payment])).status_code == 200
        [posted] = ClaimPayment.objects.all()
        assert (posted.paid, posted.patient_responsibility) == (D("96.00"), D("124.00"))
        patient = sum(
            (a.amount for a in Adjustment.objects.filter(group="PR", claim_payment=posted)),
            D("0"),
        )
        assert patient == D("124.00")
        claim.refresh_from_db()
        # A line met entirely by the deductible is adjudicated, not denied.
        assert claim.state == ClaimState.PAID

    def test_a_denied_line_makes_the_claim_partly_paid(self, world: World, claim: Claim) -> None:
        first, second = _lines(claim)
        payment = claim_payment(
            claim,
            [
                paid_line(first, "96.00", adjustment("CO", "45", "30.00"),
                          adjustment("PR", "2", "24.00")),
                paid_line(second, "0.00", adjustment("CO", "97", "125.00"), remarks=("N20",)),
            ],
        )  # fmt: skip
        response = _post(world, remittance_text([payment]))
        assert response.status_code == 200
        assert D(response.json()["adjustment_total"]) == D("179.00")
        claim.refresh_from_db()
        assert claim.state == ClaimState.PARTLY_PAID
        denied = LinePayment.objects.get(line__number=2)
        assert (denied.paid, denied.remarks) == (D("0.00"), ["N20"])

    def test_a_fully_denied_claim(self, world: World, claim: Claim) -> None:
        first, second = _lines(claim)
        payment = claim_payment(
            claim,
            [
                paid_line(first, "0", adjustment("CO", "50", "150.00")),
                paid_line(second, "0", adjustment("CO", "50", "125.00")),
            ],
            status="4",
        )
        assert _post(world, remittance_text([payment])).status_code == 200
        claim.refresh_from_db()
        assert claim.state == ClaimState.DENIED

    def test_a_reversal_takes_the_payment_back(self, world: World, claim: Claim) -> None:
        other = sent_claim(world, "HR00000002", (LineSpec("97110", ("GP",), 2, "200.00"),))
        assert _post(world, remittance_text([_full_payment(claim)])).status_code == 200
        first, second = _lines(claim)
        reversal = claim_payment(
            claim,
            [
                paid_line(first, "-96.00", adjustment("CO", "45", "-30.00"),
                          adjustment("PR", "2", "-24.00"), sign=-1),
                paid_line(second, "-80.00", adjustment("CO", "45", "-25.00"),
                          adjustment("PR", "2", "-20.00"), sign=-1),
            ],
            status="22",
        )  # fmt: skip
        [other_line] = _lines(other)
        other_payment = claim_payment(
            other,
            [paid_line(other_line, "200.00")],
            payer_claim_number="26999999999000",
        )
        text = remittance_text([reversal, other_payment], trace="99999999999", control=3)
        response = _post(world, text)
        assert response.status_code == 200, response.content
        assert D(response.json()["paid_total"]) == D("24.00")
        assert _ledger(claim) == [
            ("97535", D("0.00"), [("CO", "45", D("30.00")), ("PR", "2", D("24.00")),
                                  ("CO", "45", D("-30.00")), ("PR", "2", D("-24.00"))]),
            ("97530", D("0.00"), [("CO", "45", D("25.00")), ("PR", "2", D("20.00")),
                                  ("CO", "45", D("-25.00")), ("PR", "2", D("-20.00"))]),
        ]  # fmt: skip
        claim.refresh_from_db()
        other.refresh_from_db()
        assert (claim.state, other.state) == (ClaimState.DENIED, ClaimState.PAID)
        # The reversal keeps the payer's claim number of the original.
        assert claim.payer_claim_number == "26123456789000"
        moves = list(ClaimEvent.objects.filter(claim=claim).values_list("from_state", "to_state"))
        assert moves[-2:] == [("sent", "paid"), ("paid", "denied")]

    def test_a_provider_level_adjustment(self, world: World, claim: Claim) -> None:
        plb = (x835.ProviderAdjustment("WO", "HR00000000", D("10.00")),
               x835.ProviderAdjustment("L6", "", D("-1.25")))  # fmt: skip
        response = _post(world, remittance_text([_full_payment(claim)], plb=plb))
        assert response.status_code == 200, response.content
        body = response.json()
        assert (D(body["paid_total"]), D(body["provider_adjustment_total"])) == (
            D("167.25"), D("8.75"),
        )  # fmt: skip
        assert list(ProviderAdjustment.objects.values_list("reason", "reference", "amount")) == [
            ("WO", "HR00000000", D("10.00")),
            ("L6", "", D("-1.25")),
        ]

    def test_lines_without_ref_6r_match_by_code_modifiers_and_date(
        self, world: World, claim: Claim
    ) -> None:
        first, second = _lines(claim)
        payment = claim_payment(
            claim,
            [
                paid_line(second, "100.00", adjustment("CO", "45", "25.00"),
                          send_control_number=False),
                paid_line(first, "120.00", adjustment("CO", "45", "30.00"),
                          send_control_number=False),
            ],
        )  # fmt: skip
        assert _post(world, remittance_text([payment])).status_code == 200
        assert [(p.line.number, p.matched_by, p.paid) for p in LinePayment.objects.all()] == [
            (2, "code", D("100.00")),
            (1, "code", D("120.00")),
        ]

    def test_the_upload_page_posts_a_file(self, world: World, claim: Claim) -> None:
        from django.core.files.uploadedfile import SimpleUploadedFile

        client = world.client_for(world.biller)
        upload = SimpleUploadedFile("era.835", remittance_text([_full_payment(claim)]).encode())
        response = client.post("/remittances/", {"file": upload}, follow=True)
        assert response.status_code == 200
        assert "Posted 1 claim(s), 2 line(s): paid 176.00" in response.content.decode()
        assert Remittance.objects.get().filename == "era.835"


class RefusalTests:
    def test_the_same_file_twice_posts_nothing_twice(self, world: World, claim: Claim) -> None:
        text = remittance_text([_full_payment(claim)])
        assert _post(world, text).status_code == 200
        again = _post(world, "\n\n" + text)
        assert again.status_code == 409
        assert again.json()["problems"][0].startswith("file: this file was already posted on ")
        assert (ClaimPayment.objects.count(), LinePayment.objects.count()) == (1, 2)

    def test_the_same_payment_in_a_new_envelope_is_refused(
        self, world: World, claim: Claim
    ) -> None:
        assert _post(world, remittance_text([_full_payment(claim)])).status_code == 200
        again = _post(world, remittance_text([_full_payment(claim)], control=7))
        assert again.status_code == 409
        assert again.json()["problems"] == [
            "payment 12345678901 TRN02: this payment was already posted; nothing was posted again"
        ]
        assert ClaimPayment.objects.count() == 1

    def test_an_unbalanced_file_names_the_segment(self, world: World, claim: Claim) -> None:
        text = remittance_text([_full_payment(claim)]).replace(
            "SVC*HC:97535:GP*150.00*96.00", "SVC*HC:97535:GP*150.00*97.00"
        )
        response = _post(world, text)
        assert response.status_code == 422
        assert response.json()["problems"] == [
            "claim HR00000001 (segment 13) line 97535 (segment 15): charge 150.00 - adjustments "
            "54.00 = 96.00, but the payer says it paid 97.00"
        ]
        _nothing_posted()

    def test_a_truncated_file_is_refused(self, world: World, claim: Claim) -> None:
        text = remittance_text([_full_payment(claim)])
        response = _post(world, text[: len(text) // 2])
        assert response.status_code == 422
        body = response.json()
        assert body["detail"].startswith("Nothing was posted. X12 ")
        assert body["problems"]
        _nothing_posted()

    @pytest.mark.parametrize(
        ("body", "problem"),
        [
            (b"", "file: the file is empty; upload the 835 as received"),
            (b"hello", "segment 1: an X12 file starts with an ISA segment; this is not an 835"),
            (b"ISA\xff\xfe", "body: the file is not UTF-8 (or ASCII) text"),
        ],
    )
    def test_not_an_835(self, world: World, claim: Claim, body: bytes, problem: str) -> None:
        response = world.client_for(world.biller).post(URL, data=body, content_type="text/plain")
        assert response.status_code == 422
        assert response.json()["problems"] == [problem]

    def test_another_clinics_npi_is_refused(self, world: World, claim: Claim) -> None:
        response = _post(world, remittance_text([_full_payment(claim)], npi="1245319599"))
        assert response.status_code == 422
        assert response.json()["problems"] == [
            "payment 12345678901 N1*PE: the payee NPI 1245319599 is not this clinic's "
            "(1234567893); this remittance is for another provider"
        ]
        _nothing_posted()

    def test_another_payers_claim_refuses_the_whole_file(self, world: World, claim: Claim) -> None:
        acme = sent_claim(world, "HR00000005", LINES[:1], payer=world.commercial)
        [line] = _lines(acme)
        acme_payment = claim_payment(
            acme, [paid_line(line, "120.00", adjustment("CO", "45", "30.00"))]
        )
        response = _post(world, remittance_text([_full_payment(claim), acme_payment]))
        assert response.status_code == 422
        assert response.json()["problems"] == [
            'CLP segment 27 claim HR00000005: the file\'s payer is N1*PR "MEDICARE PART B" '
            'TRN03 1512345678, but the claim was billed to "Acme Health"; post each payer\'s '
            "remittance to its own claims, or set the payer's electronic id under billing "
            "settings if it is the same payer"
        ]
        _nothing_posted()
        assert [c.state for c in Claim.objects.order_by("control_number")] == ["sent", "sent"]

    def test_the_payer_id_decides_over_the_name(self, world: World, claim: Claim) -> None:
        PayerBilling.objects.create(
            payer=world.medicare, electronic_id="00952", filing_indicator="MB"
        )
        wrong = _post(world, remittance_text([_full_payment(claim)], payer_id="60054"))
        assert wrong.status_code == 422
        assert wrong.json()["problems"] == [
            'CLP segment 14 claim HR00000001: the file\'s payer is N1*PR "MEDICARE PART B" '
            'payer id 60054 TRN03 1512345678, but the claim was billed to "Medicare Part B" '
            "(electronic payer id 00952); post each payer's remittance to its own claims, or "
            "set the payer's electronic id under billing settings if it is the same payer"
        ]
        _nothing_posted()
        right = remittance_text(
            [_full_payment(claim)], payer_name="CMS Jurisdiction 15", payer_id="00952"
        )
        assert _post(world, right).status_code == 200
        assert ClaimPayment.objects.get().claim == claim

    def test_the_upload_page_names_the_other_payer(self, world: World) -> None:
        from django.core.files.uploadedfile import SimpleUploadedFile

        set_up_billing(world)
        acme = sent_claim(world, "HR00000006", LINES, payer=world.commercial)
        text = remittance_text([_full_payment(acme)])
        response = world.client_for(world.biller).post(
            "/remittances/", {"file": SimpleUploadedFile("x.835", text.encode())}
        )
        assert response.status_code == 422
        page = response.content.decode()
        assert "CLP segment 13 claim HR00000006: the file&#x27;s payer is N1*PR" in page
        assert "the claim was billed to &quot;Acme Health&quot;" in page
        _nothing_posted()

    def test_an_unmatched_claim_posts_nothing_of_the_file(
        self, world: World, claim: Claim
    ) -> None:
        stranger = sent_claim(world, "HR00000009", (LineSpec("97110", ("GP",), 1, "90.00"),))
        [line] = _lines(stranger)
        unknown = claim_payment(stranger, [paid_line(line, "70.00", adjustment("CO", "45", "20"))])
        unknown.control_number = "NOTOURS01"
        response = _post(world, remittance_text([_full_payment(claim), unknown]))
        assert response.status_code == 422
        assert response.json()["unmatched"] == [
            "CLP segment 27 claim NOTOURS01: no claim of this clinic has this control number"
        ]
        _nothing_posted()
        claim.refresh_from_db()
        assert claim.state == ClaimState.SENT

    def test_an_unmatched_line_is_named(self, world: World, claim: Claim) -> None:
        first, second = _lines(claim)
        stray = paid_line(first, "50.00", adjustment("CO", "45", "100.00"))
        stray = x835.LinePayment(**{**stray.__dict__, "code": "97112", "control_number": "X-9"})
        payment = claim_payment(claim, [stray])
        response = _post(world, remittance_text([payment]))
        assert response.status_code == 422
        assert response.json()["unmatched"] == [
            "CLP segment 13 claim HR00000001 SVC segment 15 line 97112:GP REF*6R X-9: matches "
            "no line of the claim"
        ]

    def test_a_claim_never_sent_is_refused(self, world: World) -> None:
        set_up_billing(world)
        held = sent_claim(world, "HR00000003", LINES, state=ClaimState.HELD)
        response = _post(world, remittance_text([_full_payment(held)]))
        assert response.status_code == 422
        assert response.json()["problems"] == [
            "CLP segment 13 claim HR00000003: the claim is held, it was never sent"
        ]

    def test_a_clinic_without_billing_identity(self, world: World) -> None:
        claim = sent_claim(world, "HR00000004", LINES)
        response = _post(world, remittance_text([_full_payment(claim)]))
        assert response.status_code == 422
        assert response.json()["problems"] == [
            "clinic: the clinic has no billing identity (group NPI) to post remittances to"
        ]

    def test_only_billers_and_admins_post(self, world: World, claim: Claim) -> None:
        text = remittance_text([_full_payment(claim)])
        for user in (world.ot, world.front_desk, world.outsider):
            assert _post(world, text, world.client_for(user)).status_code == 403, user
        assert world.client_for(world.ot).get("/remittances/").status_code == 403
        _nothing_posted()

    def test_the_upload_page_shows_what_was_refused(self, world: World, claim: Claim) -> None:
        from django.core.files.uploadedfile import SimpleUploadedFile

        text = remittance_text([_full_payment(claim)], npi="1245319599")
        response = world.client_for(world.admin).post(
            "/remittances/", {"file": SimpleUploadedFile("x.835", text.encode())}
        )
        assert response.status_code == 422
        assert "the payee NPI 1245319599 is not this clinic" in response.content.decode()
        _nothing_posted()

    def test_a_form_post_is_refused_naming_the_body(self, world: World, claim: Claim) -> None:
        client = world.client_for(world.biller)
        response = client.post(URL, {"file": "ISA*00"})  # multipart form fields
        assert response.status_code == 422
        assert response.json()["problems"] == [
            "body: send the 835 itself as the body (Content-Type: text/plain)"
        ]

    def test_a_body_over_the_remittance_limit_is_a_413(
        self, world: World, claim: Claim, settings: Any
    ) -> None:
        settings.REMITTANCE_MAX_BYTES = 500
        text = remittance_text([_full_payment(claim)])
        assert len(text) > 500
        response = _post(world, text)
        assert response.status_code == 413
        assert response.json()["problems"] == [
            "body: larger than the remittance limit of 500 bytes (REMITTANCE_MAX_BYTES); "
            "post the payer's file in parts (one 835 per payment) or ask your administrator "
            "to raise the limit"
        ]
        _nothing_posted()
        from django.core.files.uploadedfile import SimpleUploadedFile

        page = world.client_for(world.biller).post(
            "/remittances/", {"file": SimpleUploadedFile("big.835", text.encode())}
        )
        assert page.status_code == 413
        assert "file: larger than 500 bytes (REMITTANCE_MAX_BYTES)" in page.content.decode()
        _nothing_posted()

    def test_the_site_wide_body_limit_does_not_cap_the_remittance_endpoint(
        self, world: World, claim: Claim, settings: Any
    ) -> None:
        text = remittance_text([_full_payment(claim)])
        settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 500  # below the file; the remittance limit
        assert len(text) > 500  # (REMITTANCE_MAX_BYTES, 50 MB) is the one that applies
        response = _post(world, text)
        assert response.status_code == 200, response.content
        assert D(response.json()["paid_total"]) == D("176.00")

    def test_a_reversal_of_a_closed_claim_is_posted_and_it_stays_closed(
        self, world: World, claim: Claim
    ) -> None:
        """A corrected claim closes the original; the payer then reverses the original's
        payment, which the ledger must show."""
        assert _post(world, remittance_text([_full_payment(claim)])).status_code == 200
        Claim.objects.filter(pk=claim.pk).update(state=ClaimState.CLOSED)
        first, second = _lines(claim)
        reversal = claim_payment(
            claim,
            [
                paid_line(first, "-96.00", adjustment("CO", "45", "-30.00"),
                          adjustment("PR", "2", "-24.00"), sign=-1),
                paid_line(second, "-80.00", adjustment("CO", "45", "-25.00"),
                          adjustment("PR", "2", "-20.00"), sign=-1),
            ],
            status="22",
        )  # fmt: skip
        other = sent_claim(world, "HR00000002", (LineSpec("97110", ("GP",), 2, "200.00"),))
        [other_line] = _lines(other)
        payment = claim_payment(other, [paid_line(other_line, "200.00")], payer_claim_number="9")
        response = _post(world, remittance_text([reversal, payment], trace="555", control=4))
        assert response.status_code == 200, response.content
        assert [paid for _code, paid, _adj in _ledger(claim)] == [D("0.00"), D("0.00")]
        claim.refresh_from_db()
        assert claim.state == ClaimState.CLOSED

    def test_the_claim_api_shows_its_postings_to_the_cent(
        self, world: World, claim: Claim
    ) -> None:
        assert _post(world, remittance_text([_full_payment(claim)])).status_code == 200
        body = world.client_for(world.biller).get(f"/api/claims/{claim.pk}").json()
        assert body["state"] == "paid"
        assert [(p["line_number"], p["paid"], p["allowed"]) for p in body["payments"]] == [
            (1, "96.00", "120.00"),
            (2, "80.00", "100.00"),
        ]
        assert body["payments"][0]["trace_number"] == "12345678901"
        assert [(a["line_number"], a["group"], a["reason"], a["amount"])
                for a in body["adjustments"]] == [
            (1, "CO", "45", "30.00"), (1, "PR", "2", "24.00"),
            (2, "CO", "45", "25.00"), (2, "PR", "2", "20.00"),
        ]  # fmt: skip

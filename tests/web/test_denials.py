"""The denials worklist, the corrected claim and the appeal letter from it, and the threshold
from remittances (issue 9)."""

from __future__ import annotations

import io
import uuid
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from pypdf import PdfReader

from handrail.claims import x835
from handrail.claims.denials import Action, Cause
from handrail.claims.patterns import clinic_key
from handrail.web.audit.models import AuditAction, AuditEvent
from handrail.web.billing.models import Claim, ClaimEvent, ClaimState, Contract, ContractRate
from handrail.web.remittances.models import DenialReport
from handrail.web.remittances.selectors import aging_bucket, denial_rows
from handrail.web.visits.models import Visit
from tests.web.conftest import World
from tests.web.remittance_seed import (
    LineSpec,
    adjustment,
    claim_payment,
    paid_line,
    remittance_text,
    sent_claim,
    set_up_billing,
    signed_visit,
)

D = Decimal
# The visit is an OT visit: GO, the discipline of its plan of care.
LINES = (LineSpec("97535", ("GO",), 2, "150.00"), LineSpec("97530", ("GO",), 1, "125.00"))
NCCI = {
    "severity": "error",
    "rule": "ncci.ptp.needs-distinct",
    "message": "97530 pairs with 97535 (NCCI modifier indicator 1): without 59 the 97530 "
    "line will deny",
    "fix": "...",
    "source": "NCCI",
}


@pytest.fixture
def denied(world: World) -> Claim:
    """A claim of a signed OT visit, its 97530 line denied CO-97 with N20, remitted 45 days
    ago; the visit's evaluation carries the engine's NCCI finding for 97530."""
    set_up_billing(world)
    visit = signed_visit(world)
    evaluation = dict(visit.evaluation or {})
    evaluation["findings"] = [*evaluation.get("findings", []), NCCI]
    Visit.objects.filter(pk=visit.pk).update(evaluation=evaluation)
    visit.refresh_from_db()
    claim = sent_claim(world, "RT00000001", LINES, visit=visit)
    first, second = claim.lines.order_by("number")
    payment = claim_payment(
        claim,
        [
            paid_line(first, "96.00", adjustment("CO", "45", "30.00"),
                      adjustment("PR", "2", "24.00"), allowed="120.00"),
            paid_line(second, "0.00", adjustment("CO", "97", "125.00"), remarks=("N20",)),
        ],
    )  # fmt: skip
    text = remittance_text([payment], paid_on=world.today - timedelta(days=45))
    response = world.client_for(world.biller).post(
        "/api/remittances", data=text, content_type="text/plain"
    )
    assert response.status_code == 200, response.content
    claim.refresh_from_db()
    return claim


def _page(world: World, query: str = "") -> str:
    response = world.client_for(world.biller).get(f"/remittances/denials/{query}")
    assert response.status_code == 200
    return str(response.content.decode())


class DenialWorklistTests:
    def test_the_denied_line_is_explained_with_its_likely_cause(
        self, world: World, denied: Claim
    ) -> None:
        [row] = denial_rows(user=world.biller)
        assert (row.claim, row.line.number, row.outcome) == (denied, 2, "denied")
        assert (row.paid, row.age_days, row.bucket) == (D("0.00"), 45, "31-60")
        assert row.denial_codes == ["CO-97", "N20"]
        assert [(r.kind, r.code, r.known) for r in row.reasons] == [
            ("CARC", "97", True),
            ("RARC", "N20", True),
        ]
        [cause] = row.causes
        assert (cause.cause, cause.action, cause.score) == (
            Cause.NCCI_BUNDLING, Action.CORRECTED_CLAIM, 3,
        )  # fmt: skip
        assert cause.evidence[0] == "NCCI pair with 97535 and no 59/X modifier on the line"
        html = _page(world)
        assert f'id="denial-{denied.pk}-2"' in html
        assert "97530 was billed with 97535 on the same day with no 59 or X modifier" in html
        assert "The service is paid as part of another service on the same claim or day." in html

    def test_the_paid_line_is_not_on_the_list(self, world: World, denied: Claim) -> None:
        assert [row.line.number for row in denial_rows(user=world.biller)] == [2]

    def test_aging_buckets_filter_the_list(self, world: World, denied: Claim) -> None:
        assert 'id="denial-' in _page(world, "?status=31-60")
        assert 'id="no-denials"' in _page(world, "?status=0-30")
        assert 'id="denial-' in _page(world, "?status=bogus")  # an unknown bucket shows all

    @pytest.mark.parametrize(
        ("days", "bucket"),
        [(0, "0-30"), (30, "0-30"), (31, "31-60"), (60, "31-60"), (61, "61-90"), (90, "61-90"),
         (91, "90+"), (400, "90+")],
    )  # fmt: skip
    def test_aging_bucket_boundaries(self, days: int, bucket: str) -> None:
        assert aging_bucket(days) == bucket

    def test_an_underpaid_line_against_the_contract(self, world: World) -> None:
        set_up_billing(world)
        contract = Contract.objects.create(
            clinic=world.clinic, payer=world.commercial, kind="rates",
            effective_from=date(2026, 1, 1),
        )  # fmt: skip
        ContractRate.objects.create(
            contract=contract, code="97110", rate=D("50.00"), effective_from=date(2026, 1, 1)
        )
        claim = sent_claim(
            world, "RT00000005", (LineSpec("97110", ("GP",), 2, "180.00"),),
            payer=world.commercial,
        )  # fmt: skip
        [line] = claim.lines.all()
        payment = claim_payment(
            claim, [paid_line(line, "60.00", adjustment("CO", "45", "100.00"),
                              adjustment("PR", "3", "20.00"))],
        )  # fmt: skip
        text = remittance_text(
            [payment], paid_on=world.today - timedelta(days=5), payer_name="Acme Health"
        )
        response = world.client_for(world.biller).post(
            "/api/remittances", data=text, content_type="text/plain"
        )
        assert response.status_code == 200
        claim.refresh_from_db()
        assert claim.state == ClaimState.PAID
        [row] = denial_rows(user=world.biller)
        # Allowed 60.00 paid + 20.00 copay = 80.00 against the contract's 2 x 50.00.
        assert (row.outcome, row.expected, row.paid, row.patient_share, row.bucket) == (
            "underpaid", D("100.00"), D("60.00"), D("20.00"), "0-30",
        )  # fmt: skip
        ContractRate.objects.update(rate=D("40.00"))
        assert denial_rows(user=world.biller) == []

    def test_only_billers_and_admins_work_denials(self, world: World, denied: Claim) -> None:
        for user in (world.ot, world.pt, world.front_desk, world.outsider):
            assert world.client_for(user).get("/remittances/denials/").status_code == 403
        assert world.client_for(world.admin).get("/remittances/denials/").status_code == 200


class CorrectedClaimTests:
    def test_one_click_makes_the_replacement_and_closes_the_original(
        self, world: World, denied: Claim
    ) -> None:
        url = f"/remittances/denials/{denied.pk}/2/correct/"
        response = world.client_for(world.biller).post(url, follow=True)
        assert response.status_code == 200
        new = Claim.objects.get(replaces=denied)
        assert (new.frequency, new.payer_claim_number) == ("7", "26123456789000")
        denied.refresh_from_db()
        assert denied.state == ClaimState.CLOSED
        assert f"Corrected claim {new.control_number} (replaces RT00000001" in (
            response.content.decode()
        )
        assert denial_rows(user=world.biller) == []  # a closed claim is off the list

    def test_a_line_that_is_not_denied_is_not_found(self, world: World, denied: Claim) -> None:
        url = f"/remittances/denials/{denied.pk}/1/correct/"
        assert world.client_for(world.biller).post(url).status_code == 404
        assert not Claim.objects.filter(replaces=denied).exists()


class AppealLetterTests:
    def _appeal(self, world: World, claim: Claim, argument: str) -> Any:
        url = f"/remittances/denials/{claim.pk}/2/appeal/"
        return world.client_for(world.biller).post(url, {"argument": argument})

    def test_the_letter_carries_the_line_the_argument_and_the_signed_note(
        self, world: World, denied: Claim
    ) -> None:
        response = self._appeal(world, denied, "97530 was a separate 15-minute block.")
        assert response.status_code == 200
        assert response["Content-Type"] == "application/pdf"
        assert 'filename="appeal-RT00000001-2.pdf"' in response["Content-Disposition"]
        pages = [
            " ".join(page.extract_text().split())
            for page in PdfReader(io.BytesIO(response.content)).pages
        ]
        assert "Request for redetermination" in pages[0]
        assert "26123456789000" in pages[0]
        assert "CO-97, N20" in pages[0]
        assert "97530 was a separate 15-minute block." in pages[0]
        assert "A. S." in pages[0] and "Synthetic" not in " ".join(pages)
        note = " ".join(pages[1:])
        assert "Donned the shirt with minimal assistance and 2 verbal cues." in note
        assert "Electronically signed by Olivia Test" in note
        denied.refresh_from_db()
        assert denied.state == ClaimState.APPEALED
        event = AuditEvent.objects.latest("pk")
        assert (event.action, event.patient, event.detail) == (
            AuditAction.CREATE, world.patient, "appeal letter for line 2 (97530)",
        )  # fmt: skip

    def test_an_empty_argument_makes_no_letter(self, world: World, denied: Claim) -> None:
        response = self._appeal(world, denied, "   ")
        assert response.status_code == 302
        denied.refresh_from_db()
        assert denied.state == ClaimState.PARTLY_PAID


class ThresholdFromRemittancesTests:
    def test_the_allowed_amount_replaces_the_estimate(self, world: World, denied: Claim) -> None:
        estimate = denied.visit.allowed_amount or D("0")
        response = world.client_for(world.ot).get(f"/api/patients/{world.patient.pk}/threshold")
        assert response.status_code == 200
        body = response.json()
        assert body["year"] == 2026
        [ot] = [g for g in body["groups"] if g["group"] == "OT"]
        # Remitted: 120.00 allowed on the 97535 line (AMT*B6) and 0.00 on the denied line.
        assert (D(ot["estimated"]), D(ot["remitted"]), D(ot["difference"])) == (
            estimate, D("120.00"), D("120.00") - estimate,
        )  # fmt: skip
        assert (ot["visits"], ot["visits_remitted"]) == (1, 1)
        html = world.client_for(world.ot).get(f"/patients/{world.patient.pk}/").content.decode()
        assert 'id="threshold-remitted"' in html

    def test_without_a_remittance_the_estimate_stands(self, world: World) -> None:
        set_up_billing(world)
        visit = signed_visit(world)
        response = world.client_for(world.biller).get(
            f"/api/patients/{world.patient.pk}/threshold"
        )
        [ot] = [g for g in response.json()["groups"] if g["group"] == "OT"]
        assert D(ot["remitted"]) == D(ot["estimated"]) == (visit.allowed_amount or D("0"))
        assert (D(ot["difference"]), ot["visits_remitted"]) == (D("0"), 0)

    def test_front_desk_and_other_clinics_are_refused(self, world: World) -> None:
        url = f"/api/patients/{world.patient.pk}/threshold"
        assert world.client_for(world.front_desk).get(url).status_code == 403
        assert world.client_for(world.outsider).get(url).status_code in (403, 404)


class DenialPatternTests:
    def _report(self, world: World, claim: Claim, fix: str = "added_distinct_modifier") -> Any:
        url = f"/remittances/denials/{claim.pk}/2/report/"
        return world.client_for(world.biller).post(url, {"fix": fix}, follow=True)

    def _others(self, count: int, clinics: int) -> None:
        """Reports from other clinics (as a hub or other clinics of the server would hold)."""
        for index in range(count):
            DenialReport.objects.create(
                clinic_key=clinic_key(b"k" * 32, f"clinic {index % clinics}"),
                line_key=uuid.uuid4().hex * 2,
                code="97530", modifiers=["GO"], payer_kind="medicare", group="CO",
                reason="97", remarks=["N20"], fix="added_distinct_modifier",
            )  # fmt: skip

    def test_a_report_keeps_codes_and_the_fix_only(self, world: World, denied: Claim) -> None:
        response = self._report(world, denied)
        assert "Reported anonymously" in response.content.decode()
        [report] = DenialReport.objects.all()
        assert (report.code, report.modifiers, report.payer_kind, report.group) == (
            "97530", ["GO"], "medicare", "CO",
        )  # fmt: skip
        assert (report.reason, report.remarks, report.fix) == (
            "97", ["N20"], "added_distinct_modifier",
        )  # fmt: skip
        fields = {f.name for f in DenialReport._meta.get_fields()}
        assert not fields & {"claim", "patient", "clinic", "line", "user", "visit"}
        assert len(report.clinic_key) == 64 and report.clinic_key != "1234567893"
        event = AuditEvent.objects.filter(object_type="denialreport").get()
        assert (event.action, event.patient, event.detail) == (
            AuditAction.CREATE, None, "anonymous denial report",
        )  # fmt: skip

    def test_a_line_is_reported_once(self, world: World, denied: Claim) -> None:
        self._report(world, denied)
        response = self._report(world, denied)
        assert "This line was already reported." in response.content.decode()
        assert DenialReport.objects.count() == 1

    def test_an_unknown_fix_is_refused(self, world: World, denied: Claim) -> None:
        response = self._report(world, denied, fix="called the patient")
        assert "one of added_distinct_modifier, added_kx" in response.content.decode()
        assert DenialReport.objects.count() == 0

    def test_the_pattern_shows_at_five_reports_from_three_clinics(
        self, world: World, denied: Claim
    ) -> None:
        self._report(world, denied)
        self._others(3, clinics=2)  # 4 reports from 3 clinics: not yet
        assert "Not enough reports yet for 97530" in _page(world)
        self._others(1, clinics=1)  # now 5 reports from 3 clinics
        html = _page(world)
        assert "5 reports from 3 clinics for 97530 (medicare, CO-97)." in html
        assert "Most often fixed by: added_distinct_modifier (5)." in html
        patterns = world.client_for(world.biller).get("/remittances/patterns/")
        assert "<td>CO-97</td>" in patterns.content.decode()


def _denials(world: World, first: int, count: int, trace: str, *, mixed: bool) -> None:
    """`count` sent claims of signed visits (each with its sent event), each with its 97530
    line denied CO-97/N20 on posted 835s; when `mixed`, the even ones are Acme Health's with
    a rate table, so their paid line is checked against the contract too."""
    payments: dict[str, list[x835.ClaimPayment]] = {"Medicare Part B": [], "Acme Health": []}
    for number in range(first, first + count):
        payer = world.commercial if mixed and number % 2 == 0 else world.medicare
        visit = signed_visit(world, days_ago=10 + number)
        claim = sent_claim(world, f"RQ{number:08d}", LINES, visit=visit, payer=payer)
        ClaimEvent.objects.create(claim=claim, from_state="ready", to_state="sent")
        first_line, second_line = claim.lines.order_by("number")
        payments[payer.name].append(
            claim_payment(
                claim,
                [
                    paid_line(
                        first_line,
                        "96.00",
                        adjustment("CO", "45", "30.00"),
                        adjustment("PR", "2", "24.00"),
                        allowed="120.00",
                    ),
                    paid_line(
                        second_line, "0.00", adjustment("CO", "97", "125.00"), remarks=("N20",)
                    ),
                ],
            )  # fmt: skip
        )
    for index, (payer_name, claims) in enumerate(payments.items()):
        if not claims:
            continue
        text = remittance_text(
            claims, trace=f"{trace}{index}", control=int(f"{trace}{index}"),
            payer_name=payer_name, paid_on=world.today - timedelta(days=20),
        )  # fmt: skip
        response = world.client_for(world.biller).post(
            "/api/remittances", data=text, content_type="text/plain"
        )
        assert response.status_code == 200, response.content


def _queries(world: World) -> tuple[int, int, list[tuple[str, int, str, Decimal | None]]]:
    client = world.client_for(world.biller)
    client.get("/remittances/denials/")  # the session's first-request queries aside
    with CaptureQueriesContext(connection) as page:
        assert client.get("/remittances/denials/").status_code == 200
    with CaptureQueriesContext(connection) as rows:
        listed = denial_rows(user=world.biller)
    summary = [(r.claim.control_number, r.line.number, r.outcome, r.expected) for r in listed]
    return len(page.captured_queries), len(rows.captured_queries), summary


class DenialWorklistQueryTests:
    def test_it_lists_one_denial_and_ten_in_the_same_number_of_queries(self, world: World) -> None:
        set_up_billing(world)
        _denials(world, 0, 1, "7", mixed=False)
        page_one, rows_one, listed = _queries(world)
        assert listed == [("RQ00000000", 2, "denied", None)]
        _denials(world, 1, 9, "8", mixed=False)
        page_ten, rows_ten, listed = _queries(world)
        assert (page_ten, rows_ten) == (page_one, rows_one)
        assert rows_one == 4  # postings, adjustments, sent events, contracts
        assert [(number, outcome) for _c, number, outcome, _e in listed] == [(2, "denied")] * 10
        html = world.client_for(world.biller).get("/remittances/denials/").content.decode()
        assert html.count('id="denial-') == 10

    def test_it_prices_underpaid_lines_of_many_claims_in_the_same_queries(
        self, world: World
    ) -> None:
        set_up_billing(world)
        contract = Contract.objects.create(
            clinic=world.clinic, payer=world.commercial, kind="rates",
            effective_from=date(2026, 1, 1),
        )  # fmt: skip
        ContractRate.objects.create(
            contract=contract, code="97535", rate=D("60.00"), effective_from=date(2026, 1, 1),
            effective_to=date(2026, 6, 30),
        )  # fmt: skip
        ContractRate.objects.create(
            contract=contract, code="97535", rate=D("70.00"), effective_from=date(2026, 7, 1)
        )
        _denials(world, 0, 1, "7", mixed=True)
        _page_one, rows_one, listed = _queries(world)
        # The 97535 line is allowed 120.00 against the contract's 2 x 70.00: underpaid.
        assert listed == [
            ("RQ00000000", 1, "underpaid", D("140.00")),
            ("RQ00000000", 2, "denied", None),
        ]
        _denials(world, 1, 9, "8", mixed=True)
        _page_ten, rows_ten, listed = _queries(world)
        assert rows_ten == rows_one == 5  # and the rate table's rates
        assert len(listed) == 10 + 5  # ten denied lines, five underpaid (Acme Health's)
        assert [r for r in listed if r[2] == "underpaid"] == [
            (f"RQ{n:08d}", 1, "underpaid", D("140.00")) for n in (0, 2, 4, 6, 8)
        ]

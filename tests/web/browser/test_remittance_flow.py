"""In chromium: the biller posts an 835, opens the denial it brought, downloads the appeal
letter and makes the corrected claim (issue 9). Screenshots land in test-artifacts."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

from playwright.sync_api import Page, expect

from handrail.web.billing.models import Claim, ClaimState
from handrail.web.visits.models import Visit
from tests.web.browser.test_note_flow import TIMEOUT, _log_in
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

NCCI = {
    "severity": "error",
    "rule": "ncci.ptp.needs-distinct",
    "message": "97530 pairs with 97535 (NCCI modifier indicator 1): without 59 the 97530 "
    "line will deny",
    "fix": "Attest distinct services",
    "source": "NCCI",
}


class RemittanceFlowTests:
    def test_post_a_remittance_work_the_denial_and_correct_the_claim(
        self, page: Page, live_server: Any, world: World, screenshots: Path, tmp_path: Path
    ) -> None:
        set_up_billing(world)
        visit = signed_visit(world)
        evaluation = dict(visit.evaluation or {})
        evaluation["findings"] = [*evaluation.get("findings", []), NCCI]
        Visit.objects.filter(pk=visit.pk).update(evaluation=evaluation)
        lines = (LineSpec("97535", ("GO",), 2, "150.00"), LineSpec("97530", ("GO",), 1, "125.00"))
        claim = sent_claim(world, "RT00000001", lines, visit=visit)
        first, second = claim.lines.order_by("number")
        payment = claim_payment(
            claim,
            [
                paid_line(first, "96.00", adjustment("CO", "45", "30.00"),
                          adjustment("PR", "2", "24.00"), allowed="120.00"),
                paid_line(second, "0.00", adjustment("CO", "97", "125.00"), remarks=("N20",)),
            ],
        )  # fmt: skip
        era = tmp_path / "medicare.835"
        era.write_text(remittance_text([payment], paid_on=world.today - timedelta(days=5)))

        base = live_server.url
        _log_in(page, base, world.biller.username)
        page.click("nav.mainnav >> text=Remittances")
        page.set_input_files("#id_file", str(era))
        page.click("#remittance-upload button[type=submit]")
        expect(page.locator("body")).to_contain_text(
            "Posted 1 claim(s), 2 line(s): paid 96.00", timeout=TIMEOUT
        )
        expect(page.locator("#remittances tbody tr")).to_have_count(1)
        page.screenshot(path=str(screenshots / "remittance-posted.png"), full_page=True)

        page.click("nav.mainnav >> text=Denials")
        row = page.locator(f"#denial-{claim.pk}-2")
        expect(row).to_be_visible(timeout=TIMEOUT)
        expect(row).to_contain_text("(5 days, 0-30)")
        expect(row.locator("table.reasons")).to_contain_text("CARC 97")
        expect(row.locator(".causes li").first).to_contain_text(
            "97530 was billed with 97535 on the same day with no 59 or X modifier"
        )
        page.screenshot(path=str(screenshots / "denials-worklist.png"), full_page=True)

        with page.expect_download() as download:
            row.locator("button", has_text="Appeal letter").click()
        assert download.value.suggested_filename == "appeal-RT00000001-2.pdf"
        assert Path(download.value.path()).read_bytes().startswith(b"%PDF-")
        assert Claim.objects.get(pk=claim.pk).state == ClaimState.APPEALED

        page.goto(f"{base}/remittances/denials/")
        page.locator(f"#denial-{claim.pk}-2 button", has_text="Make corrected claim").click()
        expect(page.locator("body")).to_contain_text("Corrected claim ", timeout=TIMEOUT)
        page.screenshot(path=str(screenshots / "denial-corrected-claim.png"), full_page=True)
        replacement = Claim.objects.get(replaces=claim)
        assert (replacement.frequency, replacement.payer_claim_number) == ("7", "26123456789000")
        assert Claim.objects.get(pk=claim.pk).state == ClaimState.CLOSED

"""In chromium, the biller's round trip (issue 9): export a batch of claims as an 837P, post
the 835 that pays it with one line denied, open the denial, make the corrected claim.
Screenshots land in test-artifacts/screenshots/ (the README shows copies in docs/)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from playwright.sync_api import Page, expect

from handrail.claims.x12_validation import x12_errors
from handrail.web.billing.models import Batch, Claim, ClaimFrequency, ClaimState
from handrail.web.remittances.models import Adjustment
from tests.web.billing_seed import set_up_billing, signed_ot_visit
from tests.web.browser.test_note_flow import TIMEOUT, _log_in, _shoot
from tests.web.conftest import World
from tests.web.remittance_seed import adjustment, claim_payment, paid_line, remittance_text


def _remittance_for(batch: Batch, world: World) -> tuple[str, Claim]:
    """The payer's answer to the batch: the first claim paid (CO-45 contractual, PR-2
    coinsurance), the last one's line denied for a missing modifier (CO-4)."""
    claims = list(Claim.objects.filter(batch=batch).order_by("visit__date", "pk"))
    assert len(claims) == 2
    paid, denied = claims
    paid_lines = [
        paid_line(
            line,
            f"{line.charge * 56 / 100:.2f}",
            adjustment("CO", "45", f"{line.charge * 30 / 100:.2f}"),
            adjustment("PR", "2", f"{line.charge * 14 / 100:.2f}"),
            allowed=f"{line.charge * 70 / 100:.2f}",
        )
        for line in paid.lines.order_by("number")
    ]
    denied_lines = [
        paid_line(line, "0.00", adjustment("CO", "4", f"{line.charge:.2f}"), remarks=("N657",))
        for line in denied.lines.order_by("number")
    ]
    text = remittance_text(
        [
            claim_payment(paid, paid_lines, payer_claim_number="26100000000001"),
            claim_payment(denied, denied_lines, payer_claim_number="26100000000002"),
        ],
        paid_on=world.today,
    )
    return text, denied


class ClaimsFlowTests:
    def test_the_biller_exports_posts_opens_a_denial_and_corrects_it(
        self, page: Page, live_server: Any, world: World, screenshots: Path
    ) -> None:
        set_up_billing(world)
        signed_ot_visit(world, 5, minutes=25)
        # Another code on the second visit: the same note text twice would be held for the
        # biller's acknowledgement (a note copied word for word).
        signed_ot_visit(world, 3, minutes=23, code="97530")
        base = live_server.url
        _log_in(page, base, world.biller.username)

        # 1. Export the Medicare batch: claims are made from the signed notes and sent.
        page.goto(f"{base}/billing/batches/")
        page.select_option("#id_payer", str(world.medicare.pk))
        page.fill("#id_through", world.today.isoformat())
        page.click("#export-button")
        expect(page.locator(".msg-success")).to_contain_text("claim(s)", timeout=TIMEOUT)
        batch = Batch.objects.get(clinic=world.clinic)
        expect(page.locator(f"#batch-{batch.pk}")).to_be_visible()
        with page.expect_download() as download:
            page.click(f"#batch-{batch.pk} a.download")
        x12 = Path(download.value.path()).read_text()
        assert x12.startswith("ISA*") and x12_errors(x12) == []
        assert x12 == batch.x12
        _shoot(page, screenshots / "claims-01-batch-exported.png")

        # 2. Post the 835 built for that batch, one claim denied.
        text, denied = _remittance_for(batch, world)
        page.goto(f"{base}/remittances/")
        page.set_input_files(
            "#id_file",
            files=[{"name": "era-0001.835", "mimeType": "text/plain", "buffer": text.encode()}],
        )
        page.click("#remittance-upload button[type=submit]")
        expect(page.locator(".msg-success")).to_contain_text("Posted 2 claim(s)", timeout=TIMEOUT)
        expect(page.locator("#remittances")).to_contain_text("era-0001.835")
        _shoot(page, screenshots / "claims-02-remittance-posted.png")
        denied.refresh_from_db()
        assert denied.state == ClaimState.DENIED
        assert Adjustment.objects.filter(group="CO", reason="4").count() == denied.lines.count()

        # 3. Open the denial: the reason explained, the likely cause, the fixes.
        page.goto(f"{base}/remittances/denials/")
        card = page.locator(f"#denial-{denied.pk}-1")
        expect(card).to_be_visible(timeout=TIMEOUT)
        expect(card).to_have_attribute("data-outcome", "denied")
        expect(card.locator("table.reasons")).to_contain_text("CARC 4")
        expect(card.locator("table.reasons")).to_contain_text("RARC N657")
        card.scroll_into_view_if_needed()
        card.screenshot(path=str(screenshots / "claims-03-denial.png"))
        _shoot(page, screenshots / "claims-03-denials-page.png")

        # 4. One click: the corrected claim (frequency 7) replacing the denied one.
        card.get_by_role("button", name="Make corrected claim (frequency 7)").click()
        expect(page.locator(".msg-success")).to_contain_text(
            f"replaces {denied.control_number}", timeout=TIMEOUT
        )
        corrected = Claim.objects.get(replaces=denied)
        assert corrected.frequency == ClaimFrequency.REPLACEMENT
        assert corrected.payer_claim_number == "26100000000002"
        page.goto(f"{base}/billing/claims/{corrected.pk}/")
        expect(page.locator("body")).to_contain_text(corrected.control_number)
        _shoot(page, screenshots / "claims-04-corrected-claim.png")

"""In chromium: a biller makes claims from signed notes, acknowledges a held claim's
warnings, exports the payer's 837P batch and downloads the file (issue 9). Screenshots land
in test-artifacts/screenshots."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from playwright.sync_api import Page, expect

from handrail.claims.x12_validation import x12_errors
from handrail.web.billing.models import Batch, Claim, ClaimState
from tests.web.billing_seed import set_up_billing, signed_ot_visit
from tests.web.browser.test_note_flow import TIMEOUT, _log_in
from tests.web.conftest import World


class BillingExportTests:
    def test_a_biller_exports_a_batch_and_downloads_it(
        self, page: Page, live_server: Any, world: World, screenshots: Path
    ) -> None:
        set_up_billing(world)
        signed_ot_visit(world, 3)
        warned = signed_ot_visit(world, 5)
        evaluation = dict(warned.evaluation)
        evaluation["findings"] = [
            {"severity": "warning", "rule": "doc.demo", "message": "Thin note", "fix": ""}
        ]
        type(warned).objects.filter(pk=warned.pk).update(evaluation=evaluation)
        base = live_server.url
        _log_in(page, base, world.biller.username)

        page.goto(f"{base}/billing/")
        page.click("#make-claims button[type=submit]")
        expect(page.locator("#state-held")).to_have_text("Held (1)", timeout=TIMEOUT)
        expect(page.locator("#state-ready")).to_have_text("Ready (1)")
        page.screenshot(path=str(screenshots / "billing-claims.png"), full_page=True)

        held = Claim.objects.get(state=ClaimState.HELD)
        page.click(f"#claim-{held.pk} a")
        expect(page.locator("#warnings")).to_contain_text("Thin note")
        page.click("#acknowledge")
        expect(page.locator("#claim-state")).to_have_text("Ready", timeout=TIMEOUT)

        page.goto(f"{base}/billing/batches/")
        page.select_option("#id_payer", str(world.medicare.pk))
        page.click("#export-button")
        expect(page.locator("#batch-table tbody tr")).to_have_count(1, timeout=TIMEOUT)
        batch = Batch.objects.get()
        expect(page.locator(f"#batch-{batch.pk}")).to_contain_text("570.00")
        page.screenshot(path=str(screenshots / "billing-export.png"), full_page=True)
        with page.expect_download() as info:
            page.click(f"#batch-{batch.pk} a.download")
        text = Path(info.value.path()).read_text()
        assert text == batch.x12 and x12_errors(text) == []
        assert Claim.objects.filter(state=ClaimState.SENT).count() == 2

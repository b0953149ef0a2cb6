"""In chromium: signing a note with an error finding shows the errors and signs only with a
stated reason, which the signed note then shows (issue 7)."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import Page, expect

from handrail.web.visits.models import Visit, VisitStatus
from handrail.web.visits.services import service_line_add, visit_create
from tests.web.browser.test_note_flow import TIMEOUT, _log_in
from tests.web.conftest import World
from tests.web.notes_seed import GOOD_NOTE


class SignWithErrorsTests:
    def test_it_lists_the_errors_and_signs_anyway_with_a_reason(
        self, page: Page, live_server: Any, world: World
    ) -> None:
        # The PT case has no plan of care: the line points at no diagnosis (dx.missing).
        visit = visit_create(user=world.pt, case=world.pt_case, date=world.today)
        service_line_add(
            user=world.pt, visit=visit, code="97110", therapist_minutes=25, **GOOD_NOTE
        )
        base = live_server.url
        _log_in(page, base, world.pt.username)
        page.goto(f"{base}/visits/{visit.pk}/note/")
        page.once("dialog", lambda dialog: dialog.accept())  # "Sign and lock this note?"
        page.click("#sign-button")

        confirm = page.locator("#sign-confirm")
        expect(confirm).to_be_visible(timeout=TIMEOUT)
        expect(confirm.locator("h2")).to_have_text("Not signed: this note has 1 error finding")
        expect(confirm.locator("#sign-errors li")).to_have_count(1)
        expect(confirm.locator("#sign-errors li[data-rule='dx.missing']")).to_contain_text(
            "97110 line has no diagnosis"
        )
        assert Visit.objects.get(pk=visit.pk).status == VisitStatus.DRAFT

        # The reason box is required: an empty "sign anyway" does not leave the page.
        page.click("#sign-anyway")
        expect(page.locator("#sign-confirm")).to_be_visible()
        assert Visit.objects.get(pk=visit.pk).status == VisitStatus.DRAFT

        page.fill("#id_sign_reason", "Plan of care faxed to the physician; dx to follow.")
        page.click("#sign-anyway")
        expect(page.locator("#locked-banner")).to_be_visible(timeout=TIMEOUT)
        expect(page.locator("#sign-reason-stored")).to_have_text(
            "Signed with error findings; reason: "
            "Plan of care faxed to the physician; dx to follow."
        )
        stored = Visit.objects.get(pk=visit.pk)
        assert (stored.status, stored.sign_reason) == (
            VisitStatus.SIGNED,
            "Plan of care faxed to the physician; dx to follow.",
        )

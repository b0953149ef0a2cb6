"""In chromium: a timer runs on the server. Started on one page, it shows running on a
second page of the same note; the first page closes and the timer keeps running; the second
stops it; signing then asks to reconcile the typed minutes with the timer's."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from playwright.sync_api import BrowserContext, Page, expect

from handrail.web.visits.models import ServiceLine, TimerSegment, Visit, VisitStatus
from handrail.web.visits.services import service_line_add, visit_create
from tests.web.browser.test_note_flow import TIMEOUT, _log_in, _shoot
from tests.web.conftest import World
from tests.web.notes_seed import GOOD_NOTE


class ServerTimerTests:
    def test_it_shows_stops_and_reconciles_a_timer_across_pages(
        self,
        page: Page,
        context: BrowserContext,
        live_server: Any,
        world: World,
        screenshots: Path,
    ) -> None:
        visit = visit_create(user=world.ot, case=world.ot_case, date=world.today)
        line = service_line_add(
            user=world.ot, visit=visit, code="97535", therapist_minutes=25, **GOOD_NOTE
        )
        base = live_server.url
        note = f"{base}/visits/{visit.pk}/note/"
        _log_in(page, base, world.ot.username)
        second = context.new_page()  # same session: the therapist's other tab or device
        second.goto(note)
        page.goto(note)

        button = page.locator("#timer-97535 .timer-btn")
        button.click()
        expect(button).to_have_text("Stop", timeout=TIMEOUT)
        expect(page.locator("#timer-97535 .timer-since")).to_contain_text("Olivia Test")
        assert TimerSegment.objects.filter(line=line, ended_at__isnull=True).count() == 1

        # The second page, open before the start, learns of it when it gets the focus.
        other = second.locator("#timer-97535 .timer-btn")
        expect(other).to_have_text("Start")
        second.bring_to_front()
        second.evaluate("window.dispatchEvent(new Event('focus'))")
        expect(other).to_have_text("Stop", timeout=TIMEOUT)
        expect(second.locator("#timer-97535 .elapsed")).not_to_have_text("0:00", timeout=TIMEOUT)

        page.close()  # the timer does not live in the page
        second.reload()
        expect(other).to_have_text("Stop", timeout=TIMEOUT)
        second.wait_for_timeout(1500)
        other.click()
        expect(other).to_have_text("Start", timeout=TIMEOUT)
        expect(second.locator(f"#segs-{line.pk} li")).to_have_count(1)
        segment = TimerSegment.objects.get(line=line)
        assert segment.ended_at is not None and segment.seconds >= 1
        _shoot(second, screenshots / "timer-stopped-elsewhere.png")

        # 25 typed + a run of seconds: billed 25, timed 0. Signing asks to reconcile.
        second.once("dialog", lambda dialog: dialog.accept())
        second.click("#sign-button")
        reconcile = second.locator("#reconcile")
        expect(reconcile).to_be_visible(timeout=TIMEOUT)
        expect(reconcile.locator("#reconcile-97535")).to_contain_text("25 min more billed")
        _shoot(second, screenshots / "sign-reconcile.png")
        second.check(f"input[name='reconcile-{line.pk}'][value='keep']")
        second.fill("#keep-reason-97535", "Timer started late; session timed on the wall clock")
        second.click("#reconcile-sign")
        expect(second.locator("#visit-status")).to_have_text("Signed · locked", timeout=TIMEOUT)
        assert Visit.objects.get(pk=visit.pk).status == VisitStatus.SIGNED
        stored = ServiceLine.objects.get(pk=line.pk)
        assert (stored.therapist_minutes, stored.kept_minutes_reason) == (
            25,
            "Timer started late; session timed on the wall clock",
        )

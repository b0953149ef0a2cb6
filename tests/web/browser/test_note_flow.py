"""End to end in chromium: the OT documents a 97535 + 97530 visit with the timers and signs
it; the biller reads the worklists. Screenshots land in test-artifacts/screenshots/."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import Page, expect

from handrail.web.clinic.models import User
from handrail.web.clinic.two_factor import two_factor_required
from handrail.web.visits.models import TimerSegment, Visit, VisitStatus
from handrail.web.visits.services import service_line_add, visit_create
from tests.web.conftest import PASSWORD, World, totp_code, totp_device
from tests.web.notes_seed import GOOD_NOTE, seed_worklists

TIMEOUT = 10_000  # ms; the first engine run loads the official tables


def _log_in(page: Page, base: str, username: str) -> None:
    user = User.objects.get(username=username)
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    if device is None and two_factor_required(user):  # admins and billers: set up already
        device = totp_device(user)
    page.goto(f"{base}/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("#login-form button[type=submit]")
    if device is not None:  # the code step after the password
        page.fill("#verify-form input[name=token]", totp_code(device))
        page.click("#verify-form button[type=submit]")
    expect(page.locator(".who")).to_contain_text(username.capitalize(), timeout=TIMEOUT)


def _add_code(page: Page, code: str) -> None:
    page.select_option("#add-code", code)
    page.click("#add-line button[type=submit]")
    expect(page.locator(f"#line-{code}")).to_be_visible(timeout=TIMEOUT)


def _line_id(page: Page, code: str) -> str:
    line_id = page.locator(f"#line-{code}").get_attribute("data-line")
    assert line_id is not None
    return line_id


def _shoot(page: Page, path: Path) -> None:
    """A full-page screenshot from the top (the sticky panel follows the scroll position)."""
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=str(path), full_page=True)


def _run_timer(page: Page, code: str, line_id: str, seconds: float, reload: bool = False) -> None:
    button = page.locator(f"#timer-{code} .timer-btn")
    button.click()
    expect(button).to_have_text("Stop")
    if reload:  # a running timer survives a reload of the page (it runs on the server)
        page.reload()
        expect(button).to_have_text("Stop")
    page.wait_for_timeout(seconds * 1000)
    button.click()
    expect(button).to_have_text("Start")
    expect(page.locator(f"#segs-{line_id} li")).to_have_count(1, timeout=TIMEOUT)


class NoteFlowTests:
    def test_it_documents_times_checks_and_signs_a_97535_97530_visit(
        self, page: Page, live_server: Any, world: World, screenshots: Path
    ) -> None:
        base = live_server.url
        _log_in(page, base, world.ot.username)
        page.goto(f"{base}/cases/{world.ot_case.pk}/")
        page.click("text=New visit note")
        page.click("button:has-text('Start note')")
        # Starting a visit opens its note page directly.
        page.wait_for_url(re.compile(r"/visits/\d+/note/$"))
        visit = Visit.objects.get(case=world.ot_case, date=world.today)
        assert page.url == f"{base}/visits/{visit.pk}/note/"

        _add_code(page, "97535")
        _add_code(page, "97530")
        line_535, line_530 = _line_id(page, "97535"), _line_id(page, "97530")

        # Timers: a short run on each code (whole minutes round to 0), then the minutes
        # the session really took typed by hand.
        _run_timer(page, "97535", line_535, 1.5, reload=True)
        _run_timer(page, "97530", line_530, 1.2)
        assert TimerSegment.objects.filter(line__visit=visit).count() == 2
        # A day has 1440 minutes: the server's answer shows next to the field.
        page.fill(f"#id_l{line_535}-therapist_minutes", "2000")
        expect(page.locator(f"#e-l{line_535}-therapist_minutes")).to_have_text(
            "At most 1440 minutes (24 hours).", timeout=TIMEOUT
        )
        page.fill(f"#id_l{line_535}-therapist_minutes", "25")
        expect(page.locator(f"#e-l{line_535}-therapist_minutes")).to_have_text("")
        page.fill(f"#id_l{line_530}-therapist_minutes", "15")
        for name in ("baseline", "task", "technique", "performance"):
            page.fill(f"#id_l{line_535}-{name}", GOOD_NOTE[name])

        panel = page.locator("#panel")
        expect(panel.locator("#units-97535")).to_have_attribute("data-units", "2", timeout=TIMEOUT)
        expect(panel.locator("#units-97530")).to_have_attribute("data-units", "1")
        expect(panel.locator("#units-total")).to_have_text("3")
        missing = panel.locator('[data-rule="doc.97535.missing-skilled"]')
        expect(missing).to_be_visible(timeout=TIMEOUT)
        expect(missing).to_contain_text("97535 note does not state the reason")
        _shoot(page, screenshots / "note-finding.png")

        page.fill(f"#id_l{line_535}-skilled", GOOD_NOTE["skilled"])
        expect(missing).to_have_count(0, timeout=TIMEOUT)
        expect(page.locator(f"#s-l{line_535}")).to_contain_text("Saved")
        _shoot(page, screenshots / "note-ready.png")

        page.once("dialog", lambda dialog: dialog.accept())  # "Sign and lock this note?"
        page.click("#sign-button")
        # The typed minutes differ from the seconds the timers ran: reconcile before signing.
        reconcile = page.locator("#reconcile")
        expect(reconcile).to_be_visible(timeout=TIMEOUT)
        expect(reconcile.locator("#reconcile-97535")).to_contain_text("25 min more billed")
        for code, line_id in (("97535", line_535), ("97530", line_530)):
            page.check(f"input[name='reconcile-{line_id}'][value='keep']")
            page.fill(f"#keep-reason-{code}", "Timer only tried out; session timed on paper")
        page.click("#reconcile-sign")
        expect(page.locator("#visit-status")).to_have_text("Signed · locked", timeout=TIMEOUT)
        expect(page.locator("#locked-banner")).to_be_visible()
        expect(page.locator("textarea[name$='-skilled']")).to_have_count(0)
        expect(page.locator(".timer-btn")).to_have_count(0)
        expect(page.locator("#id_reason")).to_be_visible()  # only addenda from now on
        _shoot(page, screenshots / "note-signed.png")

        visit.refresh_from_db()
        assert visit.status == VisitStatus.SIGNED
        assert visit.signed_by == world.ot
        assert [(line.code, line.therapist_minutes) for line in visit.lines.all()] == [
            ("97535", 25),
            ("97530", 15),
        ]
        assert visit.lines.get(code="97535").skilled == GOOD_NOTE["skilled"]


class WorklistFlowTests:
    def test_it_shows_the_biller_the_worklists(
        self, page: Page, live_server: Any, world: World, screenshots: Path
    ) -> None:
        seeded = seed_worklists(world)
        base = live_server.url
        _log_in(page, base, world.biller.username)
        page.click("nav.mainnav >> text=Worklists")
        expect(page.locator("h1")).to_have_text("Worklists")
        expect(page.locator("#wl-unsigned")).to_contain_text("Ada Synthetic")
        expect(page.locator("#wl-progress")).to_contain_text("9 of 10")
        expect(page.locator("#wl-recerts")).to_contain_text("Certification")
        expect(page.locator("#wl-authorizations")).to_contain_text(
            "At 2 visits a week this runs out on"
        )
        expect(page.locator("#wl-threshold")).to_contain_text("$2,100.00 of $2,480.00")
        _shoot(page, screenshots / "worklists-biller.png")

        page.click(f"#wl-unsigned a[href='/visits/{seeded.draft.pk}/note/']")
        expect(page.locator("#sign-reason")).to_have_text("A biller cannot sign notes.")
        expect(page.locator("#sign-button")).to_have_count(0)


class NothingTypedIsLostTests:
    def test_it_shows_a_decimal_beside_minutes_and_still_saves_the_lines_note(
        self, page: Page, live_server: Any, world: World
    ) -> None:
        visit = visit_create(user=world.ot, case=world.ot_case, date=world.today)
        line = service_line_add(user=world.ot, visit=visit, code="97535", therapist_minutes=10)
        base = live_server.url
        _log_in(page, base, world.ot.username)
        page.goto(f"{base}/visits/{visit.pk}/note/")
        page.fill(f"#id_l{line.pk}-therapist_minutes", "22.5")
        page.fill(f"#id_l{line.pk}-task", GOOD_NOTE["task"])
        expect(page.locator(f"#e-l{line.pk}-therapist_minutes")).to_have_text(
            "“22.5” is not a whole number of minutes; type whole minutes such as 22 or 23.",
            timeout=TIMEOUT,
        )
        expect(page.locator(f"#s-l{line.pk}")).to_contain_text(
            "except the fields marked in red", timeout=TIMEOUT
        )
        page.reload()
        expect(page.locator(f"#id_l{line.pk}-task")).to_have_value(GOOD_NOTE["task"])
        expect(page.locator(f"#id_l{line.pk}-therapist_minutes")).to_have_value("10")

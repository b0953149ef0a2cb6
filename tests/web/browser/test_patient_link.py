"""The patient's link on a phone (390x844): open it without an account, log a session; the
therapist then sees it on the program's chart. Screenshots land in test-artifacts/."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from playwright.sync_api import Page, expect

from handrail.web.portal.services import link_create
from tests.web.browser.test_note_flow import TIMEOUT, _log_in
from tests.web.conftest import World
from tests.web.test_portal import backdate, issued_program

PHONE = {"width": 390, "height": 844}


class PatientLinkTests:
    def test_the_patient_logs_a_session_and_the_therapist_sees_it(
        self, page: Page, live_server: Any, world: World, screenshots: Path
    ) -> None:
        program = issued_program(world, count=3)
        backdate(program, 9)
        _link, token = link_create(program=program, by=world.ot)
        base = live_server.url
        page.set_viewport_size(PHONE)

        page.goto(f"{base}/p/{token}/")
        expect(page.locator("h1")).to_contain_text("Hello Ada", timeout=TIMEOUT)
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE["width"], f"the patient page is {width} px wide at 390 px"
        page.screenshot(path=str(screenshots / "patient-link-phone.png"), full_page=True)

        first = program.versions.get().items[0]
        page.check(f"input[name=items][value='{first['item_id']}']")
        page.select_option("#pain_before", "4")
        page.select_option("#pain_after", "3")
        page.select_option("#difficulty", "ok")
        page.fill("#comment", "Went well")
        page.click("#save-log")
        expect(page.locator(".messages")).to_contain_text("Saved", timeout=TIMEOUT)
        page.screenshot(path=str(screenshots / "patient-link-logged.png"), full_page=True)

        # A bad date is refused with the field named, and nothing is saved.
        page.check(f"input[name=items][value='{first['item_id']}']")
        page.fill("#day", "2999-01-01")
        page.click("#save-log")
        expect(page.locator("#error-day")).to_contain_text("in the future", timeout=TIMEOUT)

        page.goto(f"{base}/p/{token}/print/")
        expect(page.locator("h1")).to_contain_text(program.title, timeout=TIMEOUT)

        page.context.clear_cookies()
        page.set_viewport_size({"width": 1280, "height": 1000})
        _log_in(page, base, world.ot.username)
        page.goto(f"{base}/programs/{program.pk}/patient/")
        chart = page.locator(f"#adherence-{program.pk}")
        expect(chart).to_be_visible(timeout=TIMEOUT)
        expect(page.locator(f"#adherence-{program.pk} g.week[data-week='2']")).to_have_attribute(
            "data-done", "1"
        )
        expect(page.locator(f"#pain-{program.pk} circle.pain-before")).to_have_count(1)
        expect(page.locator("#session-log")).to_contain_text("Went well")
        page.screenshot(path=str(screenshots / "program-patient-side.png"), full_page=True)

"""Phones and tablets in chromium: at 390 px wide the note page, the patient pages and the
worklists never scroll sideways, and the note's live panel is one tap away (a summary bar
fixed at the bottom with a Show toggle). Screenshots land in test-artifacts/screenshots/."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from playwright.sync_api import Page, expect

from handrail.web.worklists.views import KINDS
from tests.web.browser.test_note_flow import TIMEOUT, _log_in
from tests.web.conftest import World
from tests.web.notes_seed import seed_worklists

PHONE = {"width": 390, "height": 844}
TABLET = {"width": 820, "height": 1180}


def _widths(page: Page) -> tuple[int, int]:
    width = page.evaluate("document.documentElement.scrollWidth")
    body = page.evaluate("document.body.scrollWidth")
    return int(width), int(body)


def _check(page: Page, url: str, shot: Path) -> None:
    page.goto(url)
    page.wait_for_load_state("load")
    limit = page.viewport_size["width"] if page.viewport_size else 0
    width, body = _widths(page)
    page.screenshot(path=str(shot), full_page=True)
    assert (url, width, body) == (url, min(width, limit), min(body, limit))
    assert width <= limit, f"{url} is {width} px wide at {limit} px"


class SmallScreenTests:
    def test_it_fits_the_patient_pages_and_the_note_at_390px(
        self, page: Page, live_server: Any, world: World, screenshots: Path
    ) -> None:
        seeded = seed_worklists(world)
        base = live_server.url
        page.set_viewport_size(PHONE)
        _log_in(page, base, world.ot.username)
        pages = {
            "patients": "/patients/",
            "patient": f"/patients/{world.patient.pk}/",
            "patient-edit": f"/patients/{world.patient.pk}/edit/",
            "case": f"/cases/{world.ot_case.pk}/",
            "note-signed": f"/visits/{seeded.signed[-1].pk}/note/",
            "note": f"/visits/{seeded.draft.pk}/note/",
        }
        for name, path in pages.items():
            _check(page, base + path, screenshots / f"phone-{name}.png")

        # The draft note: the panel's summary bar sits at the bottom of the screen, closed.
        summary = page.locator("#panel-summary")
        expect(summary).to_be_visible(timeout=TIMEOUT)
        expect(summary).to_be_in_viewport()
        expect(summary).to_contain_text("1 unit ·")
        expect(page.locator("#panel-units")).not_to_be_in_viewport()
        toggle = page.locator(".panel-toggle")
        expect(toggle).to_have_attribute("aria-expanded", "false")

        # One tap opens it over the note, wherever the page is scrolled to.
        page.evaluate("window.scrollTo(0, document.body.scrollHeight)")
        toggle.click()
        expect(toggle).to_have_attribute("aria-expanded", "true")
        expect(page.locator("#panel-units")).to_be_in_viewport()
        page.screenshot(path=str(screenshots / "phone-note-panel-open.png"))

        # A save replaces the panel (htmx): it stays open and its summary follows the note.
        line = page.locator("#line-97535").get_attribute("data-line")
        page.fill(f"#id_l{line}-therapist_minutes", "38")
        expect(summary).to_contain_text("3 units", timeout=TIMEOUT)
        expect(page.locator(".panel-toggle")).to_have_attribute("aria-expanded", "true")
        expect(page.locator("#panel-units")).to_be_in_viewport()
        page.locator(".panel-toggle").click()
        expect(page.locator("#panel-units")).not_to_be_in_viewport()
        assert _widths(page)[0] <= PHONE["width"]

    def test_it_fits_the_worklists_at_390px(
        self, page: Page, live_server: Any, world: World, screenshots: Path
    ) -> None:
        seed_worklists(world)
        base = live_server.url
        page.set_viewport_size(PHONE)
        _log_in(page, base, world.biller.username)
        _check(page, f"{base}/worklists/", screenshots / "phone-worklists.png")
        expect(page.locator("#wl-threshold")).to_contain_text("$2,100.00 of $2,480.00")
        for kind in KINDS:
            _check(page, f"{base}/worklists/{kind}/", screenshots / f"phone-worklists-{kind}.png")

    def test_it_fits_the_note_on_a_tablet_with_the_panel_one_tap_away(
        self, page: Page, live_server: Any, world: World, screenshots: Path
    ) -> None:
        seeded = seed_worklists(world)
        base = live_server.url
        page.set_viewport_size(TABLET)
        _log_in(page, base, world.ot.username)
        _check(page, f"{base}/visits/{seeded.draft.pk}/note/", screenshots / "tablet-note.png")
        expect(page.locator("#panel-summary")).to_be_in_viewport()
        page.locator(".panel-toggle").click()
        expect(page.locator("#panel-units")).to_be_in_viewport()

    def test_it_keeps_the_panel_beside_the_note_on_a_wide_screen(
        self, page: Page, live_server: Any, world: World
    ) -> None:
        seeded = seed_worklists(world)
        base = live_server.url
        _log_in(page, base, world.ot.username)
        page.goto(f"{base}/visits/{seeded.draft.pk}/note/")
        expect(page.locator("#panel-units")).to_be_in_viewport(timeout=TIMEOUT)
        expect(page.locator("#panel-summary")).to_be_hidden()
        expect(page.locator(".panel-toggle")).to_be_hidden()

"""End to end in chromium: the OT builds a home program from the library (search, add,
dose, reorder with the keyboard buttons and by dragging), issues it during a visit and sees
the 97535 line on the note, revises it and sees version 2 with its diff. Screenshots land in
test-artifacts/screenshots/."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from playwright.sync_api import Page, expect

from handrail.web.programs.models import Program, ProgramVersion
from handrail.web.visits.models import ServiceLine
from handrail.web.visits.services import visit_create
from tests.web.conftest import PASSWORD, World

TIMEOUT = 10_000
TUB = "Getting in and out of the tub with a transfer bench"
DRESSING = "Lower-body dressing with posterior hip precautions"
PENDULUM = "Pendulum swings"


def _log_in(page: Page, base: str, username: str) -> None:
    page.goto(f"{base}/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("#login-form button[type=submit]")
    expect(page.locator(".who")).to_contain_text(username.capitalize(), timeout=TIMEOUT)


def _search_and_add(page: Page, words: str, title: str) -> None:
    page.fill("#lib-q", words)
    page.click(".library-search button[type=submit]")
    page.click(f"#results button[aria-label='Add {title}']")
    expect(page.locator("#items .item-title", has_text=title)).to_be_visible(timeout=TIMEOUT)


def _drag_first_below_last(page: Page) -> None:
    """Drag the builder's first item by its handle to the lower part of the last item."""
    handle = page.locator("#items li .handle").nth(0).bounding_box()
    last = page.locator("#items li").nth(2).bounding_box()
    assert handle is not None and last is not None
    page.mouse.move(handle["x"] + handle["width"] / 2, handle["y"] + handle["height"] / 2)
    page.mouse.down()
    page.mouse.move(last["x"] + 30, last["y"] + last["height"] - 8, steps=8)
    page.mouse.up()


class ProgramFlowTests:
    def test_it_builds_issues_at_a_visit_and_revises_a_program(
        self, page: Page, live_server: Any, world: World, screenshots: Path
    ) -> None:
        base = live_server.url
        note = visit_create(user=world.ot, case=world.ot_case, date=world.today)
        _log_in(page, base, world.ot.username)
        page.goto(f"{base}/cases/{world.ot_case.pk}/")
        page.click("text=New home program")
        page.fill("#p-title", "Home ADLs after CVA")
        page.click("button:has-text('Create draft')")
        page.wait_for_url(re.compile(r"/programs/\d+/$"))
        program = Program.objects.get()

        _search_and_add(page, "tub bench", TUB)
        _search_and_add(page, "dressing posterior hip", DRESSING)
        _search_and_add(page, "pendulum", PENDULUM)

        # Dose: the field's own limits stop 500 sets in the browser; past them (the limit
        # lifted, as a stale page or a script would) the server refuses it naming the field.
        item = page.locator("#items li", has_text=PENDULUM)
        item.locator("input[name=sets]").evaluate("input => input.removeAttribute('max')")
        item.locator("input[name=sets]").fill("500")
        item.locator("button:has-text('Save')").click()
        expect(page.locator(".messages")).to_contain_text("500 is out of range")
        item = page.locator("#items li", has_text=PENDULUM)
        item.locator("input[name=sets]").fill("2")
        item.locator("input[name=reps]").fill("15")
        item.locator("button:has-text('Save')").click()
        expect(page.locator("#items li", has_text=PENDULUM)).to_contain_text("2 sets × 15 reps")

        # Reorder with the keyboard: focus Move up and press Enter.
        page.locator(f"button[aria-label='Move {PENDULUM} up']").focus()
        page.keyboard.press("Enter")
        expect(page.locator("#items .item-title").nth(1)).to_have_text(PENDULUM)
        # ... and by dragging the first item below the last.
        # The whole list in view, so the drag needs no scrolling mid-gesture.
        page.set_viewport_size({"width": 1440, "height": 2400})
        page.evaluate("window.scrollTo(0, 0)")
        before = page.locator("#items .item-title").all_inner_texts()
        order = [PENDULUM, DRESSING, TUB]
        # The script saves the order and reloads the page once the server has it.
        with page.expect_navigation(timeout=TIMEOUT):
            _drag_first_below_last(page)
        # Chromium's emulated HTML5 drag can lose its dragover events on a loaded machine
        # (seen once in CI: the drop posted the unchanged order). The reloaded page then
        # shows the order it had; the gesture is made once more, and must change it then.
        if page.locator("#items .item-title").all_inner_texts() == before:
            with page.expect_navigation(timeout=TIMEOUT):
                _drag_first_below_last(page)
        expect(page.locator("#items .item-title")).to_have_text(order, timeout=TIMEOUT)
        page.wait_for_timeout(500)  # the script reloads the page once the server saved it
        page.reload()
        expect(page.locator("#items .item-title")).to_have_text(order, timeout=TIMEOUT)
        page.screenshot(path=str(screenshots / "program-builder.png"), full_page=True)

        # Issue during the visit: the 97535 line goes on the note, 97110 on its own line.
        page.click("#issue-link")
        page.select_option("#visit-id", str(note.pk))
        page.click("#visit-pick button[type=submit]")
        expect(page.locator("#billing-reason")).to_contain_text("Billable (97535)")
        page.fill("#minutes-97535", "14")
        page.screenshot(path=str(screenshots / "program-issue.png"), full_page=True)
        page.click("#issue-button")
        page.wait_for_url(re.compile(r"/versions/$"))
        page.goto(f"{base}/visits/{note.pk}/note/")
        expect(page.locator("#line-97535")).to_be_visible(timeout=TIMEOUT)
        line = ServiceLine.objects.get(visit=note, code="97535")
        assert line.therapist_minutes == 14 and TUB in line.task and PENDULUM not in line.task
        assert ServiceLine.objects.filter(visit=note, code="97110").exists()
        page.screenshot(path=str(screenshots / "program-note-97535.png"), full_page=True)

        # Revise: a new item, issued outside a visit (not billable), then version 2's diff.
        page.goto(f"{base}/programs/{program.pk}/")
        _search_and_add(page, "compression stockings", "Putting on compression stockings")
        page.click("#issue-link")
        expect(page.locator("#billing-reason")).to_contain_text("sent but not billable")
        page.click("#issue-button")
        page.wait_for_url(re.compile(r"/versions/$"))
        version = page.locator("#version-2")
        expect(version).to_contain_text("outside a visit")
        expect(version.locator(".diff-added")).to_contain_text("Putting on compression stockings")
        assert ProgramVersion.objects.filter(program=program).count() == 2
        page.screenshot(path=str(screenshots / "program-versions.png"), full_page=True)

    def test_the_builder_fits_a_phone(
        self, page: Page, live_server: Any, world: World, screenshots: Path
    ) -> None:
        from handrail.web.programs.models import LibraryEntry
        from handrail.web.programs.services import ItemInput, program_create

        entries = LibraryEntry.objects.filter(clinic__isnull=True, kind="self_care")[:3]
        program = program_create(
            user=world.ot,
            case=world.ot_case,
            title="Phone check",
            items=[ItemInput(entry_id=e.pk, dose={}) for e in entries],
        )
        page.set_viewport_size({"width": 390, "height": 844})
        _log_in(page, live_server.url, world.ot.username)
        page.goto(f"{live_server.url}/programs/{program.pk}/")
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, f"the builder scrolls sideways at 390 px ({width} px wide)"
        page.screenshot(path=str(screenshots / "program-builder-phone.png"), full_page=True)

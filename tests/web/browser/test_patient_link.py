"""The patient's link on a phone (390x844): open it without an account, with the items'
pictures, download the handout, log a session; the therapist then sees it on the program's
chart. Screenshots (and the handout PDF) land in test-artifacts/screenshots/."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from PIL import Image, ImageDraw
from playwright.sync_api import Page, expect
from pypdf import PdfReader

from handrail.web.portal.services import link_create
from handrail.web.programs.media import media_add
from handrail.web.programs.models import LibraryEntry, Program
from handrail.web.programs.services import ItemInput, program_create
from tests.web.browser.test_note_flow import TIMEOUT, _log_in
from tests.web.conftest import World
from tests.web.test_portal import backdate, issue

PHONE = {"width": 390, "height": 844}
CREDIT = "Drawing: Riverside Rehab (synthetic test picture)"


def bridge_drawing(hips_up: bool) -> bytes:
    """A plain line drawing of the bridge exercise (lying, knees bent; hips down or up), made
    here so the test needs no outside picture."""
    picture = Image.new("RGB", (400, 240), (250, 250, 247))
    draw = ImageDraw.Draw(picture)
    ink, width = (40, 70, 110), 9
    draw.line([(20, 200), (380, 200)], fill=(170, 170, 160), width=4)  # the floor
    shoulder, hip = (110, 182), ((215, 130) if hips_up else (215, 182))
    knee, foot = (285, 112 if hips_up else 122), (320, 190)
    draw.ellipse([(52, 158), (96, 196)], outline=ink, width=width)  # the head
    draw.line([shoulder, hip, knee, foot], fill=ink, width=width, joint="curve")
    draw.line([shoulder, (175, 192)], fill=ink, width=width)  # the arm along the body
    buffer = io.BytesIO()
    picture.save(buffer, format="PNG")
    return buffer.getvalue()


def program_with_pictures(world: World) -> Program:
    """Two self-care items and the bridge with its start and end pictures, issued."""
    bridge = LibraryEntry.objects.get(key="lumbar-bridge", clinic__isnull=True)
    for caption, hips_up in (("Start", False), ("End", True)):
        media_add(
            user=world.ot,
            entry=bridge,
            stream=io.BytesIO(bridge_drawing(hips_up)),
            caption=caption,
            credit=CREDIT,
        )
    self_care = LibraryEntry.objects.filter(
        clinic__isnull=True, kind="self_care", archived=False
    ).order_by("key")[:2]
    program = program_create(
        user=world.ot,
        case=world.ot_case,
        title="Daily tasks and back care",
        items=[ItemInput(entry_id=e.pk, dose={}) for e in [*self_care, bridge]],
    )
    return issue(world, program)


class PatientLinkTests:
    def test_the_patient_logs_a_session_and_the_therapist_sees_it(
        self,
        page: Page,
        live_server: Any,
        world: World,
        screenshots: Path,
        settings: Any,
        tmp_path: Path,
    ) -> None:
        settings.MEDIA_ROOT = tmp_path / "media"
        program = program_with_pictures(world)
        backdate(program, 9)
        _link, token = link_create(program=program, by=world.ot)
        base = live_server.url
        page.set_viewport_size(PHONE)

        page.goto(f"{base}/p/{token}/")
        expect(page.locator("h1")).to_contain_text("Hello Ada", timeout=TIMEOUT)
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE["width"], f"the patient page is {width} px wide at 390 px"
        # The bridge's two pictures load through the link, with their credit line.
        pictures = page.locator("img[src*='/media/']")
        expect(pictures).to_have_count(2, timeout=TIMEOUT)
        for index in range(2):
            picture = pictures.nth(index)
            picture.scroll_into_view_if_needed()
            page.wait_for_function(
                "img => img.complete && img.naturalWidth > 0", arg=picture.element_handle()
            )
        expect(page.locator("body")).to_contain_text(CREDIT)
        page.evaluate("window.scrollTo(0, 0)")
        page.screenshot(path=str(screenshots / "patient-link-phone.png"), full_page=True)

        # The handout through the same link: a real PDF with the first name, every item
        # and the pictures' credit line (read back with pypdf).
        handout = page.request.get(f"{base}/p/{token}/handout.pdf")
        assert handout.ok and handout.headers["content-type"] == "application/pdf"
        (screenshots / "program-handout.pdf").write_bytes(handout.body())
        text = " ".join(
            " ".join((p.extract_text() or "").split())
            for p in PdfReader(io.BytesIO(handout.body())).pages
        )
        assert "Ada" in text and "Riverside Rehab" in text and CREDIT in text
        for row in program.versions.get().items:
            assert " ".join(row["title"].split()) in text

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

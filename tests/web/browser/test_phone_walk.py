"""A phone-sized walk (390 x 844) in chromium through the demo clinic: the biller's pages
(claims in every state, batches, billing settings, remittance posting, denials, patterns,
exports) and the therapist's (notes, the program builder, the patient side of a program,
the library, templates), and the patient's link. On every page: the page body never scrolls
sideways, and the browser logs no error (a script error, a refused resource, a Content
Security Policy violation). Screenshots land in test-artifacts/screenshots/phone-walk-*."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO
from pathlib import Path
from typing import Any

from django.core.management import call_command
from django.utils import timezone
from playwright.sync_api import ConsoleMessage, Error, Page, expect

from handrail.web.billing.models import Batch, Claim, ClaimState
from handrail.web.clinic.management.commands.load_demo import DEMO_PASSWORD
from handrail.web.clinic.models import Payer, User
from handrail.web.clinic.two_factor import two_factor_required
from handrail.web.portal.services import link_create
from handrail.web.programs.models import LibraryEntry, Program, ProgramStatus
from handrail.web.visits.models import Visit
from tests.web.browser.test_note_flow import TIMEOUT
from tests.web.conftest import totp_code, totp_device
from tests.web.remittance_seed import adjustment, claim_payment, paid_line, remittance_text

PHONE = {"width": 390, "height": 844}


class Walker:
    """Opens pages on a phone and keeps what went wrong: a page wider than the screen, an
    error status, a browser error."""

    def __init__(self, page: Page, base: str, screenshots: Path) -> None:
        self.page = page
        self.base = base
        self.screenshots = screenshots
        self.errors: list[str] = []
        self.wrong: list[str] = []
        self.current = ""
        page.on("console", self._console)
        page.on("pageerror", self._page_error)

    def _console(self, message: ConsoleMessage) -> None:
        if message.type == "error":
            self.errors.append(f"{self.current}: {message.text}")

    def _page_error(self, error: Error) -> None:
        self.errors.append(f"{self.current}: {error}")

    def log_in(self, username: str) -> None:
        user = User.objects.get(username=username)
        device = totp_device(user) if two_factor_required(user) else None
        self.page.goto(f"{self.base}/login/")
        self.page.fill("input[name=username]", username)
        self.page.fill("input[name=password]", DEMO_PASSWORD)
        self.page.click("#login-form button[type=submit]")
        if device is not None:
            self.page.fill("#verify-form input[name=token]", totp_code(device))
            self.page.click("#verify-form button[type=submit]")
        expect(self.page.locator(".who")).to_contain_text(user.first_name, timeout=TIMEOUT)

    def visit(self, name: str, path: str) -> None:
        self.current = path
        response = self.page.goto(self.base + path)
        status = response.status if response is not None else 0
        if status != 200:
            self.wrong.append(f"{path}: status {status}")
        self.fits(name)

    def fits(self, name: str) -> None:
        # After a click the new page's stylesheets may still be loading: measure once loaded.
        self.page.wait_for_load_state("load")
        width = int(self.page.evaluate("document.documentElement.scrollWidth"))
        inner = int(self.page.evaluate("window.innerWidth"))
        if width > inner:
            wide = self.page.evaluate(WIDEST)
            self.wrong.append(f"{self.current}: {width} px wide at {inner} px ({wide})")
        self.page.screenshot(path=str(self.screenshots / f"phone-walk-{name}.png"))


# The elements that stick out past the right edge, for the failure message.
WIDEST = """
(() => {
  const limit = window.innerWidth;
  const out = [];
  for (const el of document.querySelectorAll('body *')) {
    const box = el.getBoundingClientRect();
    if (box.right > limit + 1 && box.width > 0) {
      out.push(el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') +
               (el.className && typeof el.className === 'string' ?
                '.' + el.className.split(' ').join('.') : '') + ' ' + Math.round(box.right));
    }
  }
  return out.slice(0, 5).join(', ');
})()
"""


def _load_demo() -> None:
    call_command("load_demo", stdout=StringIO())


class PhoneWalkTests:
    def test_the_billers_pages_fit_a_phone_without_browser_errors(
        self,
        page: Page,
        live_server: Any,
        screenshots: Path,
        transactional_db: None,
        tmp_path: Path,
    ) -> None:
        _load_demo()
        page.set_viewport_size(PHONE)
        walker = Walker(page, live_server.url, screenshots)
        walker.log_in("biller")
        pages = {
            "claims": "/billing/",
            "batches": "/billing/batches/",
            "billing-settings": "/billing/settings/",
            "charges": "/billing/settings/charges/",
            "remittances": "/remittances/",
            "denials": "/remittances/denials/",
            "patterns": "/remittances/patterns/",
            "exports": "/exports/",
            "worklists": "/worklists/",
        }
        for state, claim_id in _claim_per_state().items():
            pages[f"claim-{state}"] = f"/billing/claims/{claim_id}/"
        for payer in Payer.objects.order_by("pk"):
            pages[f"payer-{payer.type}"] = f"/billing/settings/payers/{payer.pk}/"
        ot = User.objects.get(username="ot")
        pages["clinician"] = f"/billing/settings/clinicians/{ot.pk}/"
        for name, path in pages.items():
            walker.visit(name, path)
        assert Batch.objects.exists()

        # Post an 835 on the phone for a claim out with the payer (one line denied), then the
        # denial it brought on the worklist.
        claim = Claim.objects.filter(state=ClaimState.SENT).order_by("pk")[0]
        lines = list(claim.lines.order_by("number"))
        paid = [
            paid_line(lines[0], "0.00", adjustment("CO", "50", str(lines[0].charge))),
            *(
                paid_line(line, str(line.charge - 20), adjustment("CO", "45", "20.00"))
                for line in lines[1:]
            ),
        ]
        era = tmp_path / "medicare.835"
        paid_on = timezone.localdate() - timedelta(days=2)
        era.write_text(
            remittance_text([claim_payment(claim, paid)], trace="55550001", paid_on=paid_on)
        )
        walker.visit("remittance-post", "/remittances/")
        page.set_input_files("#id_file", str(era))
        page.click("#remittance-upload button[type=submit]")
        expect(page.locator("body")).to_contain_text("Posted 1 claim(s)", timeout=TIMEOUT)
        walker.fits("remittance-posted")
        walker.visit("denials-after-posting", "/remittances/denials/")
        row = page.locator(f"#denial-{claim.pk}-1")
        expect(row).to_be_visible(timeout=TIMEOUT)
        walker.fits("denial-posted")
        assert walker.wrong == [], "\n".join(walker.wrong)
        assert walker.errors == [], "\n".join(walker.errors)

    def test_the_therapists_note_and_program_pages_fit_a_phone_without_browser_errors(
        self, page: Page, live_server: Any, screenshots: Path, transactional_db: None
    ) -> None:
        _load_demo()
        page.set_viewport_size(PHONE)
        walker = Walker(page, live_server.url, screenshots)
        walker.log_in("ot")
        ot = User.objects.get(username="ot")
        draft = Visit.objects.filter(clinician=ot, status="draft").order_by("pk").first()
        signed = Visit.objects.filter(clinician=ot, status="signed").order_by("pk").first()
        program = (
            Program.objects.filter(created_by=ot, status=ProgramStatus.ISSUED)
            .order_by("pk")
            .first()
        )
        assert signed is not None and program is not None
        entry = LibraryEntry.objects.filter(clinic__isnull=True).order_by("key").first()
        assert entry is not None
        pages = {
            "note-signed": f"/visits/{signed.pk}/note/",
            "program-builder": f"/programs/{program.pk}/",
            "program-versions": f"/programs/{program.pk}/versions/",
            "program-patient": f"/programs/{program.pk}/patient/",
            "program-new": f"/programs/new/{program.case_id}/",
            "library": "/programs/library/",
            "library-entry": f"/programs/library/{entry.pk}/",
            "library-new": "/programs/library/new/",
            "templates": "/programs/templates/",
            "untaught": "/programs/untaught/",
            "flags": "/programs/flags/",
            "case": f"/cases/{program.case_id}/",
        }
        if draft is not None:
            pages["note-draft"] = f"/visits/{draft.pk}/note/"
        for name, path in pages.items():
            walker.visit(name, path)

        # The builder in use on the phone: the library search and adding an exercise.
        walker.visit("program-builder-again", f"/programs/{program.pk}/")
        search = page.locator("input[type=search]").first
        if search.count():
            search.fill("sock")
            page.wait_for_timeout(400)
            walker.fits("program-builder-search")

        # The patient's link, opened on the patient's phone (no sign-in).
        _link, token = link_create(program=program, by=ot)
        page.context.clear_cookies()
        walker.visit("patient-link", f"/p/{token}/")
        walker.visit("patient-link-print", f"/p/{token}/print/")
        assert walker.wrong == [], "\n".join(walker.wrong)
        assert walker.errors == [], "\n".join(walker.errors)


def _claim_per_state() -> dict[str, int]:
    found: dict[str, int] = {}
    for claim_id, state in Claim.objects.order_by("pk").values_list("pk", "state"):
        found.setdefault(state, claim_id)
    return found

"""In chromium: a biller (two-factor sign-in required) signs in with the password, is
taken to the set-up page, scans (reads) the key, confirms a code, keeps the recovery
codes, and signs in again with the password and a code. Also at phone width."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import Page, expect

from tests.web.conftest import PASSWORD, World, totp_code

TIMEOUT = 10_000  # ms
PHONE = {"width": 390, "height": 844}


def _password(page: Page, base: str, username: str) -> None:
    page.goto(f"{base}/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("#login-form button[type=submit]")


def _fits(page: Page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"the page is {width}px wide on a {PHONE['width']}px phone"


class TwoFactorFlowTests:
    def test_a_biller_sets_up_two_factor_and_signs_in_with_a_code(
        self, page: Page, live_server: Any, world: World, screenshots: Path
    ) -> None:
        base = live_server.url
        page.set_viewport_size(PHONE)
        _password(page, base, "bill")
        # Straight to the set-up page: a biller may do nothing else first.
        expect(page.locator("#two-factor-required")).to_be_visible(timeout=TIMEOUT)
        expect(page.locator("#qr svg")).to_be_visible()
        secret = page.locator("#totp-secret").inner_text()
        device = TOTPDevice.objects.get(user=world.biller, confirmed=False)
        assert len(secret) == 32
        _fits(page)
        page.screenshot(path=str(screenshots / "two-factor-setup-phone.png"), full_page=True)

        page.fill("#enrol-form input[name=token]", totp_code(device))
        page.click("#enrol-form button[type=submit]")
        expect(page.locator("#two-factor-done")).to_be_visible(timeout=TIMEOUT)
        expect(page.locator("#recovery-codes li")).to_have_count(10)
        _fits(page)
        page.screenshot(path=str(screenshots / "two-factor-recovery-codes.png"), full_page=True)
        page.click("#continue")
        expect(page.locator(".who")).to_contain_text("Bill", timeout=TIMEOUT)

        page.click(".who button[type=submit]")  # sign out
        expect(page.locator("#login-form")).to_be_visible(timeout=TIMEOUT)
        _password(page, base, "bill")
        expect(page.locator("#verify-form")).to_be_visible(timeout=TIMEOUT)
        _fits(page)
        page.fill("#verify-form input[name=token]", "000000")
        page.click("#verify-form button[type=submit]")
        expect(page.locator(".field-error")).to_contain_text("That code is not right")
        page.wait_for_timeout(1_100)  # django-otp's 1-second pause after a wrong code
        # The code of the next 30-second step: the set-up code may still be the current one,
        # and a code is accepted once.
        page.fill("#verify-form input[name=token]", totp_code(device, steps_ahead=1))
        page.click("#verify-form button[type=submit]")
        expect(page.locator(".who")).to_contain_text("Bill", timeout=TIMEOUT)
        page.click("nav.mainnav >> text=Worklists")
        expect(page.locator("h1")).to_have_text("Worklists")

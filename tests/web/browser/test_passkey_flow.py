"""In chromium, with its virtual authenticator (DevTools protocol: WebAuthn.enable,
WebAuthn.addVirtualAuthenticator, a CTAP2 platform authenticator with a resident key and
user verification): a biller, whose role must use two-factor sign-in, signs in with the
password and a code, adds a named passkey through django-otp-webauthn's script, signs out,
and signs in again with the password and the passkey instead of a code."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django_otp_webauthn.models import WebAuthnCredential
from playwright.sync_api import Page, expect

from handrail.web.audit.models import AuditEvent
from tests.web.conftest import PASSWORD, World, totp_code, totp_device

TIMEOUT = 10_000  # ms
PHONE = {"width": 390, "height": 844}


def _password(page: Page, base: str) -> None:
    page.goto(f"{base}/login/")
    page.fill("input[name=username]", "bill")
    page.fill("input[name=password]", PASSWORD)
    page.click("#login-form button[type=submit]")


class PasskeyFlowTests:
    def test_a_biller_adds_a_passkey_and_signs_in_with_it(
        self,
        page: Page,
        live_server: Any,
        world: World,
        settings: Any,
        screenshots: Path,
    ) -> None:
        base = live_server.url  # http://localhost:<port>: a domain name, as WebAuthn needs
        settings.OTP_WEBAUTHN_ALLOWED_ORIGINS = [base]
        cdp = page.context.new_cdp_session(page)
        cdp.send("WebAuthn.enable")
        authenticator = cdp.send(
            "WebAuthn.addVirtualAuthenticator",
            {
                "options": {
                    "protocol": "ctap2",
                    "transport": "internal",
                    "hasResidentKey": True,
                    "hasUserVerification": True,
                    "isUserVerified": True,
                }
            },
        )["authenticatorId"]
        device = totp_device(world.biller)
        # The library's scripts run under the strict CSP (no inline script): nothing refused.
        problems: list[str] = []
        page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda error: problems.append(str(error)))

        _password(page, base)
        page.fill("#verify-form input[name=token]", totp_code(device))
        page.click("#verify-form button[type=submit]")
        expect(page.locator(".who")).to_contain_text("Bill", timeout=TIMEOUT)
        # No passkey yet: the code step offers none.
        page.goto(f"{base}/account/two-factor/")
        page.click("#passkeys-link a")
        expect(page.locator("#no-passkeys")).to_be_visible(timeout=TIMEOUT)
        page.fill("#passkey-name-form input[name=name]", "Front desk laptop")
        page.click("#passkey-name-form button[type=submit]")
        page.click("#passkey-register-button", timeout=TIMEOUT)
        expect(page.locator("#passkey-list .passkey-name")).to_have_text(
            ["Front desk laptop"], timeout=TIMEOUT
        )
        expect(page.locator(".msg-success")).to_contain_text("Passkey 'Front desk laptop' added")
        page.screenshot(path=str(screenshots / "passkeys-list.png"), full_page=True)
        page.set_viewport_size(PHONE)
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE["width"], f"the page is {width}px wide on a phone"
        page.screenshot(path=str(screenshots / "passkeys-list-phone.png"), full_page=True)
        stored = cdp.send("WebAuthn.getCredentials", {"authenticatorId": authenticator})
        assert len(stored["credentials"]) == 1 and stored["credentials"][0]["isResidentCredential"]
        passkey = WebAuthnCredential.objects.get(user=world.biller)
        assert passkey.last_used_at is None

        page.click(".who button[type=submit]")  # sign out
        expect(page.locator("#login-form")).to_be_visible(timeout=TIMEOUT)
        _password(page, base)
        expect(page.locator("#passkey-verification-button")).to_be_visible(timeout=TIMEOUT)
        page.screenshot(path=str(screenshots / "passkey-code-step.png"), full_page=True)
        page.click("#passkey-verification-button")
        # The script goes on to the server's redirect_url: home, the patient list.
        expect(page.locator("h1")).to_have_text("Patients", timeout=TIMEOUT)
        expect(page.locator(".who")).to_contain_text("Bill")
        page.click("nav.mainnav >> text=Worklists")
        expect(page.locator("h1")).to_have_text("Worklists")
        passkey.refresh_from_db()
        assert passkey.last_used_at is not None
        assert problems == []
        details = list(
            AuditEvent.objects.filter(object_type="user", object_id=str(world.biller.pk))
            .order_by("id")
            .values_list("detail", flat=True)
        )
        assert details[-2:] == [
            "bill: passkey 'Front desk laptop' added",
            "bill: signed in with passkey 'Front desk laptop'",
        ]

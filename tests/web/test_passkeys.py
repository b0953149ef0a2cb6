"""Passkeys as a second factor (handrail.web.clinic.passkeys, passkey_views): the relying
party settings, adding a named passkey from a verified session, the code step with a
passkey, and what is refused: a removed passkey, another user's passkey, a wrong origin, a
replayed answer, a session that has not given its second factor. A software authenticator
(tests/web/soft_authenticator.py) signs with a real key; the browser test uses chromium's."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.core.exceptions import ImproperlyConfigured
from django.test import Client, override_settings
from django.urls import reverse
from django.utils import timezone
from django_otp_webauthn.models import WebAuthnCredential

from handrail.web.audit.models import AuditEvent
from handrail.web.clinic.admin_services import staff_two_factor_reset
from handrail.web.clinic.models import User
from handrail.web.clinic.two_factor import SESSION_KEY, VERIFIED
from handrail.web.passkey_settings import relying_party
from tests.web.conftest import PASSWORD, World, sign_in, totp_device
from tests.web.soft_authenticator import SoftAuthenticator, b64url

ORIGIN = "http://localhost:8000"  # the test settings' derived origin (SITE_URL's port)


def _post_json(client: Client, name: str, body: Any = None) -> Any:
    data = "" if body is None else json.dumps(body)
    return client.post(reverse(name), data=data, content_type="application/json")


def _details(user: User) -> list[str]:
    events = AuditEvent.objects.filter(object_type="user", object_id=str(user.pk)).order_by("id")
    return [e.detail for e in events]


def _verified(user: User) -> Client:
    """A session of an enrolled user that gave its code."""
    totp_device(user)
    client = Client()
    sign_in(client, user.username)
    assert client.session[SESSION_KEY] == VERIFIED
    return client


def _add(client: Client, name: str, key: SoftAuthenticator, origin: str = ORIGIN) -> Any:
    page = client.post(reverse("passkeys"), {"name": name})
    assert page.status_code == 200, page.content
    begin = _post_json(client, "passkey-register-begin")
    assert begin.status_code == 200, begin.content
    return _post_json(
        client, "passkey-register-complete", key.register(begin.json(), origin=origin)
    )


def _password_only(username: str) -> Client:
    client = Client()
    response = client.post("/login/", {"username": username, "password": PASSWORD})
    assert response.status_code == 302
    return client


def _use(client: Client, key: SoftAuthenticator, origin: str = ORIGIN, next: str = "") -> Any:
    begin = _post_json(client, "passkey-auth-begin")
    assert begin.status_code == 200, begin.content
    url = reverse("passkey-auth-complete") + (f"?next={next}" if next else "")
    body = json.dumps(key.assertion(begin.json(), origin=origin))
    return client.post(url, data=body, content_type="application/json")


class RelyingPartySettingsTests:
    def test_it_derives_localhost_and_the_site_port_from_the_defaults(self) -> None:
        rp = relying_party(
            rp_id="",
            origins=[],
            site_url="http://127.0.0.1:8000",
            allowed_hosts=["127.0.0.1", "localhost"],
            https=False,
        )
        assert (rp.enabled, rp.rp_id, rp.origins) == (True, "localhost", [ORIGIN])

    def test_it_takes_the_site_url_behind_https(self) -> None:
        rp = relying_party(
            rp_id="",
            origins=[],
            site_url="https://clinic.example.org",
            allowed_hosts=["clinic.example.org"],
            https=True,
        )
        assert (rp.rp_id, rp.origins) == ("clinic.example.org", ["https://clinic.example.org"])

    def test_it_derives_the_deploy_guides_environment(self) -> None:
        # docs/deploy.md: ALLOWED_HOSTS=clinic.example.org, HTTPS=1, SITE_URL left alone.
        rp = relying_party(
            rp_id="",
            origins=[],
            site_url="http://127.0.0.1:8000",
            allowed_hosts=["clinic.example.org"],
            https=True,
        )
        assert (rp.rp_id, rp.origins) == ("clinic.example.org", ["https://clinic.example.org"])

    def test_it_is_off_without_a_domain_name(self) -> None:
        rp = relying_party(
            rp_id="",
            origins=[],
            site_url="http://10.0.0.5:8000",
            allowed_hosts=["10.0.0.5"],
            https=False,
        )
        assert not rp.enabled and "WEBAUTHN_RP_ID" in rp.off_reason

    def test_it_is_off_when_the_derived_origin_is_plain_http_on_a_domain(self) -> None:
        rp = relying_party(
            rp_id="",
            origins=[],
            site_url="http://clinic.lan",
            allowed_hosts=["clinic.lan"],
            https=False,
        )
        assert not rp.enabled and "https://" in rp.off_reason

    @pytest.mark.parametrize(
        ("rp_id", "origins", "message"),
        [
            ("10.0.0.5", [], "WEBAUTHN_RP_ID='10.0.0.5': write the domain name"),
            ("https://example.org", [], "not an address, port or URL"),
            ("example.org", ["https://evil.example"], "is not on example.org or below it"),
            ("example.org", ["http://clinic.example.org"], "https:// pages and http://localhost"),
            ("example.org", ["https://other.example.org"], "not in ALLOWED_HOSTS"),
            ("example.org", ["https://clinic.example.org/login"], "is not an origin"),
            ("clinic.lan", [], "the derived origin"),
        ],
    )
    def test_explicit_values_that_cannot_work_stop_the_app(
        self, rp_id: str, origins: list[str], message: str
    ) -> None:
        with pytest.raises(ImproperlyConfigured, match=message.replace("?", r"\?")):
            relying_party(
                rp_id=rp_id,
                origins=origins,
                site_url="http://clinic.lan",
                allowed_hosts=["clinic.example.org", "clinic.lan"],
                https=False,
            )

    def test_explicit_origins_under_the_rp_id_are_kept(self) -> None:
        rp = relying_party(
            rp_id="Example.org",
            origins=["https://clinic.example.org/", "https://example.org:8443"],
            site_url="http://127.0.0.1:8000",
            allowed_hosts=[".example.org"],
            https=True,
        )
        assert (rp.rp_id, rp.origins) == (
            "example.org",
            ["https://clinic.example.org", "https://example.org:8443"],
        )

    def test_the_app_refuses_to_start_with_an_address_as_rp_id(self) -> None:
        env = {**os.environ, "SECRET_KEY": "x" * 50, "WEBAUTHN_RP_ID": "10.0.0.5"}
        run = subprocess.run(
            [sys.executable, "-c", "import handrail.web.settings"],
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        assert run.returncode != 0
        assert "WEBAUTHN_RP_ID='10.0.0.5': write the domain name" in run.stderr
        env.pop("WEBAUTHN_RP_ID")
        env["ALLOWED_HOSTS"] = "10.0.0.5"
        env["SITE_URL"] = "http://10.0.0.5:8000"
        script = (
            "import handrail.web.settings as s; "
            "print(repr(s.OTP_WEBAUTHN_RP_ID), s.SILENCED_SYSTEM_CHECKS)"
        )
        run = subprocess.run(
            [sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True
        )
        assert run.stdout.strip() == "'' ['otp_webauthn.E010', 'otp_webauthn.E030']"


class RegistrationTests:
    def test_it_adds_a_named_passkey_from_a_verified_session(self, world: World) -> None:
        client = _verified(world.biller)
        key = SoftAuthenticator()
        done = _add(client, "Front desk laptop", key)
        assert done.status_code == 200, done.content
        device = WebAuthnCredential.objects.get(user=world.biller)
        assert done.json() == {"id": device.pk, "redirect_url": "/account/two-factor/passkeys/"}
        assert (device.name, device.confirmed, device.last_used_at) == (
            "Front desk laptop",
            True,
            None,
        )
        assert bytes(device.credential_id) == key.credential_id
        assert _details(world.biller)[-1] == "bill: passkey 'Front desk laptop' added"
        page = client.get(reverse("passkeys"), HTTP_HOST="localhost:8000")
        assert b"Front desk laptop" in page.content and b"never" in page.content
        assert b'id="passkey-name-form"' in page.content
        ready = client.post(reverse("passkeys"), {"name": "Phone"}, HTTP_HOST="localhost:8000")
        assert b'id="otp_webauthn_config"' in ready.content
        assert b"otp_webauthn_register.js" in ready.content
        # make run's default address is an IP address: the page sends users to localhost.
        page = client.get(reverse("passkeys"), HTTP_HOST="127.0.0.1:8000")
        assert b'id="passkey-wrong-address"' in page.content
        assert b'href="http://localhost:8000/account/two-factor/passkeys/"' in page.content
        assert b'id="passkey-name-form"' not in page.content
        assert b"Passkeys: <strong>1</strong>" in client.get(reverse("two-factor")).content

    def test_the_name_is_checked_before_the_browser_is_asked(self, world: World) -> None:
        client = _verified(world.biller)
        _add(client, "Laptop", SoftAuthenticator())
        for name, error in [
            ("   ", "This field is required."),
            ("laptop", "You already have a passkey named 'laptop'."),
            ("x" * 65, "Ensure this value has at most 64 characters (it has 65)."),
        ]:
            page = client.post(reverse("passkeys"), {"name": name})
            assert page.status_code == 422
            assert page.context["form"].errors == {"name": [error]}
        # No name chosen: the endpoints refuse to start.
        begin = _post_json(client, "passkey-register-begin")
        assert (begin.status_code, begin.json()["code"]) == (400, "name_first")

    def test_a_session_that_has_not_given_its_second_factor_adds_none(self, world: World) -> None:
        totp_device(world.biller)
        pending = _password_only("bill")
        begin = _post_json(pending, "passkey-register-begin")
        assert begin.status_code == 302  # the gate: the code step first
        assert begin["Location"] == "/account/two-factor/verify/"
        # An optional-role user without two-factor sign-in: not a factor to add to.
        bare = _password_only("olivia")
        assert bare.post(reverse("passkeys"), {"name": "Laptop"}).context["form"].errors == {
            "name": ["Set up two-factor sign-in with an authenticator app first."]
        }
        refused = _post_json(bare, "passkey-register-begin")
        assert (refused.status_code, refused.json()["code"]) == (403, "user_not_verified")
        assert not WebAuthnCredential.objects.exists()

    def test_a_wrong_origin_or_a_replayed_challenge_registers_nothing(self, world: World) -> None:
        client = _verified(world.biller)
        wrong = _add(client, "Laptop", SoftAuthenticator(), origin="https://evil.example")
        assert (wrong.status_code, wrong.json()["code"]) == (422, "invalid_registration_response")
        assert not WebAuthnCredential.objects.exists()
        # The name and the challenge were spent: answering again needs a new start.
        again = _post_json(client, "passkey-register-complete", {})
        assert (again.status_code, again.json()["code"]) == (400, "name_first")
        client.post(reverse("passkeys"), {"name": "Laptop"})
        again = _post_json(client, "passkey-register-complete", {})
        assert (again.status_code, again.json()["code"]) == (400, "invalid_state")

    def test_another_rp_id_is_refused(self, world: World) -> None:
        client = _verified(world.biller)
        client.post(reverse("passkeys"), {"name": "Laptop"})
        options = _post_json(client, "passkey-register-begin").json()
        options["rp"]["id"] = "evil.example"
        answer = SoftAuthenticator(rp_id="evil.example").register(options, origin=ORIGIN)
        done = _post_json(client, "passkey-register-complete", answer)
        assert done.status_code == 422
        assert not WebAuthnCredential.objects.exists()

    def test_malformed_answers_get_a_clear_error(self, world: World) -> None:
        client = _verified(world.biller)
        client.post(reverse("passkeys"), {"name": "Laptop"})
        _post_json(client, "passkey-register-begin")
        bad = client.post(
            reverse("passkey-register-complete"), data="{not json", content_type="application/json"
        )
        assert (bad.status_code, bad.json()["code"]) == (400, "malformed_request")
        client.post(reverse("passkeys"), {"name": "Laptop"})
        _post_json(client, "passkey-register-begin")
        bad = _post_json(client, "passkey-register-complete", {"id": "x", "type": "public-key"})
        assert bad.status_code == 422 and bad.json()["detail"]
        assert not WebAuthnCredential.objects.exists()


class CodeStepTests:
    def test_a_passkey_finishes_the_sign_in(self, world: World) -> None:
        key = SoftAuthenticator()
        _add(_verified(world.biller), "Laptop", key)
        client = _password_only("bill")
        assert client.get("/patients/")["Location"].startswith("/account/two-factor/verify/")
        page = client.get(reverse("two-factor-verify"), HTTP_HOST="localhost:8000")
        assert b'id="otp_webauthn_config"' in page.content
        assert b"otp_webauthn_auth.js" in page.content
        # At an address the passkey is not tied to, the browser would refuse: no offer.
        elsewhere = client.get(reverse("two-factor-verify"), HTTP_HOST="127.0.0.1:8000")
        assert b"otp_webauthn" not in elsewhere.content
        before = client.session.session_key
        begin = _post_json(client, "passkey-auth-begin")
        options = begin.json()
        # Only this user's passkey is offered.
        assert [c["id"] for c in options["allowCredentials"]] == [b64url(key.credential_id)]
        body = json.dumps(key.assertion(options, origin=ORIGIN))
        done = client.post(
            reverse("passkey-auth-complete") + "?next=/worklists/",
            data=body,
            content_type="application/json",
        )
        assert done.status_code == 200, done.content
        device = WebAuthnCredential.objects.get(user=world.biller)
        assert done.json() == {"id": device.pk, "redirect_url": "/worklists/"}
        assert client.session[SESSION_KEY] == VERIFIED
        assert client.session.session_key != before  # a new session id
        assert client.get("/worklists/").status_code == 200
        assert device.last_used_at is not None and device.sign_count == key.sign_count
        assert _details(world.biller)[-1] == "bill: signed in with passkey 'Laptop'"

    def test_an_unsafe_next_goes_home(self, world: World) -> None:
        key = SoftAuthenticator()
        _add(_verified(world.biller), "Laptop", key)
        done = _use(_password_only("bill"), key, next="https://evil.example/")
        assert done.json()["redirect_url"] == "/"

    def test_a_removed_passkey_no_longer_works(self, world: World) -> None:
        key = SoftAuthenticator()
        owner = _verified(world.biller)
        _add(owner, "Laptop", key)
        device = WebAuthnCredential.objects.get(user=world.biller)
        remove = reverse("passkey-remove", args=[device.pk])
        wrong = owner.post(remove, {"password": "not my password"})
        assert wrong.status_code == 422
        assert wrong.context["remove_form"].errors == {"password": ["That is not your password."]}
        assert WebAuthnCredential.objects.filter(pk=device.pk).exists()
        elsewhere = _verified_again("bill")
        done = owner.post(remove, {"password": PASSWORD})
        assert done["Location"] == reverse("passkeys")
        assert not WebAuthnCredential.objects.exists()
        assert _details(world.biller)[-1] == "bill: passkey 'Laptop' removed"
        assert owner.get("/patients/").status_code == 200  # this session stays
        assert elsewhere.get("/patients/")["Location"].startswith("/login/")  # others end

        client = _password_only("bill")
        refused = _use(client, key)
        assert (refused.status_code, refused.json()["code"]) == (404, "credential_not_found")
        assert client.get("/patients/")["Location"].startswith("/account/two-factor/verify/")

    def test_another_users_passkey_fails(self, world: World) -> None:
        bills_key = SoftAuthenticator()
        _add(_verified(world.biller), "Laptop", bills_key)
        _add(_verified(world.admin), "Key", SoftAuthenticator())
        admin = _password_only("admin")
        refused = _use(admin, bills_key)
        assert (refused.status_code, refused.json()["code"]) == (403, "credential_user_mismatch")
        assert admin.get("/patients/")["Location"].startswith("/account/two-factor/verify/")
        # And someone else's passkey cannot be removed either.
        bills = WebAuthnCredential.objects.get(user=world.biller)
        mine = _verified_again("admin")
        mine.post(reverse("passkey-remove", args=[bills.pk]), {"password": PASSWORD})
        assert WebAuthnCredential.objects.filter(pk=bills.pk).exists()

    def test_a_wrong_origin_is_refused(self, world: World) -> None:
        key = SoftAuthenticator()
        _add(_verified(world.biller), "Laptop", key)
        client = _password_only("bill")
        refused = _use(client, key, origin="https://evil.example")
        assert (refused.status_code, refused.json()["code"]) == (
            422,
            "invalid_authentication_response",
        )
        assert client.get("/patients/")["Location"].startswith("/account/two-factor/verify/")
        assert WebAuthnCredential.objects.get().last_used_at is None

    def test_an_answer_is_accepted_once(self, world: World) -> None:
        key = SoftAuthenticator()
        _add(_verified(world.biller), "Laptop", key)
        client = _password_only("bill")
        options = _post_json(client, "passkey-auth-begin").json()
        answer = key.assertion(options, origin=ORIGIN)
        thief = _password_only("bill")  # the same answer in another session
        stolen = _post_json(thief, "passkey-auth-complete", answer)
        assert (stolen.status_code, stolen.json()["code"]) == (400, "invalid_state")
        assert _post_json(client, "passkey-auth-complete", answer).status_code == 200
        replay = _post_json(client, "passkey-auth-complete", answer)
        assert replay.status_code in (400, 403)  # no challenge now; not at the code step

    def test_the_session_limits_hold_for_a_passkey_sign_in(self, world: World) -> None:
        key = SoftAuthenticator()
        _add(_verified(world.biller), "Laptop", key)
        client = _password_only("bill")
        assert _use(client, key).status_code == 200
        assert client.get("/patients/").status_code == 200
        with time_machine.travel(timezone.now() + timedelta(minutes=16), tick=True):
            assert client.get("/patients/")["Location"].startswith("/login/")
        # A code step left idle ends too: the passkey cannot finish it afterwards.
        idle = _password_only("bill")
        with time_machine.travel(timezone.now() + timedelta(minutes=16), tick=True):
            begin = _post_json(idle, "passkey-auth-begin")
            assert begin.status_code == 302 and begin["Location"].startswith("/login/")

    def test_it_is_only_the_code_step(self, world: World) -> None:
        key = SoftAuthenticator()
        client = _verified(world.biller)
        _add(client, "Laptop", key)
        begin = _post_json(client, "passkey-auth-begin")
        assert (begin.status_code, begin.json()["code"]) == (403, "not_at_code_step")
        anonymous = _post_json(Client(), "passkey-auth-begin")
        assert anonymous.status_code == 302 and anonymous["Location"].startswith("/login/")


class PasskeysOffTests:
    def test_without_a_relying_party_the_pages_say_so_and_the_endpoints_refuse(
        self, world: World
    ) -> None:
        key = SoftAuthenticator()
        _add(_verified(world.biller), "Laptop", key)
        with override_settings(OTP_WEBAUTHN_RP_ID="", PASSKEYS_OFF_REASON="no domain name"):
            client = _verified_again("bill")
            page = client.get(reverse("passkeys"))
            assert b'id="passkeys-off"' in page.content
            assert b'id="passkey-name-form"' not in page.content
            refused = client.post(reverse("passkeys"), {"name": "Phone"})
            assert refused.context["form"].errors == {
                "name": ["Passkeys are off on this server: no domain name."]
            }
            begin = _post_json(client, "passkey-register-begin")
            assert (begin.status_code, begin.json()["code"]) == (403, "passkeys_off")
            pending = _password_only("bill")
            verify = pending.get(reverse("two-factor-verify"))
            assert b"otp_webauthn" not in verify.content  # a code only
            begin = _post_json(pending, "passkey-auth-begin")
            assert (begin.status_code, begin.json()["code"]) == (403, "passkeys_off")


class ScriptTests:
    def test_the_scripts_and_their_messages_are_served_here(self, world: World) -> None:
        client = Client()  # open like the static files: the code step loads them
        messages = client.get(reverse("passkey-messages"))
        assert messages.status_code == 200 and b"gettext" in messages.content
        script = client.get("/static/django_otp_webauthn/otp_webauthn_auth.js")
        assert script.status_code == 200
        assert b"otp_webauthn_config" in b"".join(script.streaming_content)

    def test_a_refused_answer_is_one_warning_without_a_traceback(
        self, world: World, caplog: pytest.LogCaptureFixture
    ) -> None:
        key = SoftAuthenticator()
        _add(_verified(world.biller), "Laptop", key)
        client = _password_only("bill")
        with caplog.at_level(logging.INFO, logger="django_otp_webauthn"):
            _use(client, key, origin="https://evil.example")
        (record,) = [r for r in caplog.records if r.name == "django_otp_webauthn"]
        assert (record.levelname, record.exc_info) == ("WARNING", None)
        assert record.getMessage() == (
            'passkey refused: Unexpected client data origin "https://evil.example", '
            "expected one of ['http://localhost:8000']"
        )


def _verified_again(username: str) -> Client:
    client = Client()
    sign_in(client, username, steps_ahead=1)
    return client


class AdminTests:
    def test_the_staff_page_counts_passkeys_and_the_reset_removes_them(self, world: World) -> None:
        key = SoftAuthenticator()
        _add(_verified(world.biller), "Laptop", key)
        admin = _verified(world.admin)
        page = admin.get(reverse("clinic_admin:staff-edit", args=[world.biller.pk]))
        assert b'<span id="staff-passkeys">1 passkey</span>' in page.content
        assert staff_two_factor_reset(user=world.admin, staff=world.biller)
        assert not WebAuthnCredential.objects.exists()
        client = Client()
        client.post("/login/", {"username": "bill", "password": PASSWORD})
        assert client.get("/patients/")["Location"].startswith("/account/two-factor/?")

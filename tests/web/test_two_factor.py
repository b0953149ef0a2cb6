"""Two-factor sign-in (handrail.web.clinic.two_factor): enrolment with a TOTP app, the code
step after the password, recovery codes, the roles that must use it, an admin's reset, and
sessions that end when the factors change or the account is deactivated."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import timedelta
from io import StringIO
from typing import Any

import pytest
import time_machine
from django.core.management import CommandError, call_command
from django.test import Client, override_settings
from django.urls import reverse
from django.utils import timezone
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from handrail.web.audit.models import AuditEvent
from handrail.web.clinic.admin_services import staff_set_active, staff_two_factor_reset
from handrail.web.clinic.models import Role, User
from handrail.web.settings import ROLE_NAMES
from tests.web.conftest import PASSWORD, World, sign_in, totp_code, totp_device

ROLES = ["admin", "pt", "ota", "biller", "front_desk"]
REQUIRED = ["admin", "biller"]
OPTIONAL = ["pt", "ota", "front_desk"]
GIVE_CODE = (
    "Sign-in is not finished: give the code from your authenticator app at "
    "/account/two-factor/verify/ first."
)
SET_UP = "Your role must sign in with a second factor: set it up at /account/two-factor/ first."


def _password_only(username: str) -> Client:
    client = Client()
    response = client.post("/login/", {"username": username, "password": PASSWORD})
    assert response.status_code == 302, response.content
    return client


def _signed_in(client: Client) -> bool:
    return client.get("/patients/").status_code == 200


def _details(user: User) -> list[str]:
    events = AuditEvent.objects.filter(object_type="user", object_id=str(user.pk)).order_by("id")
    return [e.detail for e in events]


def _enrol(client: Client) -> tuple[Any, TOTPDevice]:
    page = client.get(reverse("two-factor"))
    assert page.status_code == 200
    device = TOTPDevice.objects.get(user_id=client.session["_auth_user_id"], confirmed=False)
    response = client.post(reverse("two-factor"), {"token": totp_code(device)})
    return response, device


class EnrolmentTests:
    @pytest.mark.parametrize("role", ROLES)
    def test_it_sets_up_an_authenticator_for_every_role(self, world: World, role: str) -> None:
        user: User = getattr(world, role)
        client = _password_only(user.username)
        page = client.get(reverse("two-factor")).content.decode()
        assert "<svg" in page and 'class="segno"' in page and "style=" not in page
        device = TOTPDevice.objects.get(user=user, confirmed=False)
        secret = page.split('id="totp-secret" class="secret">')[1].split("<")[0]
        assert len(secret) == 32  # 160-bit key (RFC 4226 section 4 recommends >= 128)
        # Reloading the page keeps the same secret until it is confirmed.
        client.get(reverse("two-factor"))
        assert TOTPDevice.objects.filter(user=user).count() == 1

        response = client.post(reverse("two-factor"), {"token": totp_code(device)})
        assert response.status_code == 200
        codes = response.context["codes"]
        assert len(codes) == 10 and len(set(codes)) == 10
        assert b'id="recovery-codes"' in response.content
        device.refresh_from_db()
        assert device.confirmed
        assert _signed_in(client)  # this session gave the code
        assert _details(user)[-1] == f"{user.username}: two-factor sign-in set up"
        # The codes are shown once: the page now only counts them.
        status = client.get(reverse("two-factor"))
        assert status.context["codes_left"] == 10 and b'id="recovery-codes"' not in status.content

        # From now on the password alone is not a sign-in.
        again = _password_only(user.username)
        assert again.get("/patients/")["Location"] == (
            "/account/two-factor/verify/?next=%2Fpatients%2F"
        )

    def test_a_wrong_code_confirms_nothing(self, world: World) -> None:
        client = _password_only("olivia")
        client.get(reverse("two-factor"))
        response = client.post(reverse("two-factor"), {"token": "000000"})
        assert response.status_code == 422
        assert response.context["form"].errors == {
            "token": ["That code does not match; type the 6 digits the app shows now."]
        }
        response = client.post(reverse("two-factor"), {"token": ""})
        assert response.context["form"].errors == {"token": ["This field is required."]}
        assert not TOTPDevice.objects.filter(user=world.ot, confirmed=True).exists()
        assert not StaticDevice.objects.filter(user=world.ot).exists()

    def test_it_ends_the_users_other_sessions(self, world: World) -> None:
        elsewhere = _password_only("olivia")
        here = _password_only("olivia")
        _enrol(here)
        assert _signed_in(here)
        assert elsewhere.get("/patients/")["Location"] == "/login/?next=/patients/"


class RequiredRoleTests:
    @pytest.mark.parametrize("role", REQUIRED)
    def test_admins_and_billers_must_set_it_up_first(self, world: World, role: str) -> None:
        user: User = getattr(world, role)
        client = _password_only(user.username)
        for path in ("/patients/", "/worklists/"):
            assert client.get(path)["Location"] == (
                f"/account/two-factor/?next={path.replace('/', '%2F')}"
            )
        api = client.get("/api/patients")
        assert (api.status_code, api.json()["detail"]) == (403, SET_UP)
        page = client.get("/account/two-factor/?next=/worklists/")
        assert b'id="two-factor-required"' in page.content
        device = TOTPDevice.objects.get(user=user, confirmed=False)
        done = client.post(
            reverse("two-factor"), {"token": totp_code(device), "next": "/worklists/"}
        )
        assert done.context["next"] == "/worklists/"
        assert client.get("/worklists/").status_code == 200
        assert client.get("/api/patients").status_code == 200

    @pytest.mark.parametrize("role", OPTIONAL)
    def test_other_roles_may_go_without(self, world: World, role: str) -> None:
        client = _password_only(getattr(world, role).username)
        assert _signed_in(client)
        assert client.get("/api/patients").status_code == 200
        page = client.get(reverse("two-factor"))
        assert b'id="two-factor-required"' not in page.content

    @override_settings(OTP_REQUIRED_ROLES=["therapist"])
    def test_the_required_roles_are_configurable(self, world: World) -> None:
        assert (
            _password_only("paula")
            .get("/patients/")["Location"]
            .startswith("/account/two-factor/")
        )
        assert _signed_in(_password_only("admin"))

    def test_the_settings_name_every_role_and_refuse_unknown_ones(self) -> None:
        assert set(ROLE_NAMES) == set(Role.values)
        env = {**os.environ, "SECRET_KEY": "x" * 50, "OTP_REQUIRED_ROLES": "admin,owner"}
        run = subprocess.run(
            [sys.executable, "-c", "import handrail.web.settings"],
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        assert run.returncode != 0
        assert "OTP_REQUIRED_ROLES: unknown role owner" in run.stderr
        env["OTP_REQUIRED_ROLES"] = "none"
        script = "import handrail.web.settings as s; print(s.OTP_REQUIRED_ROLES)"
        run = subprocess.run(
            [sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True
        )
        assert run.stdout.strip() == "[]"


class VerifyStepTests:
    @pytest.mark.parametrize("role", ROLES)
    def test_the_password_alone_is_not_a_sign_in(self, world: World, role: str) -> None:
        user: User = getattr(world, role)
        device = totp_device(user)
        client = _password_only(user.username)
        assert client.get("/patients/")["Location"] == (
            "/account/two-factor/verify/?next=%2Fpatients%2F"
        )
        assert client.post("/patients/new/", {})["Location"] == "/account/two-factor/verify/"
        api = client.get("/api/patients")
        assert (api.status_code, api.json()["detail"]) == (403, GIVE_CODE)
        # Not even the password page: a stolen password must not change the password.
        assert client.get(reverse("password-change"))["Location"].startswith(
            "/account/two-factor/verify/"
        )
        wrong = client.post(reverse("two-factor-verify"), {"token": "123456"})
        assert wrong.status_code == 422
        assert wrong.context["form"].errors == {
            "token": ["That code is not right; check the app and try again."]
        }
        with time_machine.travel(timezone.now() + timedelta(seconds=3), tick=True):
            response = client.post(
                reverse("two-factor-verify"),
                {"token": totp_code(device), "next": "/worklists/"},
            )
            assert response["Location"] == "/worklists/"
            assert _signed_in(client) and client.get("/api/patients").status_code == 200

    def test_a_code_is_accepted_once(self, world: World) -> None:
        device = totp_device(world.ot)
        first = _password_only("olivia")
        code = totp_code(device)
        assert first.post(reverse("two-factor-verify"), {"token": code}).status_code == 302
        second = _password_only("olivia")
        replay = second.post(reverse("two-factor-verify"), {"token": code})
        assert replay.status_code == 422 and not _signed_in(second)

    def test_guessing_is_slowed_down(self, world: World) -> None:
        device = totp_device(world.ot)
        client = _password_only("olivia")
        client.post(reverse("two-factor-verify"), {"token": "000000"})
        refused = client.post(reverse("two-factor-verify"), {"token": totp_code(device)})
        assert refused.context["form"].errors == {
            "token": ["Too many wrong codes; wait a few seconds and try again."]
        }
        assert not _signed_in(client)

    def test_a_recovery_code_works_once(self, world: World) -> None:
        client = _password_only("olivia")
        response, _device = _enrol(client)
        code = response.context["codes"][0]
        lost_phone = _password_only("olivia")
        used = lost_phone.post(reverse("two-factor-verify"), {"token": f" {code.upper()} "})
        assert used.status_code == 302 and _signed_in(lost_phone)
        assert _details(world.ot)[-1] == "olivia: signed in with a recovery code (9 left)"
        again = _password_only("olivia")
        assert again.post(reverse("two-factor-verify"), {"token": code}).status_code == 422

    def test_new_recovery_codes_replace_the_old(self, world: World) -> None:
        client = _password_only("olivia")
        response, _device = _enrol(client)
        old = response.context["codes"]
        fresh = client.post(reverse("two-factor-recovery"))
        assert len(fresh.context["codes"]) == 10 and not set(old) & set(fresh.context["codes"])
        assert StaticToken.objects.filter(device__user=world.ot).count() == 10
        assert _details(world.ot)[-1] == "olivia: new recovery codes made"
        stale = _password_only("olivia")
        assert stale.post(reverse("two-factor-verify"), {"token": old[1]}).status_code == 422

    def test_the_verify_page_is_a_no_op_once_verified(self, world: World) -> None:
        client = world.client_for(world.ot)
        assert client.get(reverse("two-factor-verify"))["Location"] == "/"

    @pytest.mark.parametrize("target", ["abc", "99999999999999999999", "home", "//evil.example"])
    def test_it_goes_home_for_a_next_that_is_not_a_path(self, world: World, target: str) -> None:
        """A bare word was taken by redirect() for a URL name: NoReverseMatch, a 500."""
        client = world.client_for(world.ot)
        for response in (
            client.get(reverse("two-factor-verify"), {"next": target}),
            client.post(reverse("two-factor-verify"), {"next": target}),
        ):
            assert (response.status_code, response["Location"]) == (302, "/")

    def test_it_signs_in_to_a_next_that_is_not_a_path_by_going_home(self, world: World) -> None:
        device = totp_device(world.ot)
        client = _password_only("olivia")
        response = client.post(
            reverse("two-factor-verify"), {"token": totp_code(device), "next": "worklists"}
        )
        assert (response.status_code, response["Location"]) == (302, "/")
        assert _signed_in(client)


class AdminResetTests:
    def test_an_admin_resets_a_lost_factor(self, world: World) -> None:
        totp_device(world.biller)
        biller = Client()
        sign_in(biller, "bill")
        assert _signed_in(biller)
        admin = world.client_for(world.admin)
        page = admin.get(reverse("clinic_admin:staff-edit", args=[world.biller.pk]))
        assert b'id="two-factor-reset"' in page.content
        url = reverse("clinic_admin:staff-two-factor-reset", args=[world.biller.pk])
        assert admin.post(url)["Location"] == f"/clinic/staff/{world.biller.pk}/"
        assert not TOTPDevice.objects.filter(user=world.biller).exists()
        assert _details(world.biller)[-1] == "bill: two-factor sign-in reset by an admin"
        assert biller.get("/patients/")["Location"] == "/login/?next=/patients/"
        # A biller must use it: the next sign-in sets it up again.
        again = _password_only("bill")
        assert again.get("/patients/")["Location"].startswith("/account/two-factor/?next=")

    def test_only_admins_of_the_same_clinic_reset(self, world: World) -> None:
        totp_device(world.ot)
        url = reverse("clinic_admin:staff-two-factor-reset", args=[world.ot.pk])
        for role in ("pt", "ota", "biller", "front_desk"):
            assert world.client_for(getattr(world, role)).post(url).status_code == 403
        totp_device(world.outsider)
        other = reverse("clinic_admin:staff-two-factor-reset", args=[world.outsider.pk])
        assert world.client_for(world.admin).post(other).status_code == 404
        totp_device(world.admin)
        with pytest.raises(Exception, match="Another admin resets your own"):
            staff_two_factor_reset(user=world.admin, staff=world.admin)
        assert TOTPDevice.objects.count() == 3

    def test_nothing_to_reset_says_so(self, world: World) -> None:
        assert not staff_two_factor_reset(user=world.admin, staff=world.ot)
        assert _details(world.ot) == []


class DeactivationTests:
    def test_it_ends_the_users_sessions_for_good(self, world: World) -> None:
        client = _password_only("olivia")
        assert _signed_in(client)
        staff_set_active(user=world.admin, staff=world.ot, active=False)
        assert client.get("/patients/")["Location"] == "/login/?next=/patients/"
        staff_set_active(user=world.admin, staff=world.ot, active=True)
        assert client.get("/patients/")["Location"] == "/login/?next=/patients/"
        assert _signed_in(_password_only("olivia"))


class DemoTotpTests:
    def test_it_prints_the_code_a_demo_user_types(self, world: World) -> None:
        from handrail.web.clinic.management.commands.load_demo import DEMO_CLINIC, DEMO_PASSWORD
        from handrail.web.clinic.services import clinic_create, user_create

        demo = clinic_create(name=DEMO_CLINIC, zip="62701")
        user_create(clinic=demo, username="demoadmin", password=DEMO_PASSWORD, role="admin")
        with pytest.raises(CommandError, match="no authenticator yet"):
            call_command("demo_totp", "demoadmin", stdout=StringIO())
        client = Client()
        client.post("/login/", {"username": "demoadmin", "password": DEMO_PASSWORD})
        assert client.get("/patients/")["Location"].startswith("/account/two-factor/")
        client.get(reverse("two-factor"))  # the set-up page makes the authenticator
        out = StringIO()
        call_command("demo_totp", "demoadmin", stdout=out)
        code = out.getvalue().split()[0]
        assert len(code) == 6 and "more seconds" in out.getvalue()
        client.post(reverse("two-factor"), {"token": code})
        assert _signed_in(client)

    def test_it_refuses_users_of_a_real_clinic(self, world: World) -> None:
        totp_device(world.admin)
        with pytest.raises(CommandError, match="is not a user of the demo clinic"):
            call_command("demo_totp", "admin", stdout=StringIO())
        with pytest.raises(CommandError, match="No user named 'nobody'"):
            call_command("demo_totp", "nobody", stdout=StringIO())

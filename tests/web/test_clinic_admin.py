"""Clinic admin pages: staff accounts and payers, through the pages a clinic admin uses."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.messages import get_messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client, override_settings
from django.urls import reverse

from handrail.web.audit.models import AuditEvent
from handrail.web.care.models import Authorization
from handrail.web.clinic.admin_services import npi_is_valid, staff_create, staff_update
from handrail.web.clinic.models import Payer, User
from handrail.web.clinic.services import payer_create, user_create
from handrail.web.visits.services import visit_create
from tests.web.conftest import PASSWORD, World

STAFF_PAGES = [
    "clinic_admin:staff-list",
    "clinic_admin:staff-create",
    "clinic_admin:payer-list",
    "clinic_admin:payer-create",
]
NEW_PASSWORD = "lilac-ferry-orbit-41"


def _messages(response: Any) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def _staff_data(**overrides: str) -> dict[str, str]:
    data = {
        "username": "nina",
        "first_name": "Nina",
        "last_name": "Newhire",
        "email": "nina@example.org",
        "role": "assistant",
        "discipline": "PT",
        "npi": "",
        "password": NEW_PASSWORD,
        "password_confirm": NEW_PASSWORD,
    }
    return {**data, **overrides}


def _edit_data(user: User, **overrides: str) -> dict[str, str]:
    data = {
        "first_name": user.first_name,
        "last_name": user.last_name,
        "email": user.email,
        "role": user.role,
        "discipline": user.discipline,
        "npi": user.npi,
    }
    return {**data, **overrides}


def _payer_data(**overrides: str) -> dict[str, str]:
    data = {
        "name": "Prairie Health Plan",
        "type": "commercial",
        "unit_rule": "per-code",
        "distinct_modifier": "XU",
        "requires_authorization": "on",
        "telehealth_allowed": "on",
    }
    return {**data, **overrides}


def _events(object_type: str) -> list[tuple[str, str, str]]:
    events = AuditEvent.objects.filter(object_type=object_type, patient=None).order_by("id")
    return [(e.user.username, e.action, e.detail) for e in events]


class AdminAccessTests:
    def test_it_refuses_every_other_role_with_403(self, world: World) -> None:
        urls = [reverse(name) for name in STAFF_PAGES] + [
            reverse("clinic_admin:staff-edit", args=[world.ot.pk]),
            reverse("clinic_admin:payer-edit", args=[world.medicare.pk]),
        ]
        for user in (world.pt, world.ota, world.biller, world.front_desk):
            client = world.client_for(user)
            for url in urls:
                assert (user.username, url, client.get(url).status_code) == (
                    user.username,
                    url,
                    403,
                )
            posts = [
                reverse("clinic_admin:staff-create"),
                reverse("clinic_admin:staff-active", args=[world.ot.pk]),
                reverse("clinic_admin:payer-delete", args=[world.commercial.pk]),
            ]
            for url in posts:
                assert client.post(url, {"active": "0"}).status_code == 403
        world.ot.refresh_from_db()
        assert world.ot.is_active is True
        assert Payer.objects.filter(pk=world.commercial.pk).exists()

    def test_it_shows_every_page_to_the_admin(self, world: World) -> None:
        client = world.client_for(world.admin)
        urls = [reverse(name) for name in STAFF_PAGES] + [
            reverse("clinic_admin:staff-edit", args=[world.ot.pk]),
            reverse("clinic_admin:payer-edit", args=[world.medicare.pk]),
        ]
        for url in urls:
            response = client.get(url)
            assert (url, response.status_code) == (url, 200)
            assert "style=" not in response.content.decode()
        page = client.get(reverse("clinic_admin:staff-create")).content.decode()
        assert 'name="password_confirm"' in page and 'autocomplete="new-password"' in page

    def test_it_hides_another_clinics_users_and_payers_with_404(self, world: World) -> None:
        other_admin = user_create(
            clinic=world.other_clinic, username="hilda", password=PASSWORD, role="admin"
        )
        client = world.client_for(other_admin)
        assert (
            client.get(reverse("clinic_admin:staff-edit", args=[world.ot.pk])).status_code == 404
        )
        url = reverse("clinic_admin:staff-active", args=[world.ot.pk])
        assert client.post(url, {"active": "0"}).status_code == 404
        url = reverse("clinic_admin:payer-edit", args=[world.medicare.pk])
        assert client.get(url).status_code == 404
        url = reverse("clinic_admin:payer-delete", args=[world.commercial.pk])
        assert client.post(url).status_code == 404
        page = client.get(reverse("clinic_admin:staff-list")).content.decode()
        assert "hilda" in page and "olivia" not in page and "otto" in page

    def test_it_links_the_admin_pages_for_admins_only(self, world: World) -> None:
        page = world.client_for(world.admin).get(reverse("patient-list")).content.decode()
        assert 'href="/clinic/staff/"' in page and 'href="/clinic/payers/"' in page
        page = world.client_for(world.ot).get(reverse("patient-list")).content.decode()
        assert "/clinic/staff/" not in page and "/clinic/payers/" not in page


class StaffListTests:
    def test_it_lists_the_clinics_users_only(self, world: World) -> None:
        response = world.client_for(world.admin).get(reverse("clinic_admin:staff-list"))
        usernames = [user.username for user in response.context["staff"]]
        assert usernames == ["admin", "bill", "fran", "olivia", "oscar", "paula"]
        page = response.content.decode()
        assert 'id="user-oscar"' in page and "otto" not in page
        assert "Therapy assistant" in page


class StaffCreateTests:
    def test_it_adds_a_user_who_can_sign_in(self, world: World) -> None:
        client = world.client_for(world.admin)
        response = client.post(reverse("clinic_admin:staff-create"), _staff_data(npi="1234567893"))
        assert (response.status_code, response["Location"]) == (302, "/clinic/staff/")
        assert _messages(response) == ["Added nina (PTA)."]
        nina = User.objects.get(username="nina")
        assert (nina.clinic, nina.role, nina.discipline, nina.npi, nina.email) == (
            world.clinic,
            "assistant",
            "PT",
            "1234567893",
            "nina@example.org",
        )
        assert str(nina) == "Nina Newhire, PTA"
        assert _events("user") == [
            ("admin", "create", "added user nina as Therapy assistant (PT)")
        ]
        nina_client = Client()
        login = nina_client.post("/login/", {"username": "nina", "password": NEW_PASSWORD})
        assert (login.status_code, login["Location"]) == (302, "/patients/")
        # The admin chose that password: Nina replaces it before anything else.
        assert nina.must_change_password
        response = nina_client.get("/patients/")
        assert response["Location"] == "/account/password/?next=%2Fpatients%2F"

    def test_it_hashes_the_initial_password_with_argon2(self, world: World) -> None:
        from handrail.web import settings as production

        with override_settings(PASSWORD_HASHERS=production.PASSWORD_HASHERS):
            world.client_for(world.admin).post(reverse("clinic_admin:staff-create"), _staff_data())
            nina = User.objects.get(username="nina")
            assert nina.password.startswith("argon2$argon2id$")
            assert nina.check_password(NEW_PASSWORD)

    @pytest.mark.parametrize(
        ("overrides", "errors"),
        [
            (
                {"password": "password", "password_confirm": "password"},
                {
                    "password": [
                        "This password is too short. It must contain at least 12 characters.",
                        "This password is too common.",
                    ]
                },
            ),
            (
                {"first_name": "", "password": "12345678901234", "password_confirm": "x"},
                {
                    "first_name": ["This field is required."],
                    "password": ["This password is entirely numeric."],
                    "password_confirm": ["The two passwords differ."],
                },
            ),
            (
                {"password": "ninanewhire1", "password_confirm": "ninanewhire1"},
                {
                    "password": [
                        "The password is too similar to the last name.",
                        "The password contains the username; choose one without it.",
                    ]
                },
            ),
            (
                {"password_confirm": "something-else-entirely"},
                {"password_confirm": ["The two passwords differ."]},
            ),
            (
                {"role": "therapist", "discipline": ""},
                {"discipline": ["Therapists and assistants need a discipline."]},
            ),
            (
                {"role": "biller", "discipline": "OT"},
                {"discipline": ["Only therapists and assistants have a discipline."]},
            ),
            ({"username": "olivia"}, {"username": ["A user with that username already exists."]}),
            (
                {"username": "nina newhire"},
                {
                    "username": [
                        "Enter a valid username. This value may contain only letters, numbers, "
                        "and @/./+/-/_ characters."
                    ]
                },
            ),
            ({"npi": "1234567890"}, {"npi": ["This NPI fails its check digit; look for a typo."]}),
            (
                {"npi": "12345"},
                {"npi": ["An NPI is 10 digits (leave it empty if there is none)."]},
            ),
            (
                {"role": "owner"},
                {"role": ["Select a valid choice. owner is not one of the available choices."]},
            ),
            ({"email": "not-an-address"}, {"email": ["Enter a valid email address."]}),
        ],
    )
    def test_it_names_the_field_and_saves_nothing(
        self, world: World, overrides: dict[str, str], errors: dict[str, list[str]]
    ) -> None:
        client = world.client_for(world.admin)
        response = client.post(reverse("clinic_admin:staff-create"), _staff_data(**overrides))
        assert response.status_code == 422
        assert response.context["form"].errors == errors
        for messages in errors.values():
            assert messages[0].replace("'", "&#x27;") in response.content.decode()
        assert not User.objects.filter(username__in=["nina", "nina newhire"]).exists()
        assert User.objects.filter(clinic=world.clinic).count() == 6
        assert _events("user") == []

    def test_it_checks_the_password_in_the_service_too(self, world: World) -> None:
        with pytest.raises(ValidationError) as caught:
            staff_create(user=world.admin, username="nina", password="short", role="biller")
        assert caught.value.message_dict == {
            "password": ["This password is too short. It must contain at least 12 characters."]
        }
        with pytest.raises(PermissionDenied):
            staff_create(user=world.pt, username="nina", password=NEW_PASSWORD, role="biller")
        assert not User.objects.filter(username="nina").exists()


class StaffUpdateTests:
    def test_it_changes_a_role_and_discipline(self, world: World) -> None:
        client = world.client_for(world.admin)
        url = reverse("clinic_admin:staff-edit", args=[world.biller.pk])
        response = client.post(url, _edit_data(world.biller, role="therapist", discipline="SLP"))
        assert (response.status_code, response["Location"]) == (302, "/clinic/staff/")
        world.biller.refresh_from_db()
        assert (world.biller.role, world.biller.discipline, world.biller.credential) == (
            "therapist",
            "SLP",
            "SLP",
        )
        assert _events("user") == [("admin", "update", "bill: changed role, discipline")]
        page = client.get(url).content.decode()
        assert "bill: changed role, discipline" in page  # the account's history

    def test_it_shows_a_missing_discipline_next_to_the_field(self, world: World) -> None:
        client = world.client_for(world.admin)
        url = reverse("clinic_admin:staff-edit", args=[world.biller.pk])
        response = client.post(url, _edit_data(world.biller, role="assistant"))
        assert response.status_code == 422
        assert response.context["form"].errors == {
            "discipline": ["Therapists and assistants need a discipline."]
        }
        world.biller.refresh_from_db()
        assert (world.biller.role, world.biller.discipline) == ("biller", "")

    def test_it_refuses_an_admin_changing_their_own_role(self, world: World) -> None:
        client = world.client_for(world.admin)
        url = reverse("clinic_admin:staff-edit", args=[world.admin.pk])
        response = client.post(url, _edit_data(world.admin, role="biller"))
        assert response.context["form"].errors == {
            "role": ["You cannot change your own role; ask another admin."]
        }
        world.admin.refresh_from_db()
        assert world.admin.role == "admin"

    def test_it_keeps_the_credential_of_a_clinician_who_has_notes(self, world: World) -> None:
        visit_create(user=world.ota, case=world.ot_case, date=world.today)
        client = world.client_for(world.admin)
        url = reverse("clinic_admin:staff-edit", args=[world.ota.pk])
        response = client.post(url, _edit_data(world.ota, role="therapist"))
        assert response.context["form"].errors == {
            "role": [
                "Oscar Test, OTA has signed or written notes or plans with this credential; "
                "add a new account for the new role or discipline and deactivate this one."
            ]
        }
        world.ota.refresh_from_db()
        assert world.ota.role == "assistant"
        # Names and e-mail still change.
        response = client.post(url, _edit_data(world.ota, last_name="Renamed"))
        assert response.status_code == 302
        world.ota.refresh_from_db()
        assert str(world.ota) == "Oscar Renamed, OTA"

    def test_it_refuses_an_admin_who_lost_the_role_meanwhile(self, world: World) -> None:
        """Two admins demoting each other at once: the second finds they are no admin."""
        second = user_create(clinic=world.clinic, username="ada", password=PASSWORD, role="admin")
        stale_second = User.objects.get(pk=second.pk)
        staff_update(user=world.admin, staff=second, role="biller")
        with pytest.raises(PermissionDenied):
            staff_update(user=stale_second, staff=world.admin, role="biller")
        world.admin.refresh_from_db()
        assert world.admin.role == "admin"


class StaffActiveTests:
    def test_it_deactivates_and_ends_the_sessions_of_a_user(self, world: World) -> None:
        ot_client = world.client_for(world.ot)
        assert ot_client.get(reverse("patient-list")).status_code == 200
        client = world.client_for(world.admin)
        url = reverse("clinic_admin:staff-active", args=[world.ot.pk])
        response = client.post(url, {"active": "0"})
        assert _messages(response) == ["Deactivated; they can no longer sign in: olivia."]
        world.ot.refresh_from_db()
        assert world.ot.is_active is False
        response = ot_client.get(reverse("patient-list"))
        assert (response.status_code, response["Location"]) == (302, "/login/?next=/patients/")
        login = Client().post("/login/", {"username": "olivia", "password": PASSWORD})
        assert login.status_code == 200  # the form again, not a redirect
        page = client.get(reverse("clinic_admin:staff-list")).content.decode()
        assert "Deactivated</span>" in page and "Reactivate" in page
        client.post(url, {"active": "1"})
        world.ot.refresh_from_db()
        assert world.ot.is_active is True
        assert _events("user") == [
            ("admin", "update", "olivia: deactivated"),
            ("admin", "update", "olivia: reactivated"),
        ]

    def test_it_refuses_deactivating_yourself(self, world: World) -> None:
        client = world.client_for(world.admin)
        url = reverse("clinic_admin:staff-active", args=[world.admin.pk])
        response = client.post(url, {"active": "0"})
        assert _messages(response) == ["You cannot deactivate your own account."]
        world.admin.refresh_from_db()
        assert world.admin.is_active is True
        assert _events("user") == []

    def test_it_lets_one_admin_deactivate_another_but_not_the_last(self, world: World) -> None:
        second = user_create(clinic=world.clinic, username="ada", password=PASSWORD, role="admin")
        client = world.client_for(world.admin)
        client.post(reverse("clinic_admin:staff-active", args=[second.pk]), {"active": "0"})
        second.refresh_from_db()
        assert second.is_active is False
        # The deactivated admin's old session is gone; their stale page cannot act.
        stale = world.client_for(second)
        response = stale.post(
            reverse("clinic_admin:staff-active", args=[world.admin.pk]), {"active": "0"}
        )
        assert response.status_code == 302 and response["Location"].startswith("/login/")
        world.admin.refresh_from_db()
        assert world.admin.is_active is True


class PayerTests:
    def test_it_lists_payers_with_their_use(self, world: World) -> None:
        response = world.client_for(world.admin).get(reverse("clinic_admin:payer-list"))
        rows = [
            (p.name, p.coverage_count, p.authorization_count) for p in response.context["payers"]
        ]
        assert rows == [("Acme Health", 0, 0), ("Medicare Part B", 1, 0)]
        page = response.content.decode()
        assert "Each code on its own (8 minutes per code)" in page and "1 coverage" in page

    def test_it_adds_a_payer(self, world: World) -> None:
        client = world.client_for(world.admin)
        response = client.post(reverse("clinic_admin:payer-create"), _payer_data())
        assert (response.status_code, response["Location"]) == (302, "/clinic/payers/")
        payer = Payer.objects.get(name="Prairie Health Plan")
        assert (
            payer.clinic,
            payer.type,
            payer.unit_rule,
            payer.distinct_modifier,
            payer.requires_authorization,
            payer.telehealth_allowed,
            payer.assistant_cosign_required,
        ) == (world.clinic, "commercial", "per-code", "XU", True, True, False)
        assert _events("payer") == [("admin", "create", "Prairie Health Plan")]

    @pytest.mark.parametrize(
        ("overrides", "errors"),
        [
            ({"name": ""}, {"name": ["This field is required."]}),
            (
                {"name": "medicare part b"},
                {"name": ["Your clinic already has a payer named medicare part b."]},
            ),
            (
                {"type": "hmo"},
                {"type": ["Select a valid choice. hmo is not one of the available choices."]},
            ),
            (
                {"unit_rule": "7-minute"},
                {
                    "unit_rule": [
                        "Select a valid choice. 7-minute is not one of the available choices."
                    ]
                },
            ),
            (
                {"distinct_modifier": "XX"},
                {
                    "distinct_modifier": [
                        "Select a valid choice. XX is not one of the available choices."
                    ]
                },
            ),
        ],
    )
    def test_it_names_the_field_and_saves_nothing(
        self, world: World, overrides: dict[str, str], errors: dict[str, list[str]]
    ) -> None:
        client = world.client_for(world.admin)
        response = client.post(reverse("clinic_admin:payer-create"), _payer_data(**overrides))
        assert response.status_code == 422
        assert response.context["form"].errors == errors
        assert Payer.objects.filter(clinic=world.clinic).count() == 2
        assert _events("payer") == []

    def test_it_edits_a_payers_rules(self, world: World) -> None:
        client = world.client_for(world.admin)
        url = reverse("clinic_admin:payer-edit", args=[world.medicare.pk])
        data = _payer_data(name="Medicare Part B", type="medicare", distinct_modifier="XE")
        data["assistant_cosign_required"] = "on"
        response = client.post(url, data)
        assert response.status_code == 302
        world.medicare.refresh_from_db()
        assert (
            world.medicare.unit_rule,
            world.medicare.distinct_modifier,
            world.medicare.requires_authorization,
        ) == ("per-code", "XE", True)
        assert _events("payer") == [
            (
                "admin",
                "update",
                "Medicare Part B: changed unit_rule, distinct_modifier, requires_authorization",
            )
        ]

    def test_it_refuses_renaming_to_another_payers_name(self, world: World) -> None:
        client = world.client_for(world.admin)
        url = reverse("clinic_admin:payer-edit", args=[world.commercial.pk])
        response = client.post(url, _payer_data(name="Medicare Part B"))
        assert response.status_code == 422
        assert response.context["form"].errors == {
            "name": ["Your clinic already has a payer named Medicare Part B."]
        }
        world.commercial.refresh_from_db()
        assert world.commercial.name == "Acme Health"

    def test_it_refuses_deleting_a_payer_in_use(self, world: World) -> None:
        Authorization.objects.create(
            case=world.ot_case,
            payer=world.medicare,
            number="A-1",
            visits_authorized=10,
            start_date=world.today,
            end_date=world.today,
        )
        client = world.client_for(world.admin)
        response = client.post(reverse("clinic_admin:payer-delete", args=[world.medicare.pk]))
        assert response["Location"] == reverse("clinic_admin:payer-edit", args=[world.medicare.pk])
        assert _messages(response) == [
            "Medicare Part B cannot be deleted: 1 patient coverage and 1 authorization refer "
            "to it. Move those patients to another payer first."
        ]
        assert Payer.objects.filter(pk=world.medicare.pk).exists()
        assert _events("payer") == []

    def test_it_deletes_an_unused_payer(self, world: World) -> None:
        client = world.client_for(world.admin)
        response = client.post(reverse("clinic_admin:payer-delete", args=[world.commercial.pk]))
        assert (response["Location"], _messages(response)) == (
            "/clinic/payers/",
            ["Deleted Acme Health."],
        )
        assert not Payer.objects.filter(pk=world.commercial.pk).exists()
        assert _events("payer") == [("admin", "delete", "Acme Health")]

    def test_it_keeps_payers_of_other_clinics_apart(self, world: World) -> None:
        payer_create(clinic=world.other_clinic, name="Acme Health", type="commercial")
        response = world.client_for(world.admin).get(reverse("clinic_admin:payer-list"))
        assert [p.name for p in response.context["payers"]] == ["Acme Health", "Medicare Part B"]


class NpiTests:
    @pytest.mark.parametrize(
        ("npi", "valid"),
        [
            ("1234567893", True),  # CMS's worked example
            ("1234567890", False),
            ("123456789", False),
            ("12345678a3", False),
        ],
    )
    def test_it_checks_the_luhn_digit(self, npi: str, valid: bool) -> None:
        assert npi_is_valid(npi) is valid

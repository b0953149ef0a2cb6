"""Sign-in throttling (handrail.web.clinic.throttle): counted before the password is
checked, per account and per client address, with the address taken through trusted
proxies only. The parallel tests need PostgreSQL (threads with their own connections)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.db import connection
from django.http import HttpResponse
from django.test import Client, RequestFactory, override_settings
from django.urls import reverse
from django.utils import timezone

from handrail.web.audit.models import AuditEvent
from handrail.web.clinic.models import SignInCounter, SignInScope
from handrail.web.clinic.throttle import client_address, sign_in_counters_prune
from handrail.web.settings import _networks
from tests.web.conftest import PASSWORD, World

PROXY = "10.0.0.2"
PROXIES = _networks(["10.0.0.0/24"])


def _login(
    username: str, password: str, *, remote: str = "127.0.0.1", forwarded: str = ""
) -> tuple[Client, HttpResponse]:
    client = Client(REMOTE_ADDR=remote)
    extra = {"HTTP_X_FORWARDED_FOR": forwarded} if forwarded else {}
    response = client.post("/login/", {"username": username, "password": password}, **extra)
    return client, response


def _signed_in(client: Client) -> bool:
    return "_auth_user_id" in client.session


class ClientAddressTests:
    def _address(self, remote: str, forwarded: str | None = None) -> str:
        extra = {"HTTP_X_FORWARDED_FOR": forwarded} if forwarded is not None else {}
        return client_address(RequestFactory().get("/", REMOTE_ADDR=remote, **extra))

    def test_it_uses_the_peer_address_when_no_proxy_is_trusted(self) -> None:
        assert self._address("203.0.113.7", "198.51.100.1") == "203.0.113.7"

    @override_settings(TRUSTED_PROXY_NETWORKS=PROXIES)
    def test_it_takes_the_right_most_untrusted_forwarded_entry(self) -> None:
        # The client wrote the first two entries itself: only the one our proxy appended counts.
        forwarded = "1.1.1.1, 198.51.100.1, 203.0.113.7"
        assert self._address(PROXY, forwarded) == "203.0.113.7"
        assert self._address(PROXY, "203.0.113.7, 10.0.0.9") == "203.0.113.7"

    @override_settings(TRUSTED_PROXY_NETWORKS=PROXIES)
    def test_it_ignores_forwarded_headers_from_untrusted_peers(self) -> None:
        assert self._address("203.0.113.7", "10.0.0.5") == "203.0.113.7"

    @override_settings(TRUSTED_PROXY_NETWORKS=PROXIES)
    def test_it_falls_back_to_the_proxy_or_the_furthest_hop(self) -> None:
        assert self._address(PROXY) == PROXY
        assert self._address(PROXY, "10.0.0.7, 10.0.0.3") == "10.0.0.7"


class ThrottleTests:
    @pytest.fixture(autouse=True)
    def _limits(self, settings: Any) -> None:
        settings.LOGIN_FAILURE_LIMIT = 3
        settings.LOGIN_LOCKOUT_MINUTES = 15

    def test_it_locks_the_account_at_the_limit_and_says_until_when(self, world: World) -> None:
        for _ in range(3):
            _client, response = _login("olivia", "wrong password here")
            assert response.status_code == 200
            assert "Please enter a correct username and password" in response.content.decode()
        client, response = _login("olivia", PASSWORD)
        until = timezone.now() + timedelta(minutes=15)
        assert response.status_code == 429
        assert 14 * 60 <= int(response["Retry-After"]) <= 15 * 60
        page = response.content.decode()
        assert "Too many failed sign-ins for this account" in page
        assert f"paused until {until:%H:%M} UTC" in page
        assert not _signed_in(client)

    def test_it_counts_usernames_without_regard_to_case(self, world: World) -> None:
        for name in ("olivia", "OLIVIA", "Olivia"):
            _login(name, "wrong password here")
        assert _login("olivia", PASSWORD)[1].status_code == 429

    def test_it_lets_the_account_in_again_when_the_lock_ends(self, world: World) -> None:
        for _ in range(3):
            _login("olivia", "wrong password here")
        with time_machine.travel(timezone.now() + timedelta(minutes=16), tick=False):
            client, response = _login("olivia", PASSWORD)
            assert (response.status_code, _signed_in(client)) == (302, True)

    def test_it_clears_the_account_on_success(self, world: World) -> None:
        for _ in range(2):
            _login("olivia", "wrong password here")
        client, response = _login("olivia", PASSWORD)
        assert _signed_in(client)
        row = SignInCounter.objects.get(scope=SignInScope.ACCOUNT, key="olivia")
        assert (row.failures, row.locked_until) == (0, None)
        for _ in range(2):
            _login("olivia", "wrong password here")
        assert _signed_in(_login("olivia", PASSWORD)[0])

    def test_it_counts_unknown_usernames_like_real_ones(self, world: World) -> None:
        statuses = [_login("nobody-here", "wrong password here")[1].status_code for _ in range(4)]
        assert statuses == [200, 200, 200, 429]
        row = SignInCounter.objects.get(scope=SignInScope.ACCOUNT, key="nobody-here")
        assert (row.failures, row.locked_until is not None) == (3, True)

    def test_it_does_not_count_a_form_missing_its_password(self, world: World) -> None:
        response = Client().post("/login/", {"username": "olivia", "password": ""})
        assert response.status_code == 200
        assert not SignInCounter.objects.exists()

    @override_settings(LOGIN_ADDRESS_FAILURE_LIMIT=5)
    def test_it_locks_an_address_that_sprays_many_accounts(self, world: World) -> None:
        for name in ("olivia", "paula", "oscar", "bill", "fran"):
            _login(name, "wrong password here", remote="203.0.113.7")
        client, response = _login("admin", PASSWORD, remote="203.0.113.7")
        assert response.status_code == 429
        assert "for your network address" in response.content.decode()
        assert not _signed_in(client)
        # Another address, and the accounts themselves (one failure each), are not locked.
        assert _signed_in(_login("admin", PASSWORD, remote="198.51.100.9")[0])
        assert _signed_in(_login("olivia", PASSWORD, remote="198.51.100.9")[0])

    @override_settings(LOGIN_ADDRESS_FAILURE_LIMIT=5)
    def test_it_gives_the_address_back_each_successful_sign_in(self, world: World) -> None:
        for _ in range(12):
            assert _signed_in(_login("olivia", PASSWORD, remote="203.0.113.7")[0])
        row = SignInCounter.objects.get(scope=SignInScope.ADDRESS, key="203.0.113.7")
        assert row.failures == 0

    @override_settings(TRUSTED_PROXY_NETWORKS=PROXIES, LOGIN_ADDRESS_FAILURE_LIMIT=5)
    def test_it_counts_clients_behind_a_trusted_proxy_each_on_its_own(self, world: World) -> None:
        for name in ("olivia", "paula", "oscar", "bill", "fran"):
            _login(name, "wrong password here", remote=PROXY, forwarded="203.0.113.7")
        locked = _login("admin", PASSWORD, remote=PROXY, forwarded="203.0.113.7")[1]
        assert locked.status_code == 429
        # A colleague behind the same proxy is its own client.
        assert _signed_in(_login("admin", PASSWORD, remote=PROXY, forwarded="198.51.100.9")[0])
        assert not SignInCounter.objects.filter(key=PROXY).exists()

    @override_settings(LOGIN_ADDRESS_FAILURE_LIMIT=5)
    def test_it_does_not_believe_a_forwarded_header_from_an_untrusted_peer(
        self, world: World
    ) -> None:
        for index, name in enumerate(("olivia", "paula", "oscar", "bill", "fran")):
            _login(name, "wrong password here", remote="203.0.113.7", forwarded=f"192.0.2.{index}")
        assert _login("admin", PASSWORD, remote="203.0.113.7")[1].status_code == 429

    def test_it_lets_an_admin_lift_a_lock_with_an_audit_event(self, world: World) -> None:
        for _ in range(3):
            _login("olivia", "wrong password here")
        admin = world.client_for(world.admin)
        page = admin.get(reverse("clinic_admin:staff-edit", args=[world.ot.pk]))
        assert 'id="signin-lock"' in page.content.decode()
        response = admin.post(reverse("clinic_admin:staff-unlock", args=[world.ot.pk]))
        assert response.status_code == 302
        event = AuditEvent.objects.filter(object_type="user", object_id=str(world.ot.pk)).latest(
            "id"
        )
        assert (event.user, event.detail) == (world.admin, "olivia: sign-in lock lifted")
        assert _signed_in(_login("olivia", PASSWORD)[0])
        page = admin.get(reverse("clinic_admin:staff-edit", args=[world.ot.pk]))
        assert 'id="signin-lock"' not in page.content.decode()

    def test_it_refuses_the_unlock_to_other_roles(self, world: World) -> None:
        for _ in range(3):
            _login("olivia", "wrong password here")
        response = world.client_for(world.pt).post(
            reverse("clinic_admin:staff-unlock", args=[world.ot.pk])
        )
        assert response.status_code == 403
        assert _login("olivia", PASSWORD)[1].status_code == 429

    def test_it_prunes_only_counters_whose_window_and_lock_passed(self, world: World) -> None:
        for _ in range(3):
            _login("olivia", "wrong password here")
        _login("paula", "wrong password here")
        assert sign_in_counters_prune() == 0
        with time_machine.travel(timezone.now() + timedelta(minutes=16), tick=False):
            assert sign_in_counters_prune() == 3  # olivia, paula and the address
        assert not SignInCounter.objects.exists()


def _burst(calls: list[Callable[[], Any]]) -> list[Any]:
    """Run every call on its own thread (its own database connection), released together."""
    results: list[Any] = [None] * len(calls)
    barrier = threading.Barrier(len(calls))

    def work(index: int, call: Callable[[], Any]) -> None:
        try:
            barrier.wait()
            results[index] = call()
        except Exception as exc:  # the test asserts what each call answered
            results[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=work, args=item) for item in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads), "a sign-in thread hung"
    return results


@pytest.mark.django_db(transaction=True)
class ParallelThrottleTests:
    @pytest.fixture(autouse=True)
    def _postgresql_only(self, settings: Any) -> None:
        settings.LOGIN_FAILURE_LIMIT = 5
        settings.TRUSTED_PROXY_NETWORKS = PROXIES
        if connection.vendor != "postgresql":
            pytest.skip(
                "parallel sign-ins need PostgreSQL: set HANDRAIL_TEST_DATABASE_URL; SQLite's "
                "in-memory test database is one connection, so threads cannot race"
            )

    def _wrong(self) -> int:
        return _login("olivia", "wrong password here", remote=PROXY, forwarded="203.0.113.7")[
            1
        ].status_code

    def test_it_locks_after_30_parallel_wrong_passwords(self, world: World) -> None:
        statuses = _burst([self._wrong] * 30)
        # Only the limit's worth of passwords was checked; the rest were refused unchecked.
        assert sorted(statuses) == [200] * 5 + [429] * 25
        client, response = _login("olivia", PASSWORD, remote=PROXY, forwarded="203.0.113.7")
        assert (response.status_code, _signed_in(client)) == (429, False)
        # From another address behind the same proxy the account is still locked...
        client, response = _login("olivia", PASSWORD, remote=PROXY, forwarded="198.51.100.9")
        assert (response.status_code, _signed_in(client)) == (429, False)
        # ...but a colleague there is not: one proxy does not lock the clinic together.
        assert _signed_in(_login("paula", PASSWORD, remote=PROXY, forwarded="198.51.100.9")[0])

    def test_it_keeps_accounts_behind_one_proxy_apart_under_attack(self, world: World) -> None:
        def colleague() -> bool:
            return _signed_in(_login("paula", PASSWORD, remote=PROXY, forwarded="198.51.100.9")[0])

        results = _burst([*[self._wrong] * 30, *[colleague] * 5])
        assert results[30:] == [True] * 5
        assert sorted(results[:30]) == [200] * 5 + [429] * 25

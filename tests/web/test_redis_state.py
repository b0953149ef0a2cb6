"""With REDIS_URL, the state web nodes share lives in Redis: the sign-in failure counters
(handrail.web.clinic.throttle) and the rule-set reload signal (handrail.web.visits.engine).
Against a real Redis: `make test-redis` (HANDRAIL_TEST_REDIS_URL, a database of its own: the
tests empty it); without it they skip. The database path of the same counters is
tests/web/test_signin_throttle.py."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone
from redis import Redis

from handrail.web.clinic.models import SignInCounter
from handrail.web.clinic.throttle import sign_in_locked_until
from handrail.web.ops.data_services import official_data_import
from handrail.web.shared_redis import redis_client
from handrail.web.visits import engine
from handrail.web.visits.services import visit_evaluate
from tests.web.conftest import PASSWORD, World
from tests.web.test_engine_reload import (  # noqa: F401 (data_dir: the fixture)
    ALABAMA,
    BUILT_IN,
    GPCI_HEADER,
    _import_illinois,
    _pricing,
    _visit,
    data_dir,
)
from tests.web.test_signin_throttle import PROXIES, PROXY, _burst, _login, _signed_in

REDIS_URL = os.environ.get("HANDRAIL_TEST_REDIS_URL", "")
pytestmark = pytest.mark.skipif(
    not REDIS_URL, reason="set HANDRAIL_TEST_REDIS_URL (make test-redis) to run against Redis"
)


@pytest.fixture
def redis(settings: Any) -> Iterator[Redis]:
    settings.REDIS_URL = REDIS_URL
    client = redis_client()
    assert client is not None
    client.flushdb()
    yield client
    client.flushdb()


def _counter(client: Redis, scope: str, key: str) -> dict[str, str]:
    raw = client.hgetall(f"handrail:signin:{scope}:{key}")
    return {k.decode(): v.decode() for k, v in raw.items()}


class RedisCounterTests:
    @pytest.fixture(autouse=True)
    def _limits(self, settings: Any) -> None:
        settings.LOGIN_FAILURE_LIMIT = 3
        settings.LOGIN_LOCKOUT_MINUTES = 15

    def test_it_locks_the_account_at_the_limit_in_redis(self, world: World, redis: Redis) -> None:
        for _ in range(3):
            assert _login("olivia", "wrong password here")[1].status_code == 200
        client, response = _login("olivia", PASSWORD)
        assert (response.status_code, _signed_in(client)) == (429, False)
        assert "Too many failed sign-ins for this account" in response.content.decode()
        assert 14 * 60 <= int(response["Retry-After"]) <= 15 * 60
        # Counted in Redis, not in the database; forgotten by Redis once window and lock pass.
        assert not SignInCounter.objects.exists()
        assert _counter(redis, "account", "olivia")["failures"] == "3"
        assert 0 < redis.ttl("handrail:signin:account:olivia") <= 2 * 15 * 60 + 60
        assert sign_in_locked_until(username="Olivia") is not None

    def test_it_lets_the_account_in_again_when_the_lock_ends(
        self, world: World, redis: Redis
    ) -> None:
        for _ in range(3):
            _login("olivia", "wrong password here")
        with time_machine.travel(timezone.now() + timedelta(minutes=16), tick=False):
            assert sign_in_locked_until(username="olivia") is None
            client, response = _login("olivia", PASSWORD)
            assert (response.status_code, _signed_in(client)) == (302, True)

    def test_it_clears_the_account_on_success_and_counts_afresh(
        self, world: World, redis: Redis
    ) -> None:
        for _ in range(2):
            _login("olivia", "wrong password here")
        assert _signed_in(_login("olivia", PASSWORD)[0])
        assert _counter(redis, "account", "olivia")["failures"] == "0"
        for _ in range(2):
            _login("olivia", "wrong password here")
        assert _signed_in(_login("olivia", PASSWORD)[0])

    @override_settings(LOGIN_ADDRESS_FAILURE_LIMIT=5)
    def test_it_locks_an_address_that_sprays_many_accounts(
        self, world: World, redis: Redis
    ) -> None:
        for name in ("olivia", "paula", "oscar", "bill", "fran"):
            _login(name, "wrong password here", remote="203.0.113.7")
        client, response = _login("admin", PASSWORD, remote="203.0.113.7")
        assert response.status_code == 429
        assert "for your network address" in response.content.decode()
        assert _signed_in(_login("admin", PASSWORD, remote="198.51.100.9")[0])
        # Each success gives the address one attempt back.
        for _ in range(8):
            assert _signed_in(_login("olivia", PASSWORD, remote="198.51.100.9")[0])
        assert _counter(redis, "address", "198.51.100.9")["failures"] == "0"

    def test_an_admin_lifts_the_lock_in_redis(self, world: World, redis: Redis) -> None:
        for _ in range(3):
            _login("olivia", "wrong password here")
        admin = world.client_for(world.admin)
        page = admin.get(reverse("clinic_admin:staff-edit", args=[world.ot.pk]))
        assert 'id="signin-lock"' in page.content.decode()
        assert admin.post(reverse("clinic_admin:staff-unlock", args=[world.ot.pk])).status_code
        assert _signed_in(_login("olivia", PASSWORD)[0])

    def test_an_unreachable_redis_refuses_the_sign_in_with_a_message(
        self, world: World, settings: Any
    ) -> None:
        settings.REDIS_URL = "redis://127.0.0.1:1/0"  # nothing listens there
        client, response = _login("olivia", PASSWORD)
        assert (response.status_code, _signed_in(client)) == (200, False)
        assert "Signing in is unavailable for a moment" in response.content.decode()
        # The admin's staff page still opens; lifting a lock says why it cannot.
        admin = world.client_for(world.admin)
        page = admin.get(reverse("clinic_admin:staff-edit", args=[world.ot.pk]))
        assert page.status_code == 200 and 'id="signin-lock"' not in page.content.decode()
        response = admin.post(
            reverse("clinic_admin:staff-unlock", args=[world.ot.pk]), follow=True
        )
        assert response.status_code == 200
        assert "The sign-in lock could not be lifted" in response.content.decode()


@pytest.mark.django_db(transaction=True)
class RedisParallelTests:
    """Threads, each with its own database connection: PostgreSQL (make test-postgres with
    HANDRAIL_TEST_REDIS_URL), or SQLite's shared in-memory test database."""

    @pytest.fixture(autouse=True)
    def _limits(self, settings: Any) -> None:
        settings.LOGIN_FAILURE_LIMIT = 5
        settings.TRUSTED_PROXY_NETWORKS = PROXIES

    def _wrong(self) -> int:
        return _login("olivia", "wrong password here", remote=PROXY, forwarded="203.0.113.7")[
            1
        ].status_code

    def test_30_parallel_wrong_passwords_then_the_right_one_is_locked(
        self, world: World, redis: Redis
    ) -> None:
        statuses = _burst([self._wrong] * 30)
        # Only the limit's worth of passwords was checked; the rest were refused unchecked.
        assert sorted(statuses) == [200] * 5 + [429] * 25, statuses
        client, response = _login("olivia", PASSWORD, remote=PROXY, forwarded="203.0.113.7")
        assert (response.status_code, _signed_in(client)) == (429, False)
        # Locked by the 5th failure's answer, or by a 6th attempt counted before it came.
        counter = _counter(redis, "account", "olivia")
        assert counter["failures"] in ("5", "6") and float(counter["locked_until"]) > 0
        assert not SignInCounter.objects.exists()
        # A colleague behind the same proxy, on another address, is not locked out.
        assert _signed_in(_login("paula", PASSWORD, remote=PROXY, forwarded="198.51.100.9")[0])
        assert connection.vendor in ("postgresql", "sqlite")


@pytest.fixture
def fresh_engine(monkeypatch: pytest.MonkeyPatch) -> None:
    """This process as a node that has loaded nothing and read no signal yet."""
    monkeypatch.setattr(engine, "_loaded", None)
    monkeypatch.setattr(engine, "_signal_read", None)


def _another_second_passes(monkeypatch: pytest.MonkeyPatch) -> None:
    """The node reads the signal at most once a second: let it read again now."""
    monkeypatch.setattr(engine, "_signal_read", None)


@pytest.mark.usefixtures("fresh_engine", "data_dir")
class ReloadSignalTests:
    def test_a_node_whose_store_looks_unchanged_reloads_on_the_signal(
        self,
        world: World,
        redis: Redis,
        tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        visit = _visit(world)
        assert _pricing(visit_evaluate(visit=visit)) == BUILT_IN
        # A store on a shared volume whose attributes this node caches: its files look the
        # same to it after another node imported a release.
        stale = engine.store_stamp()
        monkeypatch.setattr(engine, "store_stamp", lambda: stale)
        _import_illinois(tmp_path, pe_gpci="0.900")
        assert _pricing(visit_evaluate(visit=visit)) == BUILT_IN  # not noticed on its own
        redis.set(engine.SIGNAL_KEY, "announced-by-web2")
        _another_second_passes(monkeypatch)
        assert _pricing(visit_evaluate(visit=visit)) == ("06102-99", 49.35, [27.76, 21.59])
        # Checked once: the same signal does not read the release rows again.
        reads: list[int] = []
        original = engine._release_rows
        monkeypatch.setattr(engine, "_release_rows", lambda: reads.append(1) or original())
        _another_second_passes(monkeypatch)
        visit_evaluate(visit=visit)
        assert reads == []

    def test_the_node_that_notices_an_import_announces_it(
        self, world: World, redis: Redis, tmp_path: Path
    ) -> None:
        visit = _visit(world)
        visit_evaluate(visit=visit)
        assert redis.get(engine.SIGNAL_KEY) is None  # a first load is no news
        _import_illinois(tmp_path, pe_gpci="0.900")  # on the command line: no announcement
        assert _pricing(visit_evaluate(visit=visit))[1] == 49.35
        announced = redis.get(engine.SIGNAL_KEY)
        assert announced == engine.release_version(engine._release_rows()).encode()

    def test_the_web_import_announces_the_release(self, world: World, redis: Redis) -> None:
        illinois = "06102,IL,99,REST OF ILLINOIS,1.000,0.900,1.200"
        upload = SimpleUploadedFile(
            "GPCI2026.csv", "\n".join([*GPCI_HEADER, illinois, ALABAMA, ""]).encode()
        )
        official_data_import(user=world.admin, kind="gpci", uploads=[upload])
        announced = redis.get(engine.SIGNAL_KEY)
        assert announced == engine.release_version(engine._release_rows()).encode()

    def test_an_unreachable_redis_leaves_each_node_on_its_own_files(
        self, world: World, settings: Any, tmp_path: Path
    ) -> None:
        settings.REDIS_URL = "redis://127.0.0.1:1/0"  # nothing listens there
        visit = _visit(world)
        assert _pricing(visit_evaluate(visit=visit)) == BUILT_IN
        _import_illinois(tmp_path, pe_gpci="0.900")
        assert _pricing(visit_evaluate(visit=visit))[1] == 49.35

"""REDIS_URL: the cache in Redis, shared by every web node (`make test-redis` runs these
against redis://127.0.0.1:6379/15; without HANDRAIL_TEST_REDIS_URL the server tests skip)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache
from django.test import Client, override_settings

REDIS_URL = os.environ.get("HANDRAIL_TEST_REDIS_URL", "")
needs_redis = pytest.mark.skipif(
    not REDIS_URL, reason="set HANDRAIL_TEST_REDIS_URL (make test-redis) to run against Redis"
)


def _settings_with(**env: str) -> dict[str, Any]:
    return dict(_setting("CACHES['default']", **env))


def _setting(expression: str, **env: str) -> Any:
    """A value of the production settings module (s) under this environment."""
    script = (
        f"import json; from handrail.web import settings as s; print(json.dumps(s.{expression}))"
    )
    base = {k: v for k, v in os.environ.items() if k != "REDIS_URL"}
    base.update(PYTHONPATH=str(Path(__file__).resolve().parents[2] / "src"), SECRET_KEY="k" * 60)
    result = subprocess.run(
        [sys.executable, "-c", script],
        env={**base, **env},
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(result.stdout)


class RedisSettingsTests:
    def test_without_redis_url_the_cache_is_per_process(self) -> None:
        assert _settings_with()["BACKEND"] == ("django.core.cache.backends.locmem.LocMemCache")

    def test_redis_url_puts_the_cache_in_redis(self) -> None:
        cache = _settings_with(REDIS_URL="redis://cache.internal:6379/2")
        assert cache == {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://cache.internal:6379/2",
            "KEY_PREFIX": "handrail",
            "TIMEOUT": 300,
        }

    def test_a_malformed_redis_url_is_refused_naming_the_variable(self) -> None:
        with pytest.raises(subprocess.CalledProcessError) as failure:
            _settings_with(REDIS_URL="cache.internal:6379")
        assert "REDIS_URL='cache.internal:6379'" in failure.value.stderr


class RQSettingsTests:
    def test_without_redis_url_tasks_queue_in_the_database(self) -> None:
        assert _setting("TASKS['default']['BACKEND']") == "django_tasks_db.DatabaseBackend"
        assert "django_rq" not in _setting("INSTALLED_APPS")

    def test_redis_url_puts_the_task_queues_on_rq(self) -> None:
        env = {"REDIS_URL": "redis://cache.internal:6379/2"}
        assert _setting("TASKS['default']", **env) == {
            "BACKEND": "django_tasks_rq.RQBackend",
            "QUEUES": ["default", "email"],
        }
        assert _setting("RQ_QUEUES", **env) == {
            name: {"URL": "redis://cache.internal:6379/2", "DEFAULT_TIMEOUT": 600}
            for name in ("default", "email")
        }
        assert "django_rq" in _setting("INSTALLED_APPS", **env)

    def test_tasks_can_stay_in_the_database_with_redis(self) -> None:
        backend = _setting(
            "TASKS['default']['BACKEND']",
            REDIS_URL="redis://cache.internal:6379/2",
            TASK_BACKEND="database",
        )
        assert backend == "django_tasks_db.DatabaseBackend"

    @pytest.mark.parametrize(
        ("env", "named"),
        [
            ({"TASK_BACKEND": "rq"}, "TASK_BACKEND=rq needs REDIS_URL"),
            ({"TASK_BACKEND": "celery"}, "TASK_BACKEND='celery': write database or rq"),
        ],
    )
    def test_a_bad_task_backend_is_refused_naming_the_variable(
        self, env: dict[str, str], named: str
    ) -> None:
        with pytest.raises(subprocess.CalledProcessError) as failure:
            _setting("TASKS", **env)
        assert named in failure.value.stderr


@pytest.fixture
def redis_cache() -> Iterator[str]:
    config = {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": f"handrail-test-{uuid.uuid4().hex[:8]}",
    }
    with override_settings(CACHES={"default": config}):
        yield str(config["KEY_PREFIX"])
        caches["default"].clear()


@needs_redis
class RedisCacheTests:
    def test_another_node_sees_what_one_node_cached(self, redis_cache: str) -> None:
        caches["default"].set("release", "2026-D", timeout=30)
        other_node = RedisCache(REDIS_URL, {"KEY_PREFIX": redis_cache})
        assert other_node.get("release") == "2026-D"

    def test_readyz_checks_the_redis_cache(self, db: None, redis_cache: str) -> None:
        response = Client().get("/readyz")
        assert response.json()["checks"]["cache"] == "ok"

    def test_readyz_answers_503_when_redis_is_down(self, db: None) -> None:
        config = {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",  # nothing listens on port 1
        }
        with override_settings(CACHES={"default": config}):
            response = Client().get("/readyz")
        assert response.status_code == 503
        assert response.json()["checks"]["cache"] == "failed: ConnectionError"

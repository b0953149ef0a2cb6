"""Test settings: a throw-away key, a fast hasher, and PostgreSQL when asked for.

`HANDRAIL_TEST_DATABASE_URL` (e.g. postgresql://postgres@127.0.0.1:5432/test) runs the web
tests on PostgreSQL; without it they run on an in-memory SQLite database.

`HANDRAIL_TEST_TASK_BACKEND=rq` with `HANDRAIL_TEST_REDIS_URL` (redis://127.0.0.1:6379/15)
queues background tasks on RQ in that Redis database (`make test-redis`); the tests that use
it empty it, so give it a database of its own. Without, tasks queue in the test database.
"""

from __future__ import annotations

import os
import secrets

os.environ.setdefault("SECRET_KEY", secrets.token_urlsafe(50))

import dj_database_url  # noqa: E402

from handrail.web.settings import *  # noqa: E402,F403
from handrail.web.settings import (  # noqa: E402
    DATABASES,
    INSTALLED_APPS,
    TASK_QUEUES,
    WORKER_PERIODIC_TASKS,
)

_test_url = os.environ.get("HANDRAIL_TEST_DATABASE_URL")
if _test_url:
    DATABASES["default"] = dict(dj_database_url.parse(_test_url))
else:
    DATABASES["default"] = {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}

# Sign-in counters and the reload signal in the database; the Redis tests (make test-redis)
# point REDIS_URL at HANDRAIL_TEST_REDIS_URL themselves.
REDIS_URL = ""
# No pattern hub unless a test configures one (tests/web/test_pattern_hub.py serves its own).
PATTERN_HUB_URL = ""
PATTERN_HUB_KEY = ""
WORKER_PERIODIC_TASKS = {
    path: seconds
    for path, seconds in WORKER_PERIODIC_TASKS.items()
    if path != "handrail.web.remittances.tasks.sync_pattern_hub"
}
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
DEBUG = False

TASK_BACKEND = os.environ.get("HANDRAIL_TEST_TASK_BACKEND", "database")
if TASK_BACKEND == "rq":
    _redis_url = os.environ.get("HANDRAIL_TEST_REDIS_URL", "")
    if not _redis_url:
        raise RuntimeError("HANDRAIL_TEST_TASK_BACKEND=rq needs HANDRAIL_TEST_REDIS_URL")
    if "django_rq" not in INSTALLED_APPS:
        INSTALLED_APPS = [*INSTALLED_APPS, "django_rq"]
    RQ_QUEUES = {name: {"URL": _redis_url, "DEFAULT_TIMEOUT": 60} for name in TASK_QUEUES}
    TASKS = {"default": {"BACKEND": "django_tasks_rq.RQBackend", "QUEUES": TASK_QUEUES}}
elif TASK_BACKEND != "database":
    raise RuntimeError(f"HANDRAIL_TEST_TASK_BACKEND={TASK_BACKEND!r}: write database or rq")
else:
    TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": TASK_QUEUES}}

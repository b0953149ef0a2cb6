"""Test settings: a throw-away key, a fast hasher, and PostgreSQL when asked for.

`HANDRAIL_TEST_DATABASE_URL` (e.g. postgresql://postgres@127.0.0.1:5432/test) runs the web
tests on PostgreSQL; without it they run on an in-memory SQLite database.
"""

from __future__ import annotations

import os
import secrets

os.environ.setdefault("SECRET_KEY", secrets.token_urlsafe(50))

import dj_database_url  # noqa: E402

from handrail.web.settings import *  # noqa: E402,F403
from handrail.web.settings import DATABASES  # noqa: E402

_test_url = os.environ.get("HANDRAIL_TEST_DATABASE_URL")
if _test_url:
    DATABASES["default"] = dict(dj_database_url.parse(_test_url))
else:
    DATABASES["default"] = {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
DEBUG = False

"""Django settings for the Handrail clinic app. Every environment value goes through `env.py`.

Environment variables (all optional except the secret key outside `make run`):

SECRET_KEY / SECRET_KEY_FILE   required, 50+ characters; `make run` and manage.py generate
                               var/secret_key
DEBUG                          0/1, default 0
ALLOWED_HOSTS                  comma-separated, default 127.0.0.1,localhost
DATABASE_URL / DATABASE_URL_FILE  e.g. postgresql://user@host:5432/handrail; default SQLite
                               at var/handrail.sqlite3 (created on demand)
HTTPS                          1 behind TLS: secure cookies, HSTS, SSL redirect
LOGIN_FAILURE_LIMIT            failed logins before a lock-out, default 5
LOGIN_LOCKOUT_MINUTES          window and lock-out length, default 15
LOGIN_ADDRESS_FAILURE_LIMIT    failed logins per client address, default 4x the above
TRUSTED_PROXIES                reverse proxies whose X-Forwarded-For is believed, default none
OTP_REQUIRED_ROLES             roles that must use two-factor sign-in, default admin,biller
WEBAUTHN_RP_ID                 the domain passkeys belong to, default SITE_URL's host or the
                               first domain name in ALLOWED_HOSTS (passkey_settings.py)
WEBAUTHN_ORIGINS               comma-separated page origins that may use passkeys, default
                               SITE_URL's origin when on the RP ID (passkey_settings.py)
SESSION_IDLE_MINUTES           sign a session out after this long without activity, default 15
SESSION_ABSOLUTE_HOURS         and this long after its sign-in, default 12
DATABASE_POOL_MAX / _MIN / _TIMEOUT  PostgreSQL pool per process: 4 / 1 / 10 s (0 = no pool)
STATIC_ROOT                    where collectstatic writes, default var/static
METRICS_ALLOWED_IPS            who may read /metrics, default 127.0.0.1,::1 (CIDR allowed)
LOG_FORMAT / LOG_LEVEL         text or json / handrail's level, default text / INFO
HSTS_PRELOAD                   0/1, default = HTTPS
SITE_URL                       the app's address as patients reach it (links in emails),
                               default http://127.0.0.1:8000
EMAIL_HOST / EMAIL_PORT / EMAIL_HOST_USER / EMAIL_HOST_PASSWORD(_FILE) / EMAIL_USE_TLS
                               the mail server; without EMAIL_HOST mail is written to files
                               in var/mail (the demo clinic's mail never leaves the machine)
DEFAULT_FROM_EMAIL             sender of patients' emails
MEDIA_ROOT                     uploaded files on this machine, default var/media
AWS_STORAGE_BUCKET_NAME        media in this S3-compatible bucket instead; with
                               AWS_S3_ENDPOINT_URL (non-AWS), AWS_S3_REGION_NAME,
                               AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY(_FILE), AWS_LOCATION
REDIS_URL                      redis://host:6379/0: the cache, the sign-in failure counters,
                               the rule-set reload signal and the background task queues
                               (RQ) live in Redis, shared by every node; default: a cache
                               per process, counters, signal and queues in the database
TASK_BACKEND                   database or rq: where background tasks queue, default rq
                               with REDIS_URL, database without
TASK_TIMEOUT_SECONDS           on RQ, a task running longer is stopped and fails, default 600
PORTAL_LINK_DAYS_AFTER_PLAN    patient links work this many days after the plan ends, default 30
PORTAL_RATE_LIMIT / PORTAL_ADDRESS_RATE_LIMIT / PORTAL_RATE_WINDOW_SECONDS
                               patient-link requests per token / per address per window,
                               default 120 / 600 / 600 s
WORKER_STALE_SECONDS           /readyz reports the worker degraded when no worker has
                               written its heartbeat for this long, default 60
REMINDER_QUEUE_SECONDS / OUTBOX_SWEEP_SECONDS
                               how often the worker queues due reminders / runs the
                               outbox's safety net, default 60 / 300 s
PATTERN_HUB_URL / PATTERN_HUB_KEY(_FILE)
                               opt-in: send anonymous denial reports to this pattern hub
                               (https://, or http:// on this machine) with the key its admin
                               issued, and show its figures; default none (docs/patterns.md)
PATTERN_HUB_SYNC_SECONDS / PATTERN_HUB_TIMEOUT_SECONDS
                               how often the worker sends what waits and fetches the hub's
                               figures / how long one call may take, default 300 / 10 s
PATTERN_HUB_RATE_LIMIT         as a hub: requests per hour per enrolled server, default 1000
"""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from handrail.web.env import (
    env_bool,
    env_hub_url,
    env_int,
    env_list,
    env_required_secret,
    env_secret,
    env_str,
)
from handrail.web.passkey_settings import relying_party

BASE_DIR = Path(__file__).resolve().parent
REPO_ROOT = BASE_DIR.parents[2]
VAR_DIR = REPO_ROOT / "var"

SECRET_KEY = env_required_secret(
    "SECRET_KEY", "Generate one with: python -c 'import secrets; print(secrets.token_urlsafe(50))'"
)
DEBUG = env_bool("DEBUG", False)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost"])
HTTPS = env_bool("HTTPS", False)

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "handrail.web.clinic",
    "handrail.web.care",
    "handrail.web.visits",
    "handrail.web.audit",
    "handrail.web.api",
    "handrail.web.notes",
    "handrail.web.worklists",
    "handrail.web.ops",
    "handrail.web.messaging",
    "handrail.web.programs",
    "handrail.web.portal",
    "handrail.web.billing",
    "handrail.web.remittances",
    "handrail.web.patternhub",
    # Background tasks (django-tasks; the database backend's queue table and worker).
    "django_tasks",
    "django_tasks_db",
    # Two-factor sign-in (handrail.web.clinic.two_factor): TOTP and recovery codes.
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    # Passkeys (WebAuthn) as a second factor (handrail.web.clinic.passkeys).
    "django_otp_webauthn",
]

MIDDLEWARE = [
    # First: the request id is on every log line of the request, and every answer is counted.
    "handrail.web.ops.observability.RequestIdMiddleware",
    "handrail.web.ops.observability.MetricsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "handrail.web.middleware.SecurityHeadersMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "handrail.web.middleware.LoginRequiredMiddleware",
    # Idle timeout and absolute limit, then the steps a signed-in user finishes before
    # anything else (handrail.web.clinic.session_limits, handrail.web.clinic.gate).
    "handrail.web.clinic.session_limits.SessionLimitsMiddleware",
    "handrail.web.clinic.gate.SignInGateMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # After the session and the user (the 400 page shows the layout), before every view.
    "handrail.web.middleware.NulCharacterMiddleware",
]

ROOT_URLCONF = "handrail.web.urls"
WSGI_APPLICATION = "handrail.web.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]


# The databases Handrail's migrations support (their triggers are written for these two).
DATABASE_ENGINES = ("django.db.backends.postgresql", "django.db.backends.sqlite3")


def _database() -> dict[str, Any]:
    url = env_secret("DATABASE_URL")
    if url:
        return _postgres_or_url(url)
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    return {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": VAR_DIR / "handrail.sqlite3",
        "OPTIONS": {"transaction_mode": "IMMEDIATE", "init_command": "PRAGMA journal_mode=WAL;"},
    }


def _postgres_or_url(url: str) -> dict[str, Any]:
    """PostgreSQL through a bounded psycopg pool per process (DATABASE_POOL_MAX, default 4):
    a burst waits up to DATABASE_POOL_TIMEOUT seconds for a free connection instead of
    opening one per request thread until the server refuses everyone. At most
    workers x DATABASE_POOL_MAX connections per web node. DATABASE_POOL_MAX=0 turns the pool
    off: then persistent connections (CONN_MAX_AGE 60 s) with health checks."""
    try:
        config: dict[str, Any] = dict(dj_database_url.parse(url))
    except ValueError:
        # Not echoed: the address may hold the database password.
        raise ImproperlyConfigured(
            "DATABASE_URL is not a database address Handrail can use; write "
            "postgresql://user:password@host:5432/name (or sqlite:///path/to/file.sqlite3), "
            "with any special character of the password percent-encoded"
        ) from None
    if config["ENGINE"] not in DATABASE_ENGINES:
        raise ImproperlyConfigured(
            f"DATABASE_URL names a {config['ENGINE'].rsplit('.', 1)[-1]} database; Handrail "
            "runs on PostgreSQL (postgresql://...) or SQLite (sqlite:///...)"
        )
    pool_max = env_int("DATABASE_POOL_MAX", 4, minimum=0)
    if config["ENGINE"] == "django.db.backends.postgresql" and pool_max:
        pool_min = min(env_int("DATABASE_POOL_MIN", 1, minimum=0), pool_max)
        timeout = env_int("DATABASE_POOL_TIMEOUT", 10, minimum=1)
        config["CONN_MAX_AGE"] = 0  # the pool keeps the connections; Django must not
        # Django gives the pool its check (ConnectionPool.check_connection) when health
        # checks are on; a "check" in the pool options too made every pool fail to build.
        config["CONN_HEALTH_CHECKS"] = True
        config.setdefault("OPTIONS", {})["pool"] = {
            "min_size": pool_min,
            "max_size": pool_max,
            "timeout": timeout,
        }
    else:
        config["CONN_MAX_AGE"] = 60
        config["CONN_HEALTH_CHECKS"] = True
    return config


DATABASES = {"default": _database()}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "clinic.User"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "patient-list"
LOGOUT_REDIRECT_URL = "login"

# Argon2id first: new and re-hashed passwords use it (OWASP password storage cheat sheet).
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
    {"NAME": "handrail.web.clinic.passwords.UsernameInPasswordValidator"},
]

# Login throttling (handrail.web.clinic.throttle): lock a username (and the client address)
# after this many failures inside the window, for the window's length.
LOGIN_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 5, minimum=1)
LOGIN_LOCKOUT_MINUTES = env_int("LOGIN_LOCKOUT_MINUTES", 15, minimum=1)
# Per client address; 0 means 4x LOGIN_FAILURE_LIMIT (one office behind one NAT).
LOGIN_ADDRESS_FAILURE_LIMIT = env_int("LOGIN_ADDRESS_FAILURE_LIMIT", 0, minimum=0)
# Reverse proxies (addresses or networks) whose X-Forwarded-For names the client; from any
# other peer the header is ignored, so a client cannot choose the address it is counted as.
TRUSTED_PROXIES = env_list("TRUSTED_PROXIES", [])

# --- Sign-in: second factor and sessions (docs/signin.md) ----------------------------
# Roles that must sign in with a second factor (TOTP app + recovery codes); others may.
# OTP_REQUIRED_ROLES=none (or empty) requires it of nobody.
ROLE_NAMES = ("admin", "therapist", "assistant", "biller", "front_desk")  # clinic.Role
OTP_REQUIRED_ROLES = [
    role for role in env_list("OTP_REQUIRED_ROLES", ["admin", "biller"]) if role != "none"
]
if unknown_roles := sorted(set(OTP_REQUIRED_ROLES) - set(ROLE_NAMES)):
    raise ImproperlyConfigured(
        f"OTP_REQUIRED_ROLES: unknown role {', '.join(unknown_roles)}; "
        f"write some of {', '.join(ROLE_NAMES)} (comma-separated) or none"
    )
OTP_TOTP_ISSUER = "Handrail"  # the name authenticator apps show next to the code
# A session ends after this long without activity, and this long after its sign-in
# (handrail.web.clinic.session_limits; the note page's timer poll is not activity).
SESSION_IDLE_MINUTES = env_int("SESSION_IDLE_MINUTES", 15, minimum=1)
SESSION_ABSOLUTE_HOURS = env_int("SESSION_ABSOLUTE_HOURS", 12, minimum=1)

LANGUAGE_CODE = "en-us"
# The clinic's time zone: "today" for visit dates, and the day a timer run must fall on
# (a note's timers run on its day, midnight to midnight here). An IANA name.
TIME_ZONE = env_str("TIME_ZONE", "UTC")
try:
    ZoneInfo(TIME_ZONE)
except (ZoneInfoNotFoundError, ValueError):
    raise ImproperlyConfigured(
        f"TIME_ZONE={TIME_ZONE!r} is not a time zone name; use an IANA name such as "
        "America/Chicago"
    ) from None
USE_I18N = False
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(VAR_DIR / "static")))
STATICFILES_DIRS = [BASE_DIR / "static"]  # app.css and the vendored htmx.min.js

# Sessions and cookies. CSRF stays on everywhere (the API included, through session auth).
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_AGE = 60 * 60 * SESSION_ABSOLUTE_HOURS  # never outlives the absolute limit
CSRF_COOKIE_SAMESITE = "Lax"
# An expired or missing CSRF token gets the app's own page, not Django's debug-style one.
CSRF_FAILURE_VIEW = "handrail.web.ops.errors.csrf_failure"
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS

# Secure headers (Django's SecurityMiddleware + our SecurityHeadersMiddleware for the CSP).
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SECURE_SSL_REDIRECT = HTTPS
SECURE_HSTS_SECONDS = 60 * 60 * 24 * 365 if HTTPS else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = HTTPS
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if HTTPS else None

# No inline scripts or styles anywhere: every script and style is a file under /static/.
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)

# --- Production serving (docs/deploy.md) -----------------------------------------------

# Static files: WhiteNoise serves them from the app (compressed copies made by
# collectstatic). Before `collectstatic` has filled STATIC_ROOT (make run, the tests) it
# serves them straight from the source folders.
# Media (uploaded files): a folder under var/ on one machine (MEDIA_ROOT), an S3-compatible
# bucket when AWS_STORAGE_BUCKET_NAME is set. Never served as public static files.
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(VAR_DIR / "media")))
MEDIA_URL = "/media/"
AWS_STORAGE_BUCKET_NAME = env_str("AWS_STORAGE_BUCKET_NAME", "")
STORAGES: dict[str, dict[str, Any]] = {
    "default": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str(MEDIA_ROOT)},
    },
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
if AWS_STORAGE_BUCKET_NAME:
    # Several web nodes: media in one S3-compatible bucket (django-storages), private, each
    # download through a short-lived signed URL; names are never overwritten.
    STORAGES["default"] = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": AWS_STORAGE_BUCKET_NAME,
            "endpoint_url": env_str("AWS_S3_ENDPOINT_URL", "") or None,
            "region_name": env_str("AWS_S3_REGION_NAME", "") or None,
            "access_key": env_str("AWS_ACCESS_KEY_ID", "") or None,
            "secret_key": env_secret("AWS_SECRET_ACCESS_KEY") or None,
            "default_acl": None,
            "querystring_auth": True,
            "querystring_expire": 300,
            "file_overwrite": False,
            "location": env_str("AWS_LOCATION", ""),
        },
    }
# Home-program pictures and videos go through the default storage above; they are never
# served as static files: handrail.web.programs.views checks who asks first.
PROGRAM_IMAGE_MAX_BYTES = env_int("PROGRAM_IMAGE_MAX_BYTES", 5 * 1024 * 1024, minimum=1024)
PROGRAM_VIDEO_MAX_BYTES = env_int("PROGRAM_VIDEO_MAX_BYTES", 100 * 1024 * 1024, minimum=1024)
# The largest 835 posted (the upload page and POST /api/remittances, whose raw body is read
# under this limit rather than DATA_UPLOAD_MAX_MEMORY_SIZE, which stays Django's 2.5 MB for
# every other request): a 10,000-claim 835 is about 3.5 MB.
REMITTANCE_MAX_BYTES = env_int("REMITTANCE_MAX_BYTES", 50 * 1024 * 1024, minimum=1024)
WHITENOISE_USE_FINDERS = not STATIC_ROOT.is_dir()
WHITENOISE_AUTOREFRESH = WHITENOISE_USE_FINDERS

# Behind TLS, the probes and the scrape may come over plain HTTP from inside the network.
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$", r"^metrics$"]
SECURE_HSTS_PRELOAD = env_bool("HSTS_PRELOAD", HTTPS)

# /metrics answers only these addresses or networks (REMOTE_ADDR, never a forwarded header).
METRICS_ALLOWED_IPS = env_list("METRICS_ALLOWED_IPS", ["127.0.0.1", "::1"])


def _networks(
    values: list[str], name: str = "METRICS_ALLOWED_IPS"
) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    try:
        return [ipaddress.ip_network(value, strict=False) for value in values]
    except ValueError as exc:
        raise ImproperlyConfigured(
            f"{name}: {exc}; write addresses or networks, e.g. 10.0.0.0/8,::1"
        ) from None


METRICS_ALLOWED_NETWORKS = _networks(METRICS_ALLOWED_IPS)
TRUSTED_PROXY_NETWORKS = _networks(TRUSTED_PROXIES, "TRUSTED_PROXIES")

# Logs: one line per record on stderr, JSON (LOG_FORMAT=json, for log collectors) or text;
# every record carries the request id (handrail.web.ops.observability), and handrail.request
# writes one access line per request. A 500's traceback is logged by django.request.
LOG_FORMAT = env_str("LOG_FORMAT", "text")
if LOG_FORMAT not in {"text", "json"}:
    raise ImproperlyConfigured(f"LOG_FORMAT={LOG_FORMAT!r}: write json or text")
LOG_LEVEL = env_str("LOG_LEVEL", "INFO").upper()
if LOG_LEVEL not in {"DEBUG", "INFO", "WARNING", "ERROR"}:
    raise ImproperlyConfigured(f"LOG_LEVEL={LOG_LEVEL!r}: write DEBUG, INFO, WARNING or ERROR")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "request_id": {"()": "handrail.web.ops.observability.RequestIdFilter"},
        "passkey_refusals": {"()": "handrail.web.passkey_settings.PasskeyRefusalFilter"},
    },
    "formatters": {
        "text": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "format": "%(asctime)s %(levelname)s %(name)s %(request_id)s %(message)s",
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
        },
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": LOG_FORMAT,
            "filters": ["request_id"],
        }
    },
    "root": {"handlers": ["console"], "level": "WARNING"},
    "loggers": {
        "handrail": {"level": LOG_LEVEL},
        # The background worker's own lines (task started, finished, failed).
        "django_tasks": {"level": LOG_LEVEL},
        "django_tasks_db": {"level": LOG_LEVEL},
        # Refused passkey answers: one warning line each, no traceback.
        "django_otp_webauthn": {"filters": ["passkey_refusals"]},
    },
}

# --- Email to patients (handrail.web.messaging) ----------------------------------------
SITE_URL = env_str("SITE_URL", "http://127.0.0.1:8000")
if not SITE_URL.startswith(("http://", "https://")):
    raise ImproperlyConfigured(f"SITE_URL={SITE_URL!r}: write the full address, e.g. https://...")

# Passkeys (WebAuthn, django-otp-webauthn): the relying party, checked here at start
# (handrail.web.passkey_settings). Second factor only: a passkey never replaces the password.
PASSKEYS = relying_party(
    rp_id=env_str("WEBAUTHN_RP_ID", ""),
    origins=env_list("WEBAUTHN_ORIGINS", []),
    site_url=SITE_URL,
    allowed_hosts=ALLOWED_HOSTS,
    https=HTTPS,
)
PASSKEYS_OFF_REASON = PASSKEYS.off_reason
OTP_WEBAUTHN_RP_ID = PASSKEYS.rp_id
OTP_WEBAUTHN_ALLOWED_ORIGINS = PASSKEYS.origins
OTP_WEBAUTHN_RP_NAME = "Handrail"
OTP_WEBAUTHN_ALLOW_PASSWORDLESS_LOGIN = False
OTP_WEBAUTHN_TIMEOUT_SECONDS = 120
if not PASSKEYS.enabled:
    # django-otp-webauthn's own checks ask for an RP ID and origins; passkeys are off.
    SILENCED_SYSTEM_CHECKS = ["otp_webauthn.E010", "otp_webauthn.E030"]
MESSAGE_ID_DOMAIN = env_str("MESSAGE_ID_DOMAIN", "handrail.invalid")
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "Handrail <no-reply@handrail.invalid>")
EMAIL_HOST = env_str("EMAIL_HOST", "")
if EMAIL_HOST:
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_PORT = env_int("EMAIL_PORT", 587, minimum=1)
    EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
    EMAIL_HOST_PASSWORD = env_secret("EMAIL_HOST_PASSWORD") or ""
    EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", True)
else:
    EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    EMAIL_FILE_PATH = str(VAR_DIR / "mail")
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 10, minimum=1)

# --- The patient's program pages (handrail.web.portal) ---------------------------------
# A patient link works until this many days after the program's plan of care ends.
PORTAL_LINK_DAYS_AFTER_PLAN = env_int("PORTAL_LINK_DAYS_AFTER_PLAN", 30, minimum=0)
# Requests to the patient pages per link token and per client address, per window.
PORTAL_RATE_LIMIT = env_int("PORTAL_RATE_LIMIT", 120, minimum=1)
PORTAL_ADDRESS_RATE_LIMIT = env_int("PORTAL_ADDRESS_RATE_LIMIT", 600, minimum=1)
PORTAL_RATE_WINDOW_SECONDS = env_int("PORTAL_RATE_WINDOW_SECONDS", 600, minimum=1)
# --- Background tasks (docs/deploy.md "Background worker") -----------------------------
# Tasks go to a queue table in the app's own database (django-tasks-db) and `manage.py
# worker` runs them; every queue a task names must be listed here (django-tasks refuses the
# others when the task is defined).
TASK_QUEUES = ["default", "email"]
TASKS = {
    "default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": TASK_QUEUES},
}
# The worker writes a heartbeat row this often while it waits or between tasks; /readyz
# calls the worker degraded when the newest heartbeat is older than WORKER_STALE_SECONDS.
WORKER_HEARTBEAT_SECONDS = 10
WORKER_STALE_SECONDS = env_int("WORKER_STALE_SECONDS", 60, minimum=WORKER_HEARTBEAT_SECONDS * 2)
# Tasks a running worker enqueues by itself (handrail.web.ops.schedule): dotted path -> period
# in seconds. Each is idempotent. The reminders are queued within a minute of the time the
# patient chose; the outbox's safety net sends what a lost task left and fails stale
# "sending" rows. The worker looks every WORKER_SCHEDULE_SECONDS; successful runs are deleted
# after WORKER_PERIODIC_KEEP_SECONDS.
WORKER_PERIODIC_TASKS = {
    "handrail.web.portal.tasks.queue_due_reminders": env_int(
        "REMINDER_QUEUE_SECONDS", 60, minimum=10
    ),
    "handrail.web.messaging.tasks.send_due_messages": env_int(
        "OUTBOX_SWEEP_SECONDS", 300, minimum=10
    ),
}
WORKER_SCHEDULE_SECONDS = 10
WORKER_PERIODIC_KEEP_SECONDS = 86_400

# --- Denial patterns across clinics (docs/patterns.md) ---------------------------------
# Sender (opt-in): with both set, each anonymous denial report is also queued for this hub
# and the worker fetches the hub's figures every PATTERN_HUB_SYNC_SECONDS; the only outside
# calls Handrail makes, and only to this address (handrail.web.remittances.hub).
PATTERN_HUB_URL = env_hub_url("PATTERN_HUB_URL")
PATTERN_HUB_KEY = env_secret("PATTERN_HUB_KEY") or ""
if PATTERN_HUB_URL and not PATTERN_HUB_KEY.startswith("hrk_"):
    raise ImproperlyConfigured(
        "PATTERN_HUB_URL is set but PATTERN_HUB_KEY (or PATTERN_HUB_KEY_FILE) is not a hub key "
        "(hrk_...): ask the hub's admin for one (manage.py pattern_hub enrol on the hub)"
    )
if PATTERN_HUB_KEY and not PATTERN_HUB_URL:
    raise ImproperlyConfigured("PATTERN_HUB_KEY is set without PATTERN_HUB_URL: set both")
PATTERN_HUB_TIMEOUT_SECONDS = env_int("PATTERN_HUB_TIMEOUT_SECONDS", 10, minimum=1)
if PATTERN_HUB_URL:
    WORKER_PERIODIC_TASKS["handrail.web.remittances.tasks.sync_pattern_hub"] = env_int(
        "PATTERN_HUB_SYNC_SECONDS", 300, minimum=30
    )
# Hub: requests per hour per enrolled server (reports and fetches together).
PATTERN_HUB_RATE_LIMIT = env_int("PATTERN_HUB_RATE_LIMIT", 1000, minimum=1)

# --- Past one machine (docs/deploy.md "Several web nodes") ------------------------------
# With REDIS_URL the cache is one Redis shared by every web node; without it each process
# keeps its own (enough for one machine). The sign-in failure counters
# (handrail.web.clinic.throttle) and the rule-set reload signal (handrail.web.visits.engine)
# follow REDIS_URL too: in Redis with it, in the database without.
REDIS_URL = env_str("REDIS_URL", "")
if REDIS_URL and not REDIS_URL.startswith(("redis://", "rediss://", "unix://")):
    raise ImproperlyConfigured(
        f"REDIS_URL={REDIS_URL!r}: write redis://host:6379/0 (rediss:// for TLS)"
    )
CACHES: dict[str, dict[str, Any]] = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
}
if REDIS_URL:
    CACHES["default"] = {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": "handrail",
        "TIMEOUT": 300,
    }

# Background tasks on RQ (django-tasks-rq) with REDIS_URL: one queue in Redis per task queue,
# served by `manage.py worker` (it runs an RQ worker then; handrail.web.ops.worker). Set
# TASK_BACKEND=database to keep them in the database while the cache is in Redis.
TASK_BACKEND = env_str("TASK_BACKEND", "rq" if REDIS_URL else "database")
if TASK_BACKEND not in ("database", "rq"):
    raise ImproperlyConfigured(f"TASK_BACKEND={TASK_BACKEND!r}: write database or rq")
if TASK_BACKEND == "rq":
    if not REDIS_URL:
        raise ImproperlyConfigured("TASK_BACKEND=rq needs REDIS_URL (the queues live in Redis)")
    INSTALLED_APPS.append("django_rq")
    # A task running longer than this is stopped and fails (RQ's job timeout).
    RQ_QUEUES = {
        name: {
            "URL": REDIS_URL,
            "DEFAULT_TIMEOUT": env_int("TASK_TIMEOUT_SECONDS", 600, minimum=10),
        }
        for name in TASK_QUEUES
    }
    TASKS = {"default": {"BACKEND": "django_tasks_rq.RQBackend", "QUEUES": TASK_QUEUES}}

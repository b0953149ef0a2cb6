"""Production serving: /healthz, /readyz, /metrics (configured addresses only), request ids
and JSON logs, the bounded PostgreSQL pool, `check --deploy` with production settings, and
gunicorn serving the app with its static files through WhiteNoise."""

from __future__ import annotations

import io
import json
import logging
import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.db.migrations.recorder import MigrationRecorder
from django.test import Client, override_settings

from handrail.web.ops.observability import RequestIdFilter
from handrail.web.ops.worker import HeartbeatWorker
from handrail.web.settings import _networks, _postgres_or_url
from tests.web.conftest import World

REPO = Path(__file__).resolve().parents[2]
SRC = REPO / "src"


class HealthzTests:
    def test_it_answers_ok_without_signing_in(self, db: None) -> None:
        response = Client().get("/healthz")
        assert (response.status_code, response.json()) == (200, {"status": "ok"})
        assert response["Cache-Control"].startswith("max-age=0")


class ReadyzTests:
    def test_it_reports_database_migrations_cache_and_worker(self, db: None) -> None:
        HeartbeatWorker(queue_names=["*"], worker_id="w-deploy").beat(force=True)
        response = Client().get("/readyz")
        assert response.status_code == 200
        assert response.json() == {
            "status": "ok",
            "checks": {"database": "ok", "migrations": "ok", "cache": "ok", "worker": "ok"},
        }

    def test_it_answers_503_naming_an_unapplied_migration(self, db: None) -> None:
        MigrationRecorder.Migration.objects.filter(app="audit", name="0002_initial").delete()
        response = Client().get("/readyz")
        body = response.json()
        assert response.status_code == 503
        assert body["status"] == "unavailable"
        assert body["checks"]["migrations"].startswith("1 migration(s) not applied: audit.0002")
        assert body["checks"]["migrations"].endswith("run manage.py migrate")
        assert body["checks"]["database"] == "ok"

    @override_settings(
        CACHES={"default": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}}
    )
    def test_it_answers_503_when_the_cache_keeps_nothing(self, db: None) -> None:
        response = Client().get("/readyz")
        assert response.status_code == 503
        assert response.json()["checks"]["cache"] == "the cache did not return what was stored"


class MetricsTests:
    def test_it_serves_prometheus_metrics_to_an_allowed_address(self, world: World) -> None:
        world.client_for(world.pt).get("/patients/")
        response = Client(REMOTE_ADDR="127.0.0.1").get("/metrics")
        text = response.content.decode()
        assert response.status_code == 200
        assert response["Content-Type"].startswith("text/plain; version=")
        assert 'handrail_http_requests_total{method="GET",route="patient-list",status="200"}' in (
            text
        )
        assert "handrail_http_request_duration_seconds_bucket" in text
        assert "/patients/" not in text  # routes by name, never raw paths

    def test_it_refuses_any_other_address_even_with_a_forwarded_header(self, db: None) -> None:
        client = Client(REMOTE_ADDR="203.0.113.9", HTTP_X_FORWARDED_FOR="127.0.0.1")
        response = client.get("/metrics")
        assert response.status_code == 403
        assert b"METRICS_ALLOWED_IPS" in response.content
        assert b"handrail_http" not in response.content

    @override_settings(METRICS_ALLOWED_NETWORKS=_networks(["10.20.0.0/16"]))
    def test_it_accepts_a_configured_network(self, db: None) -> None:
        assert Client(REMOTE_ADDR="10.20.3.4").get("/metrics").status_code == 200
        assert Client(REMOTE_ADDR="10.21.3.4").get("/metrics").status_code == 403
        assert Client(REMOTE_ADDR="127.0.0.1").get("/metrics").status_code == 403

    def test_it_refuses_a_malformed_network_naming_the_variable(self) -> None:
        with pytest.raises(Exception, match=r"METRICS_ALLOWED_IPS: .*10\.0\.0\.0/8"):
            _networks(["10.0.0.300"])


class RequestIdTests:
    def test_it_echoes_a_proxys_request_id_and_makes_one_otherwise(self, db: None) -> None:
        given = Client().get("/healthz", HTTP_X_REQUEST_ID="lb-7f3a.1")
        assert given["X-Request-ID"] == "lb-7f3a.1"
        made = Client().get("/healthz")
        assert len(made["X-Request-ID"]) == 32
        hostile = Client().get("/healthz", HTTP_X_REQUEST_ID='x"\n{"level":"ERROR"}')
        assert len(hostile["X-Request-ID"]) == 32 and "\n" not in hostile["X-Request-ID"]

    def test_it_logs_one_json_access_line_with_the_request_id(self, world: World) -> None:
        stream = io.StringIO()
        handler = logging.StreamHandler(stream)
        handler.addFilter(RequestIdFilter())
        from pythonjsonlogger.json import JsonFormatter

        handler.setFormatter(
            JsonFormatter("%(asctime)s %(levelname)s %(name)s %(request_id)s %(message)s")
        )
        logger = logging.getLogger("handrail.request")
        logger.addHandler(handler)
        try:
            response = world.client_for(world.pt).get("/patients/", HTTP_X_REQUEST_ID="req-42")
        finally:
            logger.removeHandler(handler)
        (line,) = stream.getvalue().splitlines()
        record = json.loads(line)
        assert response["X-Request-ID"] == "req-42"
        assert {k: record[k] for k in ("request_id", "method", "path", "status", "route")} == {
            "request_id": "req-42",
            "method": "GET",
            "path": "/patients/",
            "status": 200,
            "route": "patient-list",
        }
        assert record["user_id"] == world.pt.pk
        assert record["message"].startswith("GET /patients/ 200 ")


class DatabasePoolTests:
    def test_it_bounds_postgresql_connections_with_a_pool(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setenv("DATABASE_POOL_MAX", "6")
        config = _postgres_or_url("postgresql://handrail@db:5432/handrail")
        pool = config["OPTIONS"]["pool"]
        assert (pool["min_size"], pool["max_size"], pool["timeout"]) == (1, 6, 10)
        assert config["CONN_MAX_AGE"] == 0

    def test_django_builds_the_pool_with_its_health_check(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """The settings as Django's PostgreSQL backend reads them make a pool (not opened
        here) that checks each connection it hands out."""
        from django.db.backends.postgresql.base import DatabaseWrapper
        from psycopg_pool import ConnectionPool

        monkeypatch.setenv("DATABASE_POOL_MAX", "6")
        config = _postgres_or_url("postgresql://handrail@db:5432/handrail")
        config.setdefault("TIME_ZONE", None)
        config.setdefault("AUTOCOMMIT", True)
        config.setdefault("ATOMIC_REQUESTS", False)
        wrapper = DatabaseWrapper(config, alias="pool-check")
        try:
            pool = wrapper.pool
            assert isinstance(pool, ConnectionPool)
            assert (pool.min_size, pool.max_size, pool.timeout) == (1, 6, 10)
            assert pool._check is ConnectionPool.check_connection
        finally:
            wrapper.close_pool()

    def test_it_falls_back_to_checked_persistent_connections_without_a_pool(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setenv("DATABASE_POOL_MAX", "0")
        config = _postgres_or_url("postgresql://handrail@db:5432/handrail")
        assert "pool" not in config.get("OPTIONS", {})
        assert (config["CONN_MAX_AGE"], config["CONN_HEALTH_CHECKS"]) == (60, True)


def _production_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "HANDRAIL_TEST", "DEBUG", "PYTEST"))
    }
    env.update(
        {
            "PYTHONPATH": str(SRC),
            "DJANGO_SETTINGS_MODULE": "handrail.web.settings",
            "SECRET_KEY": "k" * 20 + "Production-Only-Secret-Key-2026-xyz!#%",
            "DEBUG": "0",
            "HTTPS": "1",
            "ALLOWED_HOSTS": "clinic.example.org",
            "DATABASE_URL": f"sqlite:///{tmp_path / 'handrail.sqlite3'}",
            "STATIC_ROOT": str(tmp_path / "static"),
            "LOG_FORMAT": "json",
            **extra,
        }
    )
    return env


def _manage(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(REPO / "manage.py"), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


class DeployCheckTests:
    def test_it_passes_check_deploy_with_production_settings(self, tmp_path: Path) -> None:
        result = _manage(_production_env(tmp_path), "check", "--deploy", "--fail-level", "INFO")
        assert result.returncode == 0, result.stderr
        assert "System check identified no issues" in result.stdout

    @pytest.mark.parametrize("several_nodes", [False, True])
    def test_the_documented_environment_passes_check_deploy(
        self, tmp_path: Path, several_nodes: bool
    ) -> None:
        """docs/deploy.md "Environment" as written: secrets in files, a PostgreSQL URL (the
        check does not connect), the pool, JSON logs, the metrics address, the data folder;
        and "Several web nodes": REDIS_URL (tasks on RQ, whose own checks run too)."""
        key = tmp_path / "secret_key"
        key.write_text(secrets.token_urlsafe(50) + "\n", encoding="utf-8")
        database_url = tmp_path / "database_url"
        database_url.write_text("postgresql://handrail@db:5432/handrail\n", encoding="utf-8")
        env = _production_env(
            tmp_path,
            SECRET_KEY_FILE=str(key),
            DATABASE_URL_FILE=str(database_url),
            METRICS_ALLOWED_IPS="10.0.0.5",
            DATABASE_POOL_MAX="4",
            HANDRAIL_DATA_DIR=str(tmp_path / "data"),
        )
        del env["SECRET_KEY"], env["DATABASE_URL"]
        env.pop("REDIS_URL", None)
        if several_nodes:
            env["REDIS_URL"] = "redis://cache.internal:6379/0"
        result = _manage(env, "check", "--deploy", "--fail-level", "WARNING")
        assert result.returncode == 0, result.stderr
        assert "System check identified no issues" in result.stdout

    @pytest.mark.parametrize("length", [9, 40])
    def test_a_short_secret_key_is_one_clear_line_not_a_traceback(
        self, tmp_path: Path, length: int
    ) -> None:
        """Shorter than Django's deploy check asks (50): refused when the settings load,
        naming the variable and how to make one."""
        env = _production_env(tmp_path, SECRET_KEY=secrets.token_urlsafe(64)[:length])
        result = _manage(env, "check", "--deploy", "--fail-level", "WARNING")
        assert (result.returncode, result.stdout) == (2, "")
        assert result.stderr == (
            f"Configuration error: SECRET_KEY is too short ({length} characters): use 50 or "
            "more random characters. Generate one with: "
            "python -c 'import secrets; print(secrets.token_urlsafe(50))'\n"
        )

    def test_it_fails_check_deploy_without_https(self, tmp_path: Path) -> None:
        env = _production_env(tmp_path, HTTPS="0")
        result = _manage(env, "check", "--deploy", "--fail-level", "WARNING")
        assert result.returncode == 1
        assert "security.W008" in result.stderr  # SECURE_SSL_REDIRECT


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _get(url: str) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(url, headers={"Host": "clinic.example.org"})
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


@pytest.fixture
def gunicorn(tmp_path: Path) -> Iterator[tuple[str, Any]]:
    env = _production_env(tmp_path, HTTPS="0")
    for step in (("migrate", "--noinput"), ("collectstatic", "--noinput")):
        result = _manage(env, *step)
        assert result.returncode == 0, result.stderr
    port = _free_port()
    log = (tmp_path / "gunicorn.log").open("w+")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "handrail.web.wsgi",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "2",
        ],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    # The production set: the background worker beside the web server (docs/deploy.md).
    worker = subprocess.Popen(
        [sys.executable, str(REPO / "manage.py"), "worker"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                _get(f"{base}/healthz")
                break
            except OSError:
                if time.monotonic() > deadline or process.poll() is not None:
                    log.seek(0)
                    pytest.fail(f"gunicorn did not start:\n{log.read()}")
                time.sleep(0.2)
        while json.loads(_get(f"{base}/readyz")[2])["checks"]["worker"] != "ok":
            assert time.monotonic() < deadline and worker.poll() is None, "no worker heartbeat"
            time.sleep(0.2)
        yield base, log
    finally:
        process.terminate()
        worker.terminate()
        process.wait(timeout=30)
        worker.wait(timeout=30)
        log.close()


class GunicornTests:
    def test_it_serves_the_app_static_files_and_probes(self, gunicorn: tuple[str, Any]) -> None:
        base, log = gunicorn
        assert _get(f"{base}/healthz")[0] == 200
        status, _, body = _get(f"{base}/readyz")
        assert (status, json.loads(body)["status"]) == (200, "ok")
        status, headers, body = _get(f"{base}/static/handrail/app.css")
        assert status == 200 and body.startswith(b"/* Handrail clinic app")
        assert headers["Content-Type"].startswith("text/css")
        status, _, body = _get(f"{base}/patients/")  # redirected to the sign-in page
        assert status == 200 and b'id="login-form"' in body
        status, _, body = _get(f"{base}/no-such-page/")
        assert status == 404 and b"We could not find that page" in body
        log.seek(0)
        lines = [json.loads(line) for line in log if line.startswith("{")]
        access = [line for line in lines if line["logger"] == "handrail.request"]
        # The start-up wait polled /healthz first; then this test's requests, in order.
        assert [line["path"] for line in access][-6:] == [
            "/healthz",
            "/readyz",
            "/static/handrail/app.css",
            "/patients/",
            "/login/",
            "/no-such-page/",
        ]
        assert [line["status"] for line in access][-6:] == [200, 200, 200, 302, 200, 404]
        assert all(len(line["request_id"]) == 32 for line in access)


class GunicornConfigurationErrorTests:
    """gunicorn started with a setting the app cannot use stops at once with manage.py's
    one line naming the variable (no traceback), and a non-zero status: gunicorn's "App
    failed to load" (4), not a worker started again and again."""

    @pytest.mark.parametrize(
        ("setting", "expected"),
        [
            (
                {"SECRET_KEY": "too-short-a-key"},
                "Configuration error: SECRET_KEY is too short (15 characters): use 50 or more "
                "random characters. Generate one with: python -c 'import secrets; "
                "print(secrets.token_urlsafe(50))'",
            ),
            (
                {"DATABASE_URL": "postgresql://handrail:p@ss@db.internal:port/handrail"},
                "Configuration error: DATABASE_URL is not a database address Handrail can use; "
                "write postgresql://user:password@host:5432/name (or "
                "sqlite:///path/to/file.sqlite3), with any special character of the password "
                "percent-encoded",
            ),
            (
                {"DATABASE_URL": "mysql://handrail@db.internal/handrail"},
                "Configuration error: DATABASE_URL names a mysql database; Handrail runs on "
                "PostgreSQL (postgresql://...) or SQLite (sqlite:///...)",
            ),
        ],
    )
    def test_it_stops_with_one_line_naming_the_setting(
        self, tmp_path: Path, setting: dict[str, str], expected: str
    ) -> None:
        env = _production_env(tmp_path, **setting)
        result = subprocess.run(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "handrail.web.wsgi",
                "--bind",
                f"127.0.0.1:{_free_port()}",
                "--workers",
                "3",  # as docs/deploy.md: every worker fails to load, one line is printed
                "--no-control-socket",
            ],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        output = result.stdout + result.stderr
        assert result.returncode == 4, output
        assert "Traceback" not in output
        # One line, whichever of the three workers failed first (the others are stopped).
        errors = [line for line in output.splitlines() if "Configuration error" in line]
        assert errors == [expected], output
        assert "Reason: App failed to load." in output
        assert "p@ss" not in output  # the address's password is never echoed
        # manage.py prints the same line for the same setting (and its own status, 2).
        command = _manage(env, "check")
        assert (command.returncode, command.stderr) == (2, expected + "\n")

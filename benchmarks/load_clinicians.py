"""Load benchmark (issue #10): clinicians autosaving their notes and a biller reloading the
worklists, against gunicorn on PostgreSQL.

    make benchmark-load
    .venv/bin/python benchmarks/load_clinicians.py [--clinicians 50] [--duration 60]
        [--database-url postgresql://postgres@127.0.0.1:5432/handrail_load]
        [--workers 3] [--threads 4] [--pool-max 4] [--think 2.0]

Steps:
1. The PostgreSQL database named by --database-url is emptied, migrated and loaded with the
   synthetic demo clinic (`load_demo`); --clinicians OT therapists join it, each with a
   Medicare patient, a certified plan and today's draft note with two service lines. Each
   clinician and the demo's biller get a session made for them (the sign-in page is not
   what is measured).
2. gunicorn serves `handrail.web.wsgi` (gthread, --workers x --threads, a psycopg pool of
   at most --pool-max connections per worker: the bound is workers x pool-max).
3. Every clinician, on their own keep-alive connection, autosaves a line of their note (the
   note's text, and every third save the minutes: the save and its live panel, as the page
   posts it with HTMX) and then loads a trivial signed-in page (the password form: the
   session, the user and a template, no patient data), waiting --think seconds (jittered)
   after each request, as a typing pause between autosaves. The biller reloads the
   worklists the same way. A sampler counts the server's PostgreSQL connections
   (pg_stat_activity) every 0.2 s.
4. Reported: p50/p95/p99 and count of each request kind, the errors (any status other than
   200, or a failed connection), the most PostgreSQL connections seen against the bound, and
   the ratio of the autosave's p50 and p95 to the trivial page's (target: at most 4).
   Printed and written to benchmarks/out/load-clinicians.json. Not part of CI.

Standard library HTTP client, one thread per simulated user: locust would add gevent and
Flask to the project for what 50 threads do here.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import platform
import random
import secrets
import signal
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
OUT_DIR = HERE / "out"
TARGET_RATIO = 4.0
PASSWORD = "load-benchmark-" + secrets.token_urlsafe(8)
DEFAULT_DB = "postgresql://postgres@127.0.0.1:5432/handrail_load"
NOTE = {
    "baseline": "Needs moderate assistance and 6 verbal cues to don a pullover shirt.",
    "task": "Upper-body dressing: pullover shirt seated at the edge of the bed.",
    "technique": "One-handed dressing method, weak arm into the sleeve first.",
    "skilled": "Left neglect after stroke needs graded cues and task breakdown for safety.",
    "performance": "Donned the shirt with minimal assistance and 2 verbal cues.",
}


@dataclass(frozen=True, slots=True)
class Actor:
    username: str
    session_key: str
    visit_id: int = 0
    line_id: int = 0


def _create_database(database_url: str) -> None:
    """Create the benchmark's database on its server when it does not exist yet."""
    import psycopg
    from psycopg import sql

    parts = urlsplit(database_url)
    name = parts.path.lstrip("/")
    server = parts._replace(path="/postgres").geturl()
    with psycopg.connect(server, autocommit=True) as conn:
        found = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if found is None:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def _setup_django(database_url: str) -> None:
    os.environ.setdefault("SECRET_KEY", secrets.token_urlsafe(50))
    os.environ["DJANGO_SETTINGS_MODULE"] = "handrail.web.settings"
    os.environ["DATABASE_URL"] = database_url
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    os.environ.setdefault("ALLOWED_HOSTS", "127.0.0.1,localhost")
    import django

    django.setup()


def _prepare(clinicians: int) -> tuple[list[Actor], Actor]:
    """Empty and migrate the database, load the demo, add the clinicians and their notes,
    and make a session for each clinician and for the biller."""
    from django.core.management import call_command
    from django.db import connection

    from handrail.web.care.services import GoalInput, case_create, plan_of_care_create
    from handrail.web.clinic.management.commands.load_demo import DEMO_CLINIC, load_demo
    from handrail.web.clinic.models import Clinic, Payer, Role, User
    from handrail.web.clinic.services import coverage_set, patient_create, user_create
    from handrail.web.visits.services import service_line_add, visit_create

    with connection.cursor() as cursor:
        cursor.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public;")
    call_command("migrate", verbosity=0, interactive=False)
    load_demo()
    clinic = Clinic.objects.get(name=DEMO_CLINIC)
    medicare = Payer.objects.filter(clinic=clinic, type="medicare").first()
    desk = User.objects.filter(clinic=clinic, role=Role.FRONT_DESK).first()
    biller = User.objects.filter(clinic=clinic, role=Role.BILLER).first()
    if medicare is None or desk is None or biller is None:
        raise SystemExit("the demo clinic has no Medicare payer, front desk or biller")
    from django.utils import timezone

    today = timezone.localdate()
    actors = []
    for number in range(clinicians):
        therapist = user_create(
            clinic=clinic,
            username=f"load{number:03d}",
            password=PASSWORD,
            role=Role.THERAPIST,
            discipline="OT",
            first_name=f"Load{number:03d}",
            last_name="Therapist",
        )
        patient = patient_create(
            user=desk,
            first_name=f"Loadpatient{number:03d}",
            last_name="Synthetic",
            birth_date=today.replace(year=1950) - timedelta(days=number),
        )
        coverage_set(
            user=desk, patient=patient, payer=medicare, member_id=f"1EG4TE5MK{number:02d}"
        )
        start = today - timedelta(days=14)
        case = case_create(
            user=therapist, patient=patient, discipline="OT", title="ADLs", opened_on=start
        )
        plan_of_care_create(
            user=therapist,
            case=case,
            diagnoses=["I69.351", "R26.81"],
            goals=[
                GoalInput("Dons a pullover shirt with set-up only", start + timedelta(weeks=6))
            ],
            frequency_per_week=2,
            duration_weeks=8,
            start_date=start,
            certified_on=start + timedelta(days=2),
            certifier_name="Dr. Synthetic",
        )
        visit = visit_create(user=therapist, case=case, date=today)
        line = service_line_add(
            user=therapist, visit=visit, code="97535", therapist_minutes=25, **NOTE
        )
        service_line_add(user=therapist, visit=visit, code="97530", therapist_minutes=15)
        actors.append(Actor(therapist.username, _session(therapist), visit.pk, line.pk))
    return actors, Actor(biller.username, _session(biller))


def _session(user: Any) -> str:
    """A signed-in session for `user`, as django.contrib.auth.login makes it."""
    from importlib import import_module

    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY

    store = import_module(settings.SESSION_ENGINE).SessionStore()
    store[SESSION_KEY] = str(user.pk)
    store[BACKEND_SESSION_KEY] = settings.AUTHENTICATION_BACKENDS[0]
    store[HASH_SESSION_KEY] = user.get_session_auth_hash()
    store.save()
    return str(store.session_key)


@dataclass
class Results:
    lock: threading.Lock = field(default_factory=threading.Lock)
    times: dict[str, list[float]] = field(default_factory=dict)
    errors: dict[str, int] = field(default_factory=dict)

    def add(self, kind: str, seconds: float, ok: bool, what: str = "") -> None:
        with self.lock:
            self.times.setdefault(kind, []).append(seconds)
            if not ok:
                key = f"{kind}: {what}"
                self.errors[key] = self.errors.get(key, 0) + 1


class Browser:
    """One simulated user's keep-alive connection with their session and CSRF cookies."""

    def __init__(self, port: int, session_key: str, results: Results) -> None:
        self.port = port
        self.cookies = {"sessionid": session_key}
        self.results = results
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)

    def request(
        self, kind: str, method: str, path: str, form: dict[str, str] | None = None
    ) -> str:
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())}
        body = None
        if form is not None:
            body = urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            headers["X-CSRFToken"] = self.cookies.get("csrftoken", "")
            headers["HX-Request"] = "true"
        started = time.perf_counter()
        try:
            self.conn.request(method, path, body=body, headers=headers)
            response = self.conn.getresponse()
            text = response.read().decode("utf-8", "replace")
        except (OSError, http.client.HTTPException) as exc:
            self.results.add(kind, time.perf_counter() - started, False, type(exc).__name__)
            self.conn.close()
            self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
            return ""
        elapsed = time.perf_counter() - started
        for header in response.headers.get_all("Set-Cookie") or []:
            name, _, rest = header.partition("=")
            self.cookies[name.strip()] = rest.split(";", 1)[0]
        self.results.add(kind, elapsed, response.status == 200, str(response.status))
        return text


def _pause(think: float, rng: random.Random, stop: threading.Event) -> None:
    stop.wait(think * rng.uniform(0.5, 1.5))


def _clinician(
    actor: Actor, port: int, think: float, results: Results, stop: threading.Event, seed: int
) -> None:
    rng = random.Random(seed)
    browser = Browser(port, actor.session_key, results)
    note_url = f"/visits/{actor.visit_id}/note/"
    browser.request("note page (first load)", "GET", note_url)  # sets the CSRF cookie
    save_url = f"/visits/{actor.visit_id}/note/lines/{actor.line_id}/"
    prefix = f"l{actor.line_id}-"
    minutes = 25
    count = 0
    _pause(think, rng, stop)
    while not stop.is_set():
        count += 1
        typed = minutes + 1 if count % 3 == 0 else minutes
        form = {f"{prefix}{name}": text for name, text in NOTE.items()}
        form[f"{prefix}task"] = f"{NOTE['task']} Set {count}."
        form[f"{prefix}text"] = ""
        form[f"{prefix}therapist_minutes"] = str(typed)
        form[f"{prefix}assistant_minutes"] = "0"
        form[f"{prefix}therapist_minutes_was"] = str(minutes)
        form[f"{prefix}assistant_minutes_was"] = "0"
        browser.request("autosave + live panel", "POST", save_url, form)
        minutes = typed if typed < 50 else 25
        _pause(think, rng, stop)
        if stop.is_set():
            break
        browser.request("trivial page", "GET", "/account/password/")
        _pause(think, rng, stop)


def _biller(
    actor: Actor, port: int, think: float, results: Results, stop: threading.Event
) -> None:
    rng = random.Random(1)
    browser = Browser(port, actor.session_key, results)
    while not stop.is_set():
        browser.request("biller: worklists", "GET", "/worklists/")
        _pause(think, rng, stop)


def _sample_connections(dsn: str, stop: threading.Event, seen: list[int]) -> None:
    """The server's connections to the database (this sampler's own excluded)."""
    import psycopg

    database = urlsplit(dsn).path.lstrip("/")
    with psycopg.connect(dsn, autocommit=True) as conn:
        while not stop.is_set():
            row = conn.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = %s"
                " AND pid <> pg_backend_pid()",
                (database,),
            ).fetchone()
            seen.append(int(row[0]) if row else 0)
            stop.wait(0.2)


def _start_server(args: argparse.Namespace, database_url: str) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "DATABASE_POOL_MAX": str(args.pool_max),
        "LOG_LEVEL": "WARNING",
        "PYTHONPATH": str(REPO / "src"),
    }
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "handrail.web.wsgi",
        "--bind",
        f"127.0.0.1:{args.port}",
        "--workers",
        str(args.workers),
        "--threads",
        str(args.threads),
        "--worker-class",
        "gthread",
        "--timeout",
        "60",
        # Idle connections stay open between a user's requests, as behind a load balancer
        # (gunicorn's default of 2 s would close them during every typing pause).
        "--keep-alive",
        "75",
        "--log-level",
        "warning",
    ]
    server = subprocess.Popen(command, env=env, cwd=REPO, start_new_session=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", args.port, timeout=2)
            conn.request("GET", "/healthz")
            if conn.getresponse().status == 200:
                return server
        except OSError:
            pass
        if server.poll() is not None:
            raise SystemExit("gunicorn exited before answering /healthz")
        time.sleep(0.3)
    os.killpg(server.pid, signal.SIGTERM)
    raise SystemExit("gunicorn did not answer /healthz within 60 s")


def _percentiles(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    cuts = statistics.quantiles(ordered, n=100, method="inclusive") if len(ordered) > 1 else []

    def at(p: int) -> float:
        return round((cuts[p - 1] if cuts else ordered[0]) * 1000, 1)

    return {"count": len(ordered), "p50_ms": at(50), "p95_ms": at(95), "p99_ms": at(99)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clinicians", type=int, default=50)
    parser.add_argument("--duration", type=float, default=60.0, help="seconds of load")
    parser.add_argument("--think", type=float, default=2.0, help="seconds between requests")
    parser.add_argument("--database-url", default=DEFAULT_DB)
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--pool-max", type=int, default=4)
    parser.add_argument("--port", type=int, default=8765)
    args = parser.parse_args()
    if not args.database_url.startswith(("postgresql://", "postgres://")):
        parser.error("--database-url must name a PostgreSQL database")
    OUT_DIR.mkdir(exist_ok=True)
    _create_database(args.database_url)
    _setup_django(args.database_url)
    started = time.perf_counter()
    clinicians, biller = _prepare(args.clinicians)
    print(f"prepared {len(clinicians)} clinicians in {time.perf_counter() - started:.1f} s")
    from django.db import connections

    connections.close_all()
    server = _start_server(args, args.database_url)
    results = Results()
    stop = threading.Event()
    seen: list[int] = []
    threads = [
        threading.Thread(target=_sample_connections, args=(args.database_url, stop, seen)),
        threading.Thread(target=_biller, args=(biller, args.port, args.think, results, stop)),
        *(
            threading.Thread(
                target=_clinician,
                args=(actor, args.port, args.think, results, stop, number),
            )
            for number, actor in enumerate(clinicians)
        ),
    ]
    try:
        for thread in threads:
            thread.start()
        time.sleep(args.duration)
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=150)
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
    return _report(args, results, seen)


def _report(args: argparse.Namespace, results: Results, seen: list[int]) -> int:
    kinds = {kind: _percentiles(times) for kind, times in sorted(results.times.items())}
    save = kinds.get("autosave + live panel")
    trivial = kinds.get("trivial page")
    ratio = {}
    if save and trivial and trivial["p50_ms"] and trivial["p95_ms"]:
        ratio = {
            "p50": round(save["p50_ms"] / trivial["p50_ms"], 2),
            "p95": round(save["p95_ms"] / trivial["p95_ms"], 2),
        }
    bound = args.workers * args.pool_max
    print()
    print(f"{'request':<26} {'count':>6} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8}")
    for kind, figures in kinds.items():
        print(
            f"{kind:<26} {figures['count']:6d} {figures['p50_ms']:8.1f} "
            f"{figures['p95_ms']:8.1f} {figures['p99_ms']:8.1f}"
        )
    print(f"\nautosave / trivial page: {ratio or 'n/a'} (target <= {TARGET_RATIO})")
    print(f"errors: {sum(results.errors.values())} {results.errors or ''}")
    print(f"PostgreSQL connections: at most {max(seen, default=0)} (bound {bound})")
    report = {
        "benchmark": "load-clinicians",
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": f"{platform.node()} {platform.machine()} {os.cpu_count()} cpu, "
        f"Python {platform.python_version()}",
        "settings": {
            "clinicians": args.clinicians,
            "duration_s": args.duration,
            "think_s": args.think,
            "workers": args.workers,
            "threads": args.threads,
            "pool_max": args.pool_max,
        },
        "requests": kinds,
        "ratio_autosave_to_trivial": ratio,
        "target_ratio": TARGET_RATIO,
        "errors": results.errors,
        "max_connections_seen": max(seen, default=0),
        "connection_bound": bound,
    }
    (OUT_DIR / "load-clinicians.json").write_text(json.dumps(report, indent=2) + "\n")
    print(f"written to {OUT_DIR / 'load-clinicians.json'}")
    failed = bool(results.errors) or max(seen, default=0) > bound
    return 1 if failed or not ratio or ratio["p95"] > TARGET_RATIO else 0


if __name__ == "__main__":
    sys.path.insert(0, str(REPO / "src"))
    sys.exit(main())

"""`python -m handrail.web.serve`: what `make run` calls.

Migrates the database (SQLite in var/ unless DATABASE_URL is set), loads the synthetic demo
clinic on first run, prints the demo logins and serves http://127.0.0.1:8000 with Django's
development server, with a background worker (`manage.py worker`) beside it so queued emails
go out (to var/mail/ unless EMAIL_HOST is set). Ctrl-C stops both. Development only:
production runs handrail.web.wsgi behind a real server, and `manage.py worker`, with
SECRET_KEY set.

DEBUG stays off (unless the environment sets DEBUG=1), so a developer sees what users see:
the app's own 403/404/500 pages, never Django's debug page with settings and source. The
traceback of a 500 is printed on this console instead (settings.LOGGING), and WhiteNoise
serves the static files straight from the source folders until collectstatic has run.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

from handrail.web.devenv import setup_dev_environment


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m handrail.web.serve", description="Run the Handrail clinic app locally."
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--no-demo", action="store_true", help="do not load the demo clinic")
    parser.add_argument(
        "--prepare-only", action="store_true", help="migrate and load the demo, then exit"
    )
    parser.add_argument(
        "--no-worker", action="store_true", help="do not start the background worker"
    )
    args = parser.parse_args(argv)

    setup_dev_environment()
    import django
    from django.core.management import call_command

    django.setup()
    from handrail.web.clinic.management.commands.load_demo import DEMO_CLINIC, demo_logins_text
    from handrail.web.clinic.models import Clinic

    print("Handrail: migrating the database ...", flush=True)
    call_command("migrate", interactive=False, verbosity=0)
    if not args.no_demo:
        if Clinic.objects.filter(name=DEMO_CLINIC).exists():
            print(demo_logins_text(), flush=True)
        else:
            print("Handrail: loading the synthetic demo clinic (first run, ~1 minute) ...")
            call_command("load_demo")
    if args.prepare_only:
        return 0
    worker = None if args.no_worker else start_worker()
    print(f"Handrail: serving http://{args.host}:{args.port}/ (Ctrl-C stops)", flush=True)
    try:
        call_command("runserver", f"{args.host}:{args.port}", use_reloader=False)
    finally:
        if worker is not None:
            stop_worker(worker)
    return 0


def start_worker() -> subprocess.Popen[bytes]:
    """`manage.py worker` as a child process with the same environment (settings, secret
    key, database). Its own process group: the terminal's Ctrl-C reaches only this process,
    which then stops the worker with one SIGTERM (a second signal would abort a running
    task)."""
    import handrail

    env = dict(os.environ)
    src = str(Path(handrail.__file__).resolve().parents[1])
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [src, env.get("PYTHONPATH")]))
    print("Handrail: starting the background worker (emails) ...", flush=True)
    return subprocess.Popen(
        [sys.executable, "-m", "django", "worker"], env=env, start_new_session=True
    )


def stop_worker(worker: subprocess.Popen[bytes], grace: float = 15.0) -> None:
    """Let a running task finish (the worker stops after it on SIGTERM), then make sure the
    child is gone: no worker outlives `make run`."""
    if worker.poll() is None:
        worker.terminate()
    try:
        worker.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        worker.kill()
        worker.wait()


if __name__ == "__main__":
    sys.exit(main())

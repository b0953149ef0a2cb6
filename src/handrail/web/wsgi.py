"""WSGI entry point for production servers (gunicorn handrail.web.wsgi). Needs SECRET_KEY or
SECRET_KEY_FILE in the environment; see handrail/web/settings.py for every variable.

A setting the app cannot use stops the server with the one line manage.py prints
("Configuration error: ..." naming the variable and what to write), not a traceback, and a
non-zero status.
"""

from __future__ import annotations

import os
import signal
import sys
import tempfile
import time
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured
from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "handrail.web.settings")

# gunicorn's status for "the application failed to load" (Arbiter.APP_LOAD_ERROR): its
# master stops every worker and exits with it, where any other status from a worker has it
# start the worker again, over and over. Any other server sees a non-zero exit.
APP_LOAD_ERROR = 4
STALE_SECONDS = 60


def _first_worker_to_fail() -> bool:
    """Under gunicorn, whether this is the first worker of its master to fail loading: a
    second worker exiting with APP_LOAD_ERROR while the master stops makes gunicorn 27 fail
    with a traceback of its own (Arbiter.stop reaps it and raises HaltServer again), so the
    others wait for the master's SIGTERM instead. A marker file per master, created
    exclusively, decides; one left from an earlier master with the same pid is stale."""
    marker = Path(tempfile.gettempdir()) / f"handrail-wsgi-failed-{os.getppid()}"
    for _attempt in range(2):
        try:
            os.close(os.open(marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
            return True
        except FileExistsError:
            try:
                if time.time() - marker.stat().st_mtime < STALE_SECONDS:
                    return False
                marker.unlink()
            except FileNotFoundError:
                pass
    return True


def _stop(exc: ImproperlyConfigured) -> None:
    if "gunicorn.arbiter" in sys.modules and not _first_worker_to_fail():
        # The master terminates this worker as it stops: die of that signal (gunicorn's
        # own handler would only mark the worker to finish its requests).
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        time.sleep(STALE_SECONDS)
    else:
        sys.stderr.write(f"Configuration error: {exc}\n")
        sys.stderr.flush()
    sys.exit(APP_LOAD_ERROR)


try:
    application = get_wsgi_application()
except ImproperlyConfigured as exc:
    _stop(exc)

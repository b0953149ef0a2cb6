"""`/healthz` (the process answers), `/readyz` (it can serve: database, migrations, cache;
and whether a background worker is alive) and `/metrics` (Prometheus, only to the addresses
in METRICS_ALLOWED_IPS).

None needs a signed-in user and none shows patient data. A load balancer takes a node out
of rotation while /readyz answers 503; an orchestrator restarts it when /healthz does not
answer at all.

A dead worker makes /readyz "degraded" with the reason, but still 200: the web node itself
serves every page, and failing every node's readiness would take the whole clinic offline
because emails wait. Alert on "degraded" instead (docs/deploy.md).
"""

from __future__ import annotations

import ipaddress
import logging
import os
import uuid

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.core.cache import cache
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.migrations.loader import MigrationLoader
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest

from handrail.web.ops.selectors import worker_readiness

logger = logging.getLogger(__name__)


@login_not_required
@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})


def _check_database() -> str:
    with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return "ok"


def _check_migrations() -> str:
    # Every migration of the graph, not only the leaves (`migrate --check` looks at leaves).
    loader = MigrationLoader(connections[DEFAULT_DB_ALIAS], ignore_no_migrations=True)
    missing = sorted(set(loader.graph.nodes) - set(loader.applied_migrations or {}))
    if missing:
        names = ", ".join(f"{app}.{name}" for app, name in missing[:5])
        return f"{len(missing)} migration(s) not applied: {names}; run manage.py migrate"
    return "ok"


def _check_cache() -> str:
    key = f"handrail:readyz:{uuid.uuid4().hex}"
    cache.set(key, "1", timeout=10)
    found = cache.get(key)
    cache.delete(key)
    return "ok" if found == "1" else "the cache did not return what was stored"


def _check_worker() -> str:
    return worker_readiness()


# Checks that decide readiness (503 when one fails), then those that only degrade it.
_REQUIRED = ("database", "migrations", "cache")


@login_not_required
@never_cache
@require_GET
def readyz(request: HttpRequest) -> JsonResponse:
    checks: dict[str, str] = {}
    for name, check in (
        ("database", _check_database),
        ("migrations", _check_migrations),
        ("cache", _check_cache),
        ("worker", _check_worker),
    ):
        if name in {"migrations", "worker"} and checks["database"] != "ok":
            checks[name] = "not checked: no database"
            continue
        try:
            checks[name] = check()
        except Exception as exc:  # a probe reports failures, it never raises them
            logger.warning("readiness check %s failed: %s", name, exc)
            checks[name] = f"failed: {type(exc).__name__}"
    ready = all(checks[name] == "ok" for name in _REQUIRED)
    status = "unavailable" if not ready else "ok" if checks["worker"] == "ok" else "degraded"
    return JsonResponse({"status": status, "checks": checks}, status=200 if ready else 503)


def _allowed(address: str) -> bool:
    try:
        client = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(client in network for network in settings.METRICS_ALLOWED_NETWORKS)


def _registry() -> CollectorRegistry:
    # Several gunicorn workers: each writes its samples under PROMETHEUS_MULTIPROC_DIR and
    # the scrape adds them up (prometheus_client's multiprocess mode).
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return registry
    return REGISTRY


@login_not_required
@never_cache
@require_GET
def metrics(request: HttpRequest) -> HttpResponse:
    # REMOTE_ADDR, never X-Forwarded-For: a client must not be able to name its own address.
    if not _allowed(request.META.get("REMOTE_ADDR", "")):
        return HttpResponse(
            "Metrics are served only to the addresses in METRICS_ALLOWED_IPS.\n",
            status=403,
            content_type="text/plain",
        )
    return HttpResponse(generate_latest(_registry()), content_type=CONTENT_TYPE_LATEST)

"""Request ids, structured logs and Prometheus metrics for the production server.

`RequestIdMiddleware` (first in MIDDLEWARE) gives every request an id: the proxy's
`X-Request-ID` when it is a plain token, else a new one. The id is echoed in the response's
`X-Request-ID`, put on every log record made while the request runs (`RequestIdFilter`, so
the JSON logs of settings.LOGGING carry `request_id`), and one access line per request goes
to the `handrail.request` logger. `MetricsMiddleware` counts requests and their durations by
route name (never by raw path: a patient id must not become a metric label).
"""

from __future__ import annotations

import logging
import re
import time
import uuid
from collections.abc import Callable
from contextvars import ContextVar

from django.http import HttpRequest, HttpResponse
from prometheus_client import Counter, Histogram

REQUEST_ID_HEADER = "X-Request-ID"
_VALID_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")
_request_id: ContextVar[str] = ContextVar("handrail_request_id", default="-")

access_log = logging.getLogger("handrail.request")

REQUESTS = Counter(
    "handrail_http_requests_total",
    "HTTP requests answered, by route name, method and status code.",
    ["route", "method", "status"],
)
DURATION = Histogram(
    "handrail_http_request_duration_seconds",
    "Time to answer an HTTP request, by route name.",
    ["route"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)


def current_request_id() -> str:
    return _request_id.get()


class RequestIdFilter(logging.Filter):
    """Adds `request_id` to every record ("-" outside a request)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = _request_id.get()
        return True


def _route(request: HttpRequest) -> str:
    match = getattr(request, "resolver_match", None)
    if match is None:
        return "unmatched"
    return match.view_name or "unnamed"


class RequestIdMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        offered = request.headers.get(REQUEST_ID_HEADER, "")
        request_id = offered if _VALID_ID.fullmatch(offered) else uuid.uuid4().hex
        token = _request_id.set(request_id)
        started = time.perf_counter()
        try:
            response = self.get_response(request)
            response[REQUEST_ID_HEADER] = request_id
            elapsed = time.perf_counter() - started
            user = getattr(request, "user", None)
            access_log.info(
                "%s %s %s %.1fms",
                request.method,
                request.path,
                response.status_code,
                elapsed * 1000,
                extra={
                    "method": request.method,
                    "path": request.path,
                    "status": response.status_code,
                    "duration_ms": round(elapsed * 1000, 1),
                    "route": _route(request),
                    "user_id": getattr(user, "pk", None),
                },
            )
            return response
        finally:
            _request_id.reset(token)


class MetricsMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        response = self.get_response(request)
        route = _route(request)
        DURATION.labels(route).observe(time.perf_counter() - started)
        REQUESTS.labels(route, request.method or "", str(response.status_code)).inc()
        return response

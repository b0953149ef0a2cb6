"""The Redis every node shares when REDIS_URL is set (settings.py "Past one machine"): the
sign-in failure counters (handrail.web.clinic.throttle) and the rule-set reload signal
(handrail.web.visits.engine) keep their state there. One client (a connection pool) per
process and URL; short timeouts so a Redis outage answers in seconds, never hangs a request.
"""

from __future__ import annotations

import threading

from django.conf import settings
from redis import Redis

# Every key Handrail writes starts with this (the cache uses Django's own "handrail:1:...").
KEY_PREFIX = "handrail:"
TIMEOUT_SECONDS = 2.0

_clients: dict[str, Redis] = {}
_lock = threading.Lock()


def redis_client() -> Redis | None:
    """The shared Redis, or None when REDIS_URL is not set (one machine: the database)."""
    url: str = settings.REDIS_URL
    if not url:
        return None
    client = _clients.get(url)
    if client is None:
        with _lock:
            client = _clients.get(url)
            if client is None:
                client = Redis.from_url(
                    url,
                    socket_timeout=TIMEOUT_SECONDS,
                    socket_connect_timeout=TIMEOUT_SECONDS,
                    health_check_interval=30,
                )
                _clients[url] = client
    return client

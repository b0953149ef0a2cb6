"""Session limits: an idle timeout and an absolute limit (OWASP Session Management Cheat
Sheet, "Session Expiration"; HIPAA 45 CFR 164.312(a)(2)(iii), automatic logoff).

- Idle: SESSION_IDLE_MINUTES (default 15) without activity signs the session out.
- Absolute: SESSION_ABSOLUTE_HOURS (default 12) after the sign-in, whatever the activity.

Both times live in the session (seconds since the epoch), written at sign-in. Activity is
recorded at most once a minute (`ACTIVITY_GRANULARITY`), so most requests do not rewrite
the session; the idle limit is therefore kept to within a minute.

Background requests are not activity: the note page asks the server for its timers every
10 seconds (`hx-trigger="every 10s"` on `#timer-poll`), and counting that would keep an
unattended note page signed in forever. A GET whose `HX-Trigger` header names one of
`BACKGROUND_TRIGGERS` is checked against the limits but does not extend the session, so
an open note page left alone is signed out after the idle time like any other page (its
next poll answers with `HX-Redirect` to the sign-in page, and the browser goes there).
Saves, clicks and page loads are activity.

A running timer is activity: a clinician who starts a line's timer and treats the patient
for 30 minutes without touching the keyboard is working, not away. So the idle time counts
from the later of the last request and the end of the user's last timer run, and not at
all while one of their timers runs (from any device; the absolute limit still applies, and
a run left going stops at midnight). This costs one query, only when the idle limit has
passed by requests alone.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.signals import user_logged_in
from django.db.models import Q
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse, HttpResponseBase, JsonResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode

STARTED = "handrail_signed_in_at"
SEEN = "handrail_active_at"
ACTIVITY_GRANULARITY = 60  # seconds
BACKGROUND_TRIGGERS = frozenset({"timer-poll"})
API_PREFIX = "/api/"


def _now() -> int:
    return int(timezone.now().timestamp())


@receiver(user_logged_in)
def _session_clock_start(
    sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any
) -> None:
    if request is not None and hasattr(request, "session"):
        now = _now()
        request.session[STARTED] = now
        request.session[SEEN] = now


def is_background(request: HttpRequest) -> bool:
    """A request the page makes on its own (a poll), not something the user did."""
    return request.method == "GET" and request.headers.get("HX-Trigger") in BACKGROUND_TRIGGERS


def expiry_reason(request: HttpRequest, now: int) -> str | None:
    """Why this session is over, or None. A session without the times (signed in before
    the limits existed) starts its clocks now."""
    session = request.session
    started = session.setdefault(STARTED, now)
    seen = session.setdefault(SEEN, now)
    if now - int(started) >= settings.SESSION_ABSOLUTE_HOURS * 3600:
        hours = settings.SESSION_ABSOLUTE_HOURS
        return f"You were signed out {hours} hour{'s' if hours != 1 else ''} after signing in."
    idle_limit = settings.SESSION_IDLE_MINUTES * 60
    if now - int(seen) >= idle_limit and not _timing_since(request, now - idle_limit):
        minutes = settings.SESSION_IDLE_MINUTES
        return f"You were signed out after {minutes} minutes without activity."
    return None


def _timing_since(request: HttpRequest, since: int) -> bool:
    """Has one of the user's timers run at any time after `since` (seconds)?"""
    from handrail.web.visits.models import TimerSegment

    after = datetime.fromtimestamp(since, tz=UTC)
    runs = TimerSegment.objects.filter(by_id=request.user.pk)
    timing: bool = runs.filter(Q(ended_at__isnull=True) | Q(ended_at__gt=after)).exists()
    return timing


class SessionLimitsMiddleware:
    """After authentication (and the messages middleware, in `process_view`): sign out a
    session past its limits, else record the activity."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        return self.get_response(request)

    def process_view(
        self,
        request: HttpRequest,
        view_func: Callable[..., Any],
        view_args: tuple[Any, ...],
        view_kwargs: dict[str, Any],
    ) -> HttpResponseBase | None:
        if not request.user.is_authenticated:
            return None
        now = _now()
        reason = expiry_reason(request, now)
        if reason is None:
            if not is_background(request) and now - int(request.session[SEEN]) >= (
                ACTIVITY_GRANULARITY
            ):
                request.session[SEEN] = now
            return None
        logout(request)
        return _signed_out(request, reason)


def _signed_out(request: HttpRequest, reason: str) -> HttpResponseBase:
    if request.path_info.startswith(API_PREFIX):
        return JsonResponse({"detail": reason + " Sign in again.", "errors": None}, status=401)
    messages.info(request, reason)
    # Back to the page the user was on (for a poll or a save: the page that made it).
    back = request.headers.get("HX-Current-URL", "") if request.headers.get("HX-Request") else ""
    back_path = _path_of(back) or (request.get_full_path() if request.method == "GET" else "")
    target = reverse("login") + ("?" + urlencode({"next": back_path}) if back_path else "")
    if request.headers.get("HX-Request"):
        response = HttpResponse(status=200)
        response["HX-Redirect"] = target  # htmx navigates the whole page there
        return response
    return redirect(target)


def _path_of(url: str) -> str:
    """The path and query of a same-site URL from HX-Current-URL ('' if none)."""
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    if not parts.path.startswith("/"):
        return ""
    return parts.path + (f"?{parts.query}" if parts.query else "")

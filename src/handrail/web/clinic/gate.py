"""The sign-in gate: steps a signed-in user must finish before anything else, in order:

1. the code from their authenticator app (or a recovery code, or a passkey), when they have
   set up two-factor sign-in (`two_factor`): the password alone is not a sign-in;
2. their own password, when a clinic admin set the current one (`must_change_password`);
3. setting up two-factor sign-in, when their role requires it (OTP_REQUIRED_ROLES).

Until a step is done, every page redirects to the step's page (with `next` back to where
they were going), the JSON API answers 403 with a message saying what to do, and only the
step's page, signing out and the open pages (`login_not_required`: sign-in, health probes)
answer as usual. The checks read the user row and the session only: no query is added to
a request of a user who is through.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, cast

from django.http import HttpRequest, HttpResponseBase, JsonResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import urlencode

from handrail.web.clinic.models import User
from handrail.web.clinic.two_factor import (
    NONE,
    PENDING,
    SESSION_KEY,
    VERIFIED,
    session_state,
    two_factor_enrolled,
    two_factor_required,
)

API_PREFIX = "/api/"


@dataclass(frozen=True)
class Step:
    url_name: str
    message: str
    also: tuple[str, ...] = ()  # other views that belong to the step


CHANGE_PASSWORD = Step(
    "password-change",
    "Your password was set by a clinic admin: change it at /account/password/ first.",
)


GIVE_CODE = Step(
    "two-factor-verify",
    "Sign-in is not finished: give the code from your authenticator app at "
    "/account/two-factor/verify/ first.",
    also=("passkey-auth-begin", "passkey-auth-complete"),
)
SET_UP_TWO_FACTOR = Step(
    "two-factor",
    "Your role must sign in with a second factor: set it up at /account/two-factor/ first.",
)


def pending_step(request: HttpRequest) -> Step | None:
    """The first step this request's user still has to finish, if any."""
    user = cast(User, request.user)
    state = session_state(request)
    required = two_factor_required(user)
    if state == NONE and required and two_factor_enrolled(user):
        # A session that started before the user's devices were known (rare: one query).
        state = request.session[SESSION_KEY] = PENDING
    if state == PENDING:
        return GIVE_CODE
    if user.must_change_password:
        return CHANGE_PASSWORD
    if required and state != VERIFIED:
        return SET_UP_TWO_FACTOR
    return None


class SignInGateMiddleware:
    """After authentication: hold a signed-in user at their pending step."""

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
        step = pending_step(request)
        if step is None or _passes(request, view_func, step):
            return None
        if request.path_info.startswith(API_PREFIX):
            return JsonResponse({"detail": step.message, "errors": None}, status=403)
        target = reverse(step.url_name)
        if request.method == "GET":
            target += "?" + urlencode({"next": request.get_full_path()})
        return redirect(target)


def _passes(request: HttpRequest, view_func: Callable[..., Any], step: Step) -> bool:
    """The step's own page, signing out, and the pages open to everyone."""
    if not getattr(view_func, "login_required", True):
        return True
    match = request.resolver_match
    return match is not None and match.view_name in (step.url_name, "logout", *step.also)

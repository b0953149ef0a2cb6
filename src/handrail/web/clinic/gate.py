"""The sign-in gate: steps a signed-in user must finish before anything else.

Today one step: a password set by a clinic admin must be replaced by the user's own
(`User.must_change_password`). Until it is, every page redirects to the step's page (with
`next` back to where they were going), the JSON API answers 403 with a message saying what
to do, and only the step's page, signing out and the open pages (`login_not_required`:
sign-in, health probes) answer as usual.
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

API_PREFIX = "/api/"


@dataclass(frozen=True)
class Step:
    url_name: str
    message: str


CHANGE_PASSWORD = Step(
    "password-change",
    "Your password was set by a clinic admin: change it at /account/password/ first.",
)


def pending_step(request: HttpRequest) -> Step | None:
    """The first step this request's user still has to finish, if any."""
    user = cast(User, request.user)
    if user.must_change_password:
        return CHANGE_PASSWORD
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
    return match is not None and match.view_name in (step.url_name, "logout")

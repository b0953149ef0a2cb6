"""Login required everywhere, the security headers every response carries, and no NUL
character in any field."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib.auth.middleware import LoginRequiredMiddleware as DjangoLoginRequired
from django.http import HttpRequest, HttpResponse, HttpResponseBase

from handrail.web.ops.errors import bad_input

# The JSON API answers 401 itself (session auth) instead of redirecting to the login page.
_SELF_AUTHENTICATED_PREFIXES = ("/api/",)


class LoginRequiredMiddleware(DjangoLoginRequired):
    """Django 5.1's login-required middleware; only views marked `login_not_required`
    (the login page) and the static files are open. The API authenticates on its own."""

    def process_view(
        self,
        request: HttpRequest,
        view_func: Callable[..., Any],
        view_args: tuple[Any, ...],
        view_kwargs: dict[str, Any],
    ) -> HttpResponseBase | None:
        if request.path_info.startswith(_SELF_AUTHENTICATED_PREFIXES):
            return None
        return super().process_view(request, view_func, view_args, view_kwargs)


class SecurityHeadersMiddleware:
    """Content-Security-Policy and Permissions-Policy on every response (no inline scripts),
    and no caching of pages that may show patient data."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.setdefault("Content-Security-Policy", settings.CONTENT_SECURITY_POLICY)
        response.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
        if not request.path_info.startswith(settings.STATIC_URL):
            response.setdefault("Cache-Control", "no-store")
        return response


NUL = "\x00"
SHOWN_NUL = "\\x00"


def _nul_in_json(value: Any, path: str) -> str | None:
    """The path of the first string (or key) of a JSON value holding a NUL."""
    if isinstance(value, str):
        return path if NUL in value else None
    items: list[tuple[str, Any]] = []
    if isinstance(value, dict):
        for key, inner in value.items():
            if NUL in key:
                shown = key.replace(NUL, SHOWN_NUL)
                return f"{path}.{shown}" if path else shown
            items.append((f"{path}.{key}" if path else key, inner))
    elif isinstance(value, list):
        items = [(f"{path}[{index}]", inner) for index, inner in enumerate(value)]
    for inner_path, inner in items:
        found = _nul_in_json(inner, inner_path)
        if found is not None:
            return found
    return None


def nul_field(request: HttpRequest) -> str | None:
    """The name of the first part of the request holding a NUL character, or None."""
    if NUL in request.path:
        return "The address"
    sources = [request.GET]
    if request.method == "POST" and request.content_type in (
        "application/x-www-form-urlencoded",
        "multipart/form-data",
    ):
        sources.append(request.POST)  # form fields; uploaded files are not text
    for source in sources:
        for key, values in source.lists():
            if NUL in key or any(NUL in value for value in values):
                return f"Field '{key.replace(NUL, SHOWN_NUL)}'"
    if request.content_type == "application/json":
        body = request.body
        if b"\\u0000" in body or b"\x00" in body:
            try:
                data = json.loads(body)
            except ValueError:
                return None  # malformed JSON: the API says so itself
            found = _nul_in_json(data, "")
            if found is not None:
                return f"Field '{found}'" if found else "The JSON body"
    return None


class NulCharacterMiddleware:
    """Refuses a request with a NUL character in its address or any field: 400 naming the
    field. No text Handrail keeps may hold one, and PostgreSQL refuses it in a query or a
    row, so a view that passed one on unchecked answered 500 there (a program template's
    title did). Forms refuse it too (Django's ProhibitNullCharactersValidator); this covers
    the views and API schemas that read fields without a form."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        field = nul_field(request)
        if field is not None:
            return bad_input(
                request,
                f"{field} holds a NUL character (\\x00), which no field may hold; remove it.",
            )
        return self.get_response(request)

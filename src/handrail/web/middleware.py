"""Login required everywhere, and the security headers every response carries."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib.auth.middleware import LoginRequiredMiddleware as DjangoLoginRequired
from django.http import HttpRequest, HttpResponse, HttpResponseBase

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

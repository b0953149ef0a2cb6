"""A test-only URL conf: the app's URLs and handlers plus views that fail on purpose."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.urls import path

from handrail.web.urls import handler400, handler403, handler404, handler500, urlpatterns


class DeliberateError(RuntimeError):
    pass


def boom_view(request: HttpRequest) -> HttpResponse:
    raise DeliberateError("a deliberate failure for the 500 page test")


urlpatterns = [
    path("boom/", boom_view),
    path("api/boom/", boom_view),
    *urlpatterns,
]

__all__ = ["handler400", "handler403", "handler404", "handler500", "urlpatterns"]

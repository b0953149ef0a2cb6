"""The 400, 403, 404 and 500 pages (urls.py's handlers) and the CSRF failure page.

Each says what happened and where to go next, in the app's layout; none shows a traceback,
whatever DEBUG is. The JSON API gets the same answers as JSON (`{"detail": ...}`), like its
own error handlers. Unhandled exceptions are logged with their traceback by Django's
`django.request` logger before the 500 handler runs (settings.LOGGING prints it).
"""

from __future__ import annotations

import logging

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.loader import render_to_string
from django.views.decorators.csrf import requires_csrf_token

logger = logging.getLogger(__name__)

_API_PREFIX = "/api/"

# Shown when a template cannot be rendered at all (e.g. the database is down and the layout
# needs the signed-in user): plain HTML, no template, no database.
_BARE_500 = (
    "<!doctype html><html lang=en><head><meta charset=utf-8><title>Server error · Handrail"
    "</title></head><body><main><h1>Something went wrong on our side</h1><p>Your last change "
    "may not have been saved. Go back, reload the page and check it; if this keeps happening, "
    "tell your clinic's Handrail administrator the time it happened.</p>"
    '<p><a href="/">Back to Handrail</a></p></main></body></html>'
)


def _is_api(request: HttpRequest) -> bool:
    return request.path_info.startswith(_API_PREFIX)


def _page(
    request: HttpRequest, status: int, context: dict[str, object], *, with_user: bool = True
) -> HttpResponse:
    context = {"status": status, **context}
    html = render_to_string("ops/error.html", context, request if with_user else None)
    return HttpResponse(html, status=status)


def bad_input(request: HttpRequest, message: str) -> HttpResponse:
    """A 400 that names what was wrong with the request and how to fix it."""
    if _is_api(request):
        return JsonResponse({"detail": message}, status=400)
    return _page(
        request,
        400,
        {
            "title": "This request could not be understood",
            "what": f"{message} Nothing was done with it.",
            "next": "Go back, correct it and send it again.",
        },
    )


@requires_csrf_token
def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if _is_api(request):
        return JsonResponse({"detail": "Bad Request"}, status=400)
    return _page(
        request,
        400,
        {
            "title": "This request could not be understood",
            "what": "The address or the form sent to Handrail was malformed, so nothing was "
            "done with it.",
            "next": "Go back, reload the page and try again.",
        },
    )


@requires_csrf_token
def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    # PermissionDenied messages are ours (permissions.py, services): they say which role may.
    reason = str(exception) if isinstance(exception, PermissionDenied) else ""
    if _is_api(request):
        return JsonResponse({"detail": reason or "Forbidden"}, status=403)
    return _page(
        request,
        403,
        {
            "title": "You do not have access to this page",
            "what": reason or "Your role in this clinic does not allow this page or action.",
            "next": "If you need it for your work, ask your clinic's Handrail administrator "
            "to change your role.",
        },
    )


@requires_csrf_token
def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if _is_api(request):
        return JsonResponse({"detail": "Not Found"}, status=404)
    return _page(
        request,
        404,
        {
            "title": "We could not find that page",
            "what": "The address may be mistyped, or the record it points to was removed or "
            "belongs to another clinic.",
            "next": "Find the patient from the patient list, or check your work on the worklists.",
            "path": request.path,
        },
    )


@requires_csrf_token
def server_error(request: HttpRequest) -> HttpResponse:
    if _is_api(request):
        return JsonResponse({"detail": "Internal Server Error"}, status=500)
    context: dict[str, object] = {
        "title": "Something went wrong on our side",
        "what": "Handrail could not finish this request. Your last change may not have been "
        "saved.",
        "next": "Go back, reload the page and check it. If this keeps happening, tell your "
        "clinic's Handrail administrator the time it happened: the details are in the "
        "server's log.",
    }
    try:
        # Without the request: no context processors, so no database query for the user.
        return _page(request, 500, context, with_user=False)
    except Exception:
        logger.exception("the 500 page itself failed to render")
        return HttpResponse(_BARE_500, status=500)


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """CSRF_FAILURE_VIEW: most often a form left open past the session or a sign-out."""
    if _is_api(request):
        return JsonResponse({"detail": f"CSRF check failed: {reason}"}, status=403)
    return _page(
        request,
        403,
        {
            "title": "This form has expired",
            "what": "Handrail could not confirm the form came from this page (it was open "
            "before you signed in again, or cookies are blocked). Nothing was saved.",
            "next": "Reload the page, enter your change again and send it.",
        },
        with_user=False,
    )

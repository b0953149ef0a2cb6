"""Worklist pages: /worklists/ shows every list the user may see; /worklists/<kind>/ one."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from handrail.web.clinic.models import User
from handrail.web.clinic.permissions import can_view_clinical
from handrail.web.clinic.views import current_user
from handrail.web.worklists import selectors

KINDS = {
    "unsigned": "Unsigned notes",
    "progress-reports": "Progress reports due",
    "recertifications": "Recertifications due",
    "authorizations": "Authorizations running out or expired",
    "threshold": "Nearing the threshold",
}
LIST_KEY = {
    "unsigned": "unsigned",
    "progress-reports": "progress",
    "recertifications": "recerts",
    "authorizations": "authorizations",
    "threshold": "threshold",
}


def _lists(user: User, kinds: tuple[str, ...]) -> dict[str, Any]:
    today = timezone.localdate()
    out: dict[str, Any] = {}
    if "unsigned" in kinds:
        out["unsigned"] = selectors.unsigned_notes(user=user)
        out["cosign"] = selectors.cosign_needed(user=user)
    if "progress-reports" in kinds:
        out["progress"] = selectors.progress_reports_due(user=user, today=today)
    if "recertifications" in kinds:
        out["recerts"] = selectors.recertifications_due(user=user, today=today)
    if "authorizations" in kinds:
        out["authorizations"] = selectors.authorizations_running_out(user=user, today=today)
    if "threshold" in kinds:
        out["threshold"] = selectors.threshold_nearing(user=user, today=today)
    return out


def _visible(user: User) -> tuple[str, ...]:
    if can_view_clinical(user):
        return tuple(KINDS)
    return ("authorizations",)


@require_GET
def index_view(request: HttpRequest) -> HttpResponse:
    return _page(request, None)


@require_GET
def kind_view(request: HttpRequest, kind: str) -> HttpResponse:
    if kind not in KINDS:
        raise Http404("No such worklist.")
    return _page(request, kind)


def _page(request: HttpRequest, kind: str | None) -> HttpResponse:
    user = current_user(request)
    visible = _visible(user)
    if kind is not None and kind not in visible:
        raise PermissionDenied("Your role cannot see clinical worklists.")
    # Every visible list is computed for the tab counts; a clinic's lists are short.
    lists = _lists(user, visible)
    return render(
        request,
        "worklists/index.html",
        {
            "nav": "worklists",
            "kind": kind,
            "title": KINDS[kind] if kind else "Worklists",
            "tabs": [(k, KINDS[k], len(lists[LIST_KEY[k]])) for k in visible],
            "shown": (kind,) if kind else visible,
            "today": timezone.localdate(),
            "mine": user.is_clinician,
            **lists,
        },
    )

"""Worklist pages: /worklists/ shows every list the user may see (the first rows of each);
/worklists/<kind>/ one list, a page at a time."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from django.core.exceptions import PermissionDenied
from django.core.paginator import Page, Paginator
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from handrail.web.audit.reads import audit_read
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
_Rows = QuerySet[Any] | Sequence[Any] | selectors.Rows[Any, Any]
# Rows per page of one list; the overview shows the first rows of each with a link to all.
PAGE_SIZE = 50
PREVIEW_SIZE = 10


class _Lists:
    """Builds each list at most once per request; the case-based lists share one fetch of
    the open cases (OpenCases), so the page costs a fixed number of queries. A tab's count
    is its list's length: a COUNT in the database for the note lists, the number of rows
    chosen (selectors.Rows) for the case lists, whose whole rows are fetched only for the
    page shown."""

    def __init__(self, user: User, today: date) -> None:
        self.user = user
        self.today = today
        self._cases: selectors.OpenCases | None = None
        self._built: dict[str, _Rows] = {}

    def cases(self) -> selectors.OpenCases:
        if self._cases is None:
            self._cases = selectors.open_cases(user=self.user, today=self.today)
        return self._cases

    def rows(self, key: str) -> _Rows:
        if key not in self._built:
            self._built[key] = self._build(key)
        return self._built[key]

    def _build(self, key: str) -> _Rows:
        user, today = self.user, self.today
        if key == "unsigned":
            return selectors.unsigned_notes_query(user=user)
        if key == "cosign":
            return selectors.cosign_needed_query(user=user)
        if key == "progress":
            return selectors.progress_report_rows(user=user, today=today, cases=self.cases())
        if key == "recerts":
            return selectors.recertification_rows(user=user, today=today, cases=self.cases())
        if key == "authorizations":
            return selectors.authorization_rows(user=user, today=today, cases=self.cases())
        if key == "threshold":
            return selectors.threshold_nearing(user=user, today=today)
        raise KeyError(key)

    def count(self, key: str) -> int:
        rows = self.rows(key)
        # A query is counted in the database, never fetched for its length; Rows counts
        # its chosen rows without fetching them.
        return rows.count() if isinstance(rows, QuerySet) else len(rows)


def _visible(user: User) -> tuple[str, ...]:
    if can_view_clinical(user):
        return tuple(KINDS)
    return ("authorizations",)


@audit_read("worklists")
@require_GET
def index_view(request: HttpRequest) -> HttpResponse:
    return _page(request, None)


@audit_read("worklist")
@require_GET
def kind_view(request: HttpRequest, kind: str) -> HttpResponse:
    if kind not in KINDS:
        raise Http404("No such worklist.")
    return _page(request, kind)


def _paged(rows: _Rows, number: str | None, size: int) -> Page[Any]:
    # An out-of-range or malformed page number shows the nearest page, never an error.
    return Paginator(rows, size).get_page(number)


def _page(request: HttpRequest, kind: str | None) -> HttpResponse:
    user = current_user(request)
    visible = _visible(user)
    if kind is not None and kind not in visible:
        raise PermissionDenied("Your role cannot see clinical worklists.")
    today = timezone.localdate()
    lists = _Lists(user, today)
    shown = (kind,) if kind else visible
    size = PAGE_SIZE if kind else PREVIEW_SIZE
    pages: dict[str, Page[Any]] = {}
    for shown_kind in shown:
        key = LIST_KEY[shown_kind]
        pages[key] = _paged(lists.rows(key), request.GET.get("page") if kind else None, size)
        if key == "unsigned":
            pages["cosign"] = _paged(
                lists.rows("cosign"), request.GET.get("cosign_page") if kind else None, size
            )
    counts = {LIST_KEY[k]: pages[LIST_KEY[k]].paginator.count for k in shown}
    for k in visible:
        if LIST_KEY[k] not in counts:
            counts[LIST_KEY[k]] = lists.count(LIST_KEY[k])
    if "cosign" in pages:
        counts["cosign"] = pages["cosign"].paginator.count
    return render(
        request,
        "worklists/index.html",
        {
            "nav": "worklists",
            "kind": kind,
            "title": KINDS[kind] if kind else "Worklists",
            "tabs": [(k, KINDS[k], counts[LIST_KEY[k]]) for k in visible],
            "shown": shown,
            "today": today,
            "mine": user.is_clinician,
            "counts": counts,
            "pages": pages,
            **{key: page.object_list for key, page in pages.items()},
        },
    )

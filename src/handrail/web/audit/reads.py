"""The read audit (issue 10; HIPAA §164.312(b) audit controls): every response that carries
patient data records exactly one VIEW event, through one decorator on the page or API
operation, never by calls inside the views.

    @audit_read("note")
    def note_view(request, visit_id): ...

    @api.get("/visits/{visit_id}")
    @decorate_view(audit_read("api visit"))
    def visits_detail(request, visit_id): ...

The event names the user, the clinic, what was read (`what`), the object and its patient,
found from the URL's id (visit_id, case_id...) by one query; a list (no id in the URL) is
one event naming the list and its query. Only a successful answer (2xx) is recorded: a 403,
404 or a refused form shows no patient data. tests/web/test_read_audit.py walks the URLconf
so a page or endpoint that is neither audited nor listed as carrying no patient data fails.

One event per page view, not one per poll: the note page asks the server for its timers
every 10 seconds. A view decorated with `audit_read(..., part_of_page=True)` records nothing
when the request carries the page's token (`page_token`, put by the page in the URL of its
own background requests): signed with the user, the object and the time, it shows that the
page those requests come from was rendered for this user and recorded as its view. The same
URL asked without the token (another tab's script, an outside client) records as any read.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar, cast

from django.apps import apps
from django.conf import settings
from django.core import signing
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse

from handrail.web.audit.models import AuditAction, AuditEvent
from handrail.web.clinic.models import User

View = TypeVar("View", bound=Callable[..., HttpResponse])

# The URL's id that names the object read, in order of precedence (a line's URL also names
# its visit: the visit is the object), with its model and the path from it to its patient.
OWNERS: tuple[tuple[str, str, str], ...] = (
    ("visit_id", "visits.Visit", "case__patient_id"),
    ("claim_id", "billing.Claim", "patient_id"),
    ("authorization_id", "care.Authorization", "case__patient_id"),
    ("plan_id", "care.PlanOfCare", "case__patient_id"),
    ("case_id", "care.Case", "patient_id"),
    ("program_id", "programs.Program", "patient_id"),
    ("patient_id", "clinic.Patient", "pk"),
)
# Query parameters worth keeping with a list's event (a search term, a filter, a page).
LIST_PARAMETERS = ("q", "status", "page", "offset", "limit", "from", "to", "payer", "state")
MARKER = "audit_read"
# The query parameter that carries a page's token to its background requests.
PAGE_TOKEN = "audited"
_PAGE_SALT = "handrail.audit.page-view"


def audit_read(what: str, *, part_of_page: bool = False) -> Callable[[View], View]:
    """Record one VIEW event for each successful response of the decorated view. With
    `part_of_page`, a request carrying its page's valid token records nothing: the page's
    own view event covers it."""

    def decorate(view: View) -> View:
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            response = view(request, *args, **kwargs)
            if (
                200 <= response.status_code < 300
                and request.user.is_authenticated
                and not (part_of_page and _covered(request, kwargs))
            ):
                audit_read_record(user=request.user, what=what, request=request, url_ids=kwargs)
            return response

        setattr(wrapper, MARKER, what)
        return cast(View, wrapper)

    return decorate


def _page_value(user_id: int, url_ids: dict[str, Any]) -> list[Any]:
    return [user_id, sorted((str(name), str(value)) for name, value in url_ids.items())]


def page_token(*, user: User, url_ids: dict[str, Any]) -> str:
    """The token a page puts in the URL of its own polls (query parameter `audited`): the user
    and the object the page shows (the URL ids of the polled view), signed and timestamped."""
    return signing.dumps(_page_value(user.pk, url_ids), salt=_PAGE_SALT)


def _covered(request: HttpRequest, url_ids: dict[str, Any]) -> bool:
    """Whether the request carries a valid token of a page of this user and object (no older
    than a session can be: a token from a signed-out session is refused)."""
    token = request.GET.get(PAGE_TOKEN, "")
    if not token:
        return False
    try:
        value = signing.loads(
            token, salt=_PAGE_SALT, max_age=settings.SESSION_ABSOLUTE_HOURS * 3600
        )
    except signing.BadSignature:  # also SignatureExpired
        return False
    if request.user.pk is None:
        return False
    # JSON turns the pairs into lists: compare in the same shape.
    expected = _page_value(request.user.pk, url_ids)
    return bool(value == [expected[0], [list(pair) for pair in expected[1]]])


def _owner(url_ids: dict[str, Any]) -> tuple[str, str, int | None] | None:
    """(object type, object id, patient id) of the object the URL names, or None (a list)."""
    for name, label, to_patient in OWNERS:
        if name in url_ids:
            model = apps.get_model(label)
            object_id = int(url_ids[name])
            patient_id = (
                model._default_manager.filter(pk=object_id)
                .values_list(to_patient, flat=True)
                .first()
            )
            return model._meta.model_name or name, str(object_id), patient_id
    return None


def _list_detail(what: str, request: HttpRequest) -> str:
    shown = [
        f"{name}={request.GET[name]}" for name in LIST_PARAMETERS if request.GET.get(name, "")
    ]
    return f"{what} ({', '.join(shown)})" if shown else what


def audit_read_record(
    *, user: User, what: str, request: HttpRequest, url_ids: dict[str, Any]
) -> AuditEvent:
    """One VIEW event: the object the URL names and its patient, or the list read."""
    owner = _owner(url_ids)
    if owner is None:
        object_type, object_id, patient_id, detail = (
            "list",
            what[:40],
            None,
            _list_detail(what, request),
        )
    else:
        (object_type, object_id, patient_id), detail = owner, what
    clinic_id = user.clinic_id
    if clinic_id is None and patient_id is not None:  # a superuser: the patient's clinic
        clinic_id = (
            apps.get_model("clinic.Patient")
            ._default_manager.filter(pk=patient_id)
            .values_list("clinic_id", flat=True)
            .first()
        )
    if clinic_id is None:
        raise PermissionDenied("Your account belongs to no clinic.")
    return AuditEvent.objects.create(
        clinic_id=clinic_id,
        user=user,
        action=AuditAction.VIEW,
        object_type=object_type,
        object_id=object_id,
        patient_id=patient_id,
        detail=detail[:300],
    )

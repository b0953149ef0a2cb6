"""The JSON API (django-ninja), mounted at /api/ with its schema at /api/openapi.json.

Session authentication with CSRF (django-ninja's SessionAuth checks the CSRF token on unsafe
methods). Every endpoint parses input, calls one service or selector and serialises the
answer; errors become documented 4xx responses naming the field, never a 500.
"""

from __future__ import annotations

from typing import Annotated, Any, cast

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError
from django.http import Http404, HttpRequest, HttpResponse
from django.utils import timezone
from ninja import NinjaAPI
from ninja.decorators import decorate_view
from ninja.params.functions import Path, Query
from ninja.responses import Status
from ninja.security import django_auth
from pydantic import ValidationError as PydanticValidationError

from handrail.web.api.billing import router as billing_router
from handrail.web.api.programs import router as programs_router
from handrail.web.api.schemas import (
    AddendumIn,
    AddendumOut,
    AuthorizationEndIn,
    AuthorizationIn,
    AuthorizationOut,
    AuthorizationUpdateIn,
    CaseOut,
    CountersOut,
    CoverageIn,
    CoverageOut,
    DischargeIn,
    ErrorOut,
    EvaluationOut,
    LineIn,
    LineOut,
    LineUpdateIn,
    PatientDetailOut,
    PatientOut,
    SegmentIn,
    SegmentOut,
    ShortText,
    SignIn,
    SubscriberOut,
    TimerOut,
    TimerStartOut,
    TimerStopOut,
    ValidationErrorOut,
    VisitCreatedOut,
    VisitCreateIn,
    VisitOut,
    VisitUpdateIn,
)
from handrail.web.audit.reads import audit_read
from handrail.web.care import services as care_services
from handrail.web.care.models import Authorization
from handrail.web.care.selectors import (
    AuthorizationUsage,
    authorization_get,
    authorization_list,
    authorization_usage,
    authorization_warnings,
    case_get,
    case_list,
)
from handrail.web.clinic import services as clinic_services
from handrail.web.clinic.models import Coverage, Payer, Relationship, User
from handrail.web.clinic.permissions import can_view_clinical, clinic_id_of, require
from handrail.web.clinic.selectors import coverage_list, patient_get, patient_list
from handrail.web.visits import services as visit_services
from handrail.web.visits.engine import EngineUnavailableError
from handrail.web.visits.models import ServiceLine, TimerSegment, Visit
from handrail.web.visits.selectors import case_counters, visit_get, visit_needs_cosign

MAX_ID = 2_147_483_647
ERRORS: dict[int, Any] = {
    400: ErrorOut,
    401: ErrorOut,
    403: ErrorOut,
    404: ErrorOut,
    422: ValidationErrorOut,
}
ENGINE_ERRORS: dict[int, Any] = {**ERRORS, 503: ErrorOut}
SIGN_ERRORS: dict[int, Any] = {**ENGINE_ERRORS, 409: ErrorOut}
EDIT_ERRORS: dict[int, Any] = {**ERRORS, 409: ErrorOut}

api = NinjaAPI(
    title="Handrail clinic API",
    version="1",
    description="Patients, cases, authorizations, visits, service lines, timers, evaluation "
    "and signing; the home-program library, programs, their items, issuing and handouts. "
    "Timers run on the server: start and stop them per line; "
    "GET .../timers shows running ones on every device. "
    "Session authentication: sign in at /login/ and send the csrftoken cookie's value in "
    "the X-CSRFToken header on POST, PATCH and DELETE. "
    "The pattern hub's endpoints (/api/hub/...) are for other clinics' servers instead: "
    "they take the enrolment key the hub's admin issued (Authorization: Bearer hrk_...).",
    auth=django_auth,
    urls_namespace="api",
    docs_url=None,  # ninja's docs page loads Swagger UI from a CDN; we ship no CDN assets
)

IdPath = Annotated[int, Path(ge=1, le=MAX_ID)]
Limit = Annotated[int, Query(ge=1, le=500)]
Offset = Annotated[int, Query(ge=0, le=1_000_000)]


def _user(request: HttpRequest) -> User:
    return cast(User, request.user)


def _error(request: HttpRequest, status: int, detail: str, errors: Any = None) -> HttpResponse:
    return api.create_response(request, {"detail": detail, "errors": errors}, status=status)


@api.exception_handler(DjangoValidationError)
def _validation_error(request: HttpRequest, exc: DjangoValidationError) -> HttpResponse:
    errors = (
        {name: [str(m) for m in messages] for name, messages in exc.message_dict.items()}
        if hasattr(exc, "error_dict")
        else {"__all__": [str(m) for m in exc.messages]}
    )
    first_field, first_messages = next(iter(errors.items()))
    return _error(request, 400, f"{first_field}: {first_messages[0]}", errors)


@api.exception_handler(visit_services.NoteSignedError)
def _note_signed(request: HttpRequest, exc: visit_services.NoteSignedError) -> HttpResponse:
    # Someone else signed (or co-signed) the note first: a conflict, not bad input.
    return _error(request, 409, f"status: {exc.messages[0]}", {"status": exc.messages})


@api.exception_handler(visit_services.StaleEditError)
def _stale_edit(request: HttpRequest, exc: visit_services.StaleEditError) -> HttpResponse:
    # The change was based on an older version than the stored one: someone else saved in
    # between. Nothing was saved; the message names who and when, as the note page does.
    return _error(request, 409, f"version: {exc.messages[0]}", {"version": exc.messages})


@api.exception_handler(visit_services.TimerConflictError)
def _timer_conflict(request: HttpRequest, exc: visit_services.TimerConflictError) -> HttpResponse:
    # The line's timer already runs, or a sign came while one runs: the server's state
    # disagrees with the request, a conflict.
    return _error(request, 409, f"timer: {exc.messages[0]}", {"timer": exc.messages})


@api.exception_handler(visit_services.ReconcileNeededError)
def _reconcile_needed(
    request: HttpRequest, exc: visit_services.ReconcileNeededError
) -> HttpResponse:
    lines = "; ".join(exc.messages)
    return _error(
        request,
        409,
        f"reconcile: billed minutes and timers disagree on {lines}. Sign with a reconcile "
        'choice per line: {"line_id": N, "choice": "timer"} or {"line_id": N, "choice": '
        '"keep", "reason": "..."}, or change the minutes first.',
        {"reconcile": exc.messages},
    )


@api.exception_handler(PermissionDenied)
def _permission_denied(request: HttpRequest, exc: PermissionDenied) -> HttpResponse:
    return _error(request, 403, str(exc) or "Forbidden")


@api.exception_handler(Http404)
def _not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    return _error(request, 404, "Not Found")


@api.exception_handler(IntegrityError)
def _integrity_error(request: HttpRequest, exc: IntegrityError) -> HttpResponse:
    # A concurrent request won a uniqueness race (e.g. the same visit created twice).
    return _error(request, 400, "The change conflicts with another record; reload and retry.")


@api.exception_handler(EngineUnavailableError)
def _engine_unavailable(request: HttpRequest, exc: EngineUnavailableError) -> HttpResponse:
    return _error(request, 503, f"Evaluation is unavailable: {exc}")


# Patients -----------------------------------------------------------------------------------


@api.get("/patients", response={200: list[PatientOut], **ERRORS}, tags=["patients"])
@decorate_view(audit_read("api patient list"))
def patients_list(
    request: HttpRequest,
    q: ShortText = "",
    limit: Limit = 50,
    offset: Offset = 0,
) -> Any:
    """Patients of your clinic, by name; `q` filters on name or phone."""
    return list(patient_list(user=_user(request), query=q)[offset : offset + limit])


@api.get("/patients/{patient_id}", response={200: PatientDetailOut, **ERRORS}, tags=["patients"])
@decorate_view(audit_read("api patient"))
def patients_detail(request: HttpRequest, patient_id: IdPath) -> Any:
    user = _user(request)
    patient = patient_get(user=user, patient_id=patient_id)
    coverages = [_coverage_out(c) for c in coverage_list(patient=patient)]
    cases = (
        [CaseOut.from_orm(c) for c in case_list(user=user, patient=patient)]
        if can_view_clinical(user)
        else []
    )
    return PatientDetailOut(
        **PatientOut.from_orm(patient).dict(),
        address=patient.address,
        coverages=coverages,
        cases=cases,
    )


def _coverage_out(coverage: Coverage) -> CoverageOut:
    subscriber = None
    if coverage.relationship != Relationship.SELF:
        subscriber = SubscriberOut(
            first_name=coverage.subscriber_first_name,
            last_name=coverage.subscriber_last_name,
            birth_date=coverage.subscriber_birth_date,
            sex=coverage.subscriber_sex,
        )
    return CoverageOut(
        order=coverage.order,
        payer_id=coverage.payer_id,
        payer=coverage.payer.name,
        payer_type=coverage.payer.type,
        member_id=coverage.member_id,
        relationship=coverage.relationship,
        subscriber=subscriber,
    )


@api.post(
    "/patients/{patient_id}/coverages",
    response={200: CoverageOut, **ERRORS},
    tags=["patients"],
)
def patients_coverage_set(request: HttpRequest, payload: CoverageIn, patient_id: IdPath) -> Any:
    """Add or replace the patient's primary or secondary coverage, with the insured when the
    patient is not the insured."""
    user = _user(request)
    patient = patient_get(user=user, patient_id=patient_id)
    if payload.relationship == "18" and payload.subscriber is not None:
        raise DjangoValidationError(
            {"subscriber": "Leave subscriber out when relationship is 18 (self): the patient "
             "is the insured."}
        )  # fmt: skip
    if payload.relationship != "18" and payload.subscriber is None:
        raise DjangoValidationError(
            {"subscriber": f"Relationship {payload.relationship} (the patient is not the "
             "insured) needs the insured's first_name, last_name, birth_date and sex."}
        )  # fmt: skip
    subscriber = payload.subscriber
    coverage = clinic_services.coverage_set(
        user=user,
        patient=patient,
        payer=_payer(user, payload.payer_id),
        member_id=payload.member_id,
        order=payload.order,
        start_date=payload.start_date,
        end_date=payload.end_date,
        relationship=payload.relationship,
        subscriber_first_name=subscriber.first_name if subscriber else "",
        subscriber_last_name=subscriber.last_name if subscriber else "",
        subscriber_birth_date=subscriber.birth_date if subscriber else None,
        subscriber_sex=subscriber.sex if subscriber else "",
    )
    return _coverage_out(coverage)


# Visits -------------------------------------------------------------------------------------


def _visit_out(visit: Visit) -> VisitOut:
    return VisitOut(
        id=visit.pk,
        version=visit.version,
        updated_by=str(visit.updated_by) if visit.updated_by else None,
        updated_at=visit.updated_at,
        case_id=visit.case_id,
        patient_id=visit.case.patient_id,
        discipline=visit.case.discipline,
        date=visit.date,
        visit_type=visit.visit_type,
        clinician_id=visit.clinician_id,
        clinician=str(visit.clinician),
        place_of_service=visit.place_of_service,
        telehealth=visit.telehealth,
        patient_present=visit.patient_present,
        caregiver_present=visit.caregiver_present,
        distinct_services=visit.distinct_services,
        medical_necessity_attested=visit.medical_necessity_attested,
        narrative=visit.narrative,
        status=visit.status,  # type: ignore[arg-type]
        signed_by=str(visit.signed_by) if visit.signed_by else None,
        signed_at=visit.signed_at,
        cosigned_by=str(visit.cosigned_by) if visit.cosigned_by else None,
        cosigned_at=visit.cosigned_at,
        sign_reason=visit.sign_reason,
        needs_cosign=visit_needs_cosign(visit=visit) if visit.is_signed else False,
        lines=[_line_out(line) for line in visit.lines.select_related("updated_by")],
        addenda=[
            AddendumOut(id=a.pk, author=str(a.author), at=a.at, reason=a.reason, text=a.text)
            for a in visit.addenda.select_related("author")
        ],
    )


def _line_out(line: ServiceLine) -> LineOut:
    return LineOut(
        id=line.pk,
        code=line.code,
        version=line.version,
        updated_by=str(line.updated_by) if line.updated_by else None,
        updated_at=line.updated_at,
        therapist_minutes=line.therapist_minutes,
        assistant_minutes=line.assistant_minutes,
        total_minutes=line.total_minutes,
        requested_units=line.requested_units,
        **line.note_dict(),
    )


def _line_get(request: HttpRequest, visit_id: int, line_id: int) -> ServiceLine:
    visit = visit_get(user=_user(request), visit_id=visit_id)
    line = visit.lines.filter(pk=line_id).first()
    if line is None:
        raise Http404("No such service line.")
    return line


@api.post("/visits", response={201: VisitCreatedOut, **ERRORS}, tags=["visits"])
def visits_create(request: HttpRequest, payload: VisitCreateIn) -> Any:
    """Start a draft note for a case (you are its clinician). A date after the case was
    discharged is refused (400 naming `date`); `warnings` lists authorization problems for
    the day (expired, used up, or none where the payer requires one)."""
    user = _user(request)
    case = case_get(user=user, case_id=payload.case_id)
    data = payload.dict(exclude={"case_id", "date"})
    data["telehealth"] = data["telehealth"] or ""
    warnings = authorization_warnings(case=case, on=payload.date)
    visit = visit_services.visit_create(user=user, case=case, date=payload.date, **data)
    out = VisitCreatedOut(**_visit_out(visit).dict(), warnings=warnings)
    return Status(201, out)


@api.get("/visits/{visit_id}", response={200: VisitOut, **ERRORS}, tags=["visits"])
@decorate_view(audit_read("api visit"))
def visits_detail(request: HttpRequest, visit_id: IdPath) -> Any:
    user = _user(request)
    visit = visit_get(user=user, visit_id=visit_id)
    return _visit_out(visit)


@api.patch("/visits/{visit_id}", response={200: VisitOut, **EDIT_ERRORS}, tags=["visits"])
def visits_update(request: HttpRequest, payload: VisitUpdateIn, visit_id: IdPath) -> Any:
    """Change a draft note's header fields: send the `version` you read and only what
    changes. A `version` older than the stored one answers 409 naming who changed the header
    and when (nothing is saved); read the note again and reapply your change."""
    user = _user(request)
    visit = visit_get(user=user, visit_id=visit_id)
    changes = payload.dict(exclude_unset=True, exclude_none=True)
    version = changes.pop("version")
    visit = visit_services.visit_update(user=user, visit=visit, version=version, **changes)
    return _visit_out(visit)


@api.post(
    "/visits/{visit_id}/evaluate", response={200: EvaluationOut, **ENGINE_ERRORS}, tags=["visits"]
)
@decorate_view(audit_read("api evaluation"))
def visits_evaluate(request: HttpRequest, visit_id: IdPath) -> Any:
    """Units, modifiers, edits, payment, threshold and documentation findings, as the note
    stands now (nothing is saved)."""
    visit = visit_get(user=_user(request), visit_id=visit_id)
    return visit_services.visit_evaluate(visit=visit)


def _sign_in(request: HttpRequest) -> SignIn:
    """The sign's optional JSON body. Read by hand, not as a ninja body parameter: a sign
    without a body (any content type, multipart included, whose stream the CSRF check has
    already read) must keep working."""
    if request.content_type != "application/json" or not request.body:
        return SignIn()
    try:
        return SignIn.model_validate_json(request.body)
    except PydanticValidationError as exc:
        errors: dict[str, list[str]] = {}
        for error in exc.errors():
            name = ".".join(str(part) for part in error["loc"]) or "body"
            errors.setdefault(name, []).append(str(error["msg"]))
        raise DjangoValidationError(errors) from None


SIGN_BODY: dict[str, Any] = {
    "requestBody": {
        "required": False,
        "content": {"application/json": {"schema": SignIn.model_json_schema()}},
    }
}


@api.post(
    "/visits/{visit_id}/sign",
    response={200: VisitOut, **SIGN_ERRORS},
    tags=["visits"],
    openapi_extra=SIGN_BODY,
)
def visits_sign(request: HttpRequest, visit_id: IdPath) -> Any:
    """Sign and lock the note. Signing again as its signer answers the signed note and records
    nothing; a note someone else signed is a 409. A note whose evaluation has error findings
    is signed only with a `reason` in the body, {"reason": "..."} (400 naming `reason` and
    the errors' rules otherwise); the reason is stored with the signature and audited.
    A note with a running timer is a 409 naming it. A note whose lines' billed minutes and
    timer totals disagree (beyond rounding to the minute) is a 409 naming each line, unless
    the body gives a `reconcile` choice for each: "timer" bills the timer's minutes, "keep"
    keeps the typed ones with a `reason`; choices are stored and audited, then the note is
    signed."""
    user = _user(request)
    body = _sign_in(request)
    visit = visit_get(user=user, visit_id=visit_id)
    if body.reconcile:
        visit_services.visit_reconcile_minutes(
            user=user,
            visit=visit,
            choices=[
                visit_services.ReconcileChoice(c.line_id, c.choice, c.reason)
                for c in body.reconcile
            ],
        )
    visit = visit_services.visit_sign(user=user, visit=visit, reason=body.reason)
    return _visit_out(visit)


@api.post(
    "/visits/{visit_id}/cosign", response={200: VisitOut, **ERRORS, 409: ErrorOut}, tags=["visits"]
)
def visits_cosign(request: HttpRequest, visit_id: IdPath) -> Any:
    user = _user(request)
    visit = visit_services.visit_cosign(user=user, visit=visit_get(user=user, visit_id=visit_id))
    return _visit_out(visit)


@api.post("/visits/{visit_id}/addenda", response={201: AddendumOut, **ERRORS}, tags=["visits"])
def visits_addendum(request: HttpRequest, payload: AddendumIn, visit_id: IdPath) -> Any:
    user = _user(request)
    visit = visit_get(user=user, visit_id=visit_id)
    addendum = visit_services.visit_add_addendum(
        user=user, visit=visit, reason=payload.reason, text=payload.text
    )
    out = AddendumOut(
        id=addendum.pk,
        author=str(user),
        at=addendum.at,
        reason=addendum.reason,
        text=addendum.text,
    )
    return Status(201, out)


# Service lines and timers -------------------------------------------------------------------


@api.post("/visits/{visit_id}/lines", response={201: LineOut, **ERRORS}, tags=["service lines"])
def lines_create(request: HttpRequest, payload: LineIn, visit_id: IdPath) -> Any:
    user = _user(request)
    visit = visit_get(user=user, visit_id=visit_id)
    line = visit_services.service_line_add(user=user, visit=visit, **payload.dict())
    return Status(201, _line_out(line))


@api.patch(
    "/visits/{visit_id}/lines/{line_id}",
    response={200: LineOut, **EDIT_ERRORS},
    tags=["service lines"],
)
def lines_update(
    request: HttpRequest, payload: LineUpdateIn, visit_id: IdPath, line_id: IdPath
) -> Any:
    """Change minutes, requested units and/or note fields of a line in one write: send the
    line's `version` you read and only what changes. A `version` older than the stored one
    (someone saved the line, or a timer stopped on it, since you read it) answers 409
    naming who changed it and when; nothing is saved."""
    user = _user(request)
    line = _line_get(request, visit_id, line_id)
    changes = payload.dict(exclude_unset=True)
    version = changes.pop("version")
    for name in ("therapist_minutes", "assistant_minutes", *visit_services.LINE_NOTE_FIELDS):
        if name in changes and changes[name] is None:
            raise DjangoValidationError({name: "Cannot be null; leave it out to keep it."})
    line = visit_services.service_line_change(
        user=user,
        line=line,
        version=version,
        note={k: changes[k] for k in visit_services.LINE_NOTE_FIELDS if k in changes},
        therapist_minutes=changes.get("therapist_minutes"),
        assistant_minutes=changes.get("assistant_minutes"),
        requested_units=changes.get("requested_units", visit_services.UNSET),
    )
    return _line_out(line)


@api.delete(
    "/visits/{visit_id}/lines/{line_id}",
    response={204: None, **ERRORS},
    tags=["service lines"],
)
def lines_delete(request: HttpRequest, visit_id: IdPath, line_id: IdPath) -> Any:
    line = _line_get(request, visit_id, line_id)
    visit_services.service_line_delete(user=_user(request), line=line)
    return Status(204, None)


@api.post(
    "/visits/{visit_id}/lines/{line_id}/segments",
    response={201: SegmentOut, **ERRORS},
    tags=["service lines"],
)
def segments_create(
    request: HttpRequest, payload: SegmentIn, visit_id: IdPath, line_id: IdPath
) -> Any:
    """Add one finished timer run (start and stop, with time zone) to a line, e.g. a run timed
    elsewhere; both fall on the visit's day in the clinic's time zone. Returns the line's
    recomputed minutes. Live timers: .../timer/start and .../timer/stop."""
    line = _line_get(request, visit_id, line_id)
    segment = visit_services.timer_segment_add(
        user=_user(request), line=line, started_at=payload.started_at, ended_at=payload.ended_at
    )
    line.refresh_from_db()
    out = SegmentOut(
        id=segment.pk,
        line_id=line.pk,
        started_at=segment.started_at,
        ended_at=segment.ended_at or payload.ended_at,
        by_assistant=segment.by_assistant,
        line_therapist_minutes=line.therapist_minutes,
        line_assistant_minutes=line.assistant_minutes,
    )
    return Status(201, out)


def _timer_out(segment: TimerSegment, code: str) -> TimerOut:
    return TimerOut(
        id=segment.pk,
        line_id=segment.line_id,
        code=code,
        started_at=segment.started_at,
        ended_at=segment.ended_at,
        running=segment.running,
        capped=segment.capped,
        seconds=segment.seconds,
        by=str(segment.by),
        by_assistant=segment.by_assistant,
    )


@api.get("/visits/{visit_id}/timers", response={200: list[TimerOut], **ERRORS}, tags=["timers"])
@decorate_view(audit_read("api timers"))
def timers_list(request: HttpRequest, visit_id: IdPath) -> Any:
    """Every timer run of the note, running ones included (`ended_at` null), in start order:
    what another tab or device shows."""
    visit = visit_get(user=_user(request), visit_id=visit_id)
    segments = TimerSegment.objects.filter(line__visit=visit).select_related("by", "line")
    return [_timer_out(s, s.line.code) for s in segments.order_by("started_at", "pk")]


@api.post(
    "/visits/{visit_id}/lines/{line_id}/timer/start",
    response={201: TimerStartOut, **EDIT_ERRORS},
    tags=["timers"],
)
def timers_start(request: HttpRequest, visit_id: IdPath, line_id: IdPath) -> Any:
    """Start the line's timer now, on the server. 409 when it already runs (naming who
    started it and when); 400 naming `timer` on a note not dated today. Your timer on another
    line of the note stops at the same instant (`stopped`)."""
    line = _line_get(request, visit_id, line_id)
    started = visit_services.timer_start(user=_user(request), line=line)
    codes = dict(ServiceLine.objects.filter(visit_id=visit_id).values_list("pk", "code"))
    line = ServiceLine.objects.select_related("updated_by").get(pk=line.pk)
    return Status(
        201,
        TimerStartOut(
            timer=_timer_out(started.segment, line.code),
            stopped=[_timer_out(s, codes[s.line_id]) for s in started.stopped],
            line=_line_out(line),
        ),
    )


@api.post(
    "/visits/{visit_id}/lines/{line_id}/timer/stop",
    response={200: TimerStopOut, **ERRORS},
    tags=["timers"],
)
def timers_stop(request: HttpRequest, visit_id: IdPath, line_id: IdPath) -> Any:
    """Stop the line's running timer (whoever started it) and recompute its minutes. Stopping
    a timer that is not running changes nothing and answers `timer: null`. A run that went
    past midnight ends at midnight of the visit's day (`capped`)."""
    line = _line_get(request, visit_id, line_id)
    stopped = visit_services.timer_stop(user=_user(request), line=line)
    line = ServiceLine.objects.select_related("updated_by").get(pk=line.pk)
    timer = _timer_out(stopped.segment, line.code) if stopped.segment is not None else None
    return TimerStopOut(timer=timer, capped=stopped.capped, line=_line_out(line))


# Cases --------------------------------------------------------------------------------------


@api.get("/cases/{case_id}/counters", response={200: CountersOut, **ERRORS}, tags=["cases"])
@decorate_view(audit_read("api case counters"))
def cases_counters(request: HttpRequest, case_id: IdPath) -> Any:
    """Treatment days since the last progress report, and (re)certification dates, today."""
    user = _user(request)
    require(can_view_clinical(user), "Your role cannot see clinical records.")
    case = case_get(user=user, case_id=case_id)
    counters = case_counters(case=case)
    return CountersOut(case_id=case.pk, **{f: getattr(counters, f) for f in counters.__slots__})


@api.post("/cases/{case_id}/discharge", response={200: CaseOut, **ERRORS}, tags=["cases"])
def cases_discharge(request: HttpRequest, payload: DischargeIn, case_id: IdPath) -> Any:
    """Discharge the case on a day (not before its last visit, not in the future) with the
    reason; later visits are refused."""
    user = _user(request)
    case = case_get(user=user, case_id=case_id)
    case = care_services.case_close(
        user=user,
        case=case,
        closed_on=payload.closed_on,
        discharge_reason=payload.discharge_reason,
    )
    return CaseOut.from_orm(case)


# Authorizations -----------------------------------------------------------------------------


def _authorization_out(usage: AuthorizationUsage) -> AuthorizationOut:
    a = usage.authorization
    return AuthorizationOut(
        id=a.pk,
        case_id=a.case_id,
        payer_id=a.payer_id,
        payer=a.payer.name,
        number=a.number,
        visits_authorized=a.visits_authorized,
        units_authorized=a.units_authorized,
        start_date=a.start_date,
        end_date=a.end_date,
        visits_used=usage.visits_used,
        units_used=usage.units_used,
        status=usage.status.value,
    )


def _authorization_response(authorization: Authorization) -> AuthorizationOut:
    return _authorization_out(
        authorization_usage(authorization=authorization, on=timezone.localdate())
    )


def _payer(user: User, payer_id: int) -> Payer:
    payer = Payer.objects.filter(clinic_id=clinic_id_of(user), pk=payer_id).first()
    if payer is None:
        raise DjangoValidationError({"payer_id": "No such payer in your clinic."})
    return payer


@api.get(
    "/cases/{case_id}/authorizations",
    response={200: list[AuthorizationOut], **ERRORS},
    tags=["authorizations"],
)
@decorate_view(audit_read("api authorizations"))
def authorizations_list(request: HttpRequest, case_id: IdPath) -> Any:
    """The case's authorizations, latest first, with visits and units used and their status
    today."""
    user = _user(request)
    case = case_get(user=user, case_id=case_id)
    today = timezone.localdate()
    return [
        _authorization_out(authorization_usage(authorization=a, on=today))
        for a in authorization_list(case=case)
    ]


@api.post(
    "/cases/{case_id}/authorizations",
    response={201: AuthorizationOut, **ERRORS},
    tags=["authorizations"],
)
def authorizations_create(request: HttpRequest, payload: AuthorizationIn, case_id: IdPath) -> Any:
    user = _user(request)
    case = case_get(user=user, case_id=case_id)
    data = payload.dict(exclude={"payer_id"})
    authorization = care_services.authorization_create(
        user=user, case=case, payer=_payer(user, payload.payer_id), **data
    )
    return Status(201, _authorization_response(authorization))


@api.patch(
    "/authorizations/{authorization_id}",
    response={200: AuthorizationOut, **ERRORS},
    tags=["authorizations"],
)
def authorizations_update(
    request: HttpRequest, payload: AuthorizationUpdateIn, authorization_id: IdPath
) -> Any:
    """Change an authorization; send only what changes."""
    user = _user(request)
    authorization = authorization_get(user=user, authorization_id=authorization_id)
    changes = payload.dict(exclude_unset=True)
    for name in ("payer_id", "number", "visits_authorized", "start_date", "end_date"):
        if name in changes and changes[name] is None:
            raise DjangoValidationError({name: "Cannot be null; leave it out to keep it."})
    if "payer_id" in changes:
        changes["payer"] = _payer(user, changes.pop("payer_id"))
    authorization = care_services.authorization_update(
        user=user, authorization=authorization, **changes
    )
    return _authorization_response(authorization)


@api.post(
    "/authorizations/{authorization_id}/end",
    response={200: AuthorizationOut, **ERRORS},
    tags=["authorizations"],
)
def authorizations_end(
    request: HttpRequest, payload: AuthorizationEndIn, authorization_id: IdPath
) -> Any:
    """End an authorization early: `ended_on` becomes its last covered day."""
    user = _user(request)
    authorization = authorization_get(user=user, authorization_id=authorization_id)
    authorization = care_services.authorization_end(
        user=user, authorization=authorization, ended_on=payload.ended_on
    )
    return _authorization_response(authorization)


# Home programs (handrail.web.api.programs) -------------------------------------------------

api.add_router("", programs_router)
api.add_router("", billing_router)

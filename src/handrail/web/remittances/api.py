"""The remittance endpoint of the JSON API: POST /api/remittances with the raw 835 as the
body. Registered on the clinic API (handrail.web.api.api) when handrail.web.urls imports this
module. The posting service audits each claim it posts to (an update event per claim)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any, cast

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest
from django.http.request import RawPostDataException
from django.utils import timezone
from ninja import Schema
from ninja.decorators import decorate_view
from ninja.responses import Status

from handrail.web.api.api import ERRORS, IdPath, api
from handrail.web.audit.reads import audit_read
from handrail.web.clinic.models import User
from handrail.web.clinic.selectors import patient_get
from handrail.web.remittances.selectors import patient_threshold_remitted
from handrail.web.remittances.services import RemittanceRefusedError, remittance_post

FORM_TYPES = ("multipart/form-data", "application/x-www-form-urlencoded")
FORM_PROBLEM = "body: send the 835 itself as the body (Content-Type: text/plain)"


class PostedOut(Schema):
    remittance_id: int
    claims_matched: int
    lines_posted: int
    paid_total: Decimal
    adjustment_total: Decimal
    provider_adjustment_total: Decimal
    unmatched: list[str]


class RefusedOut(Schema):
    detail: str
    problems: list[str]
    unmatched: list[str]


@api.post(
    "/remittances",
    response={200: PostedOut, **ERRORS, 409: RefusedOut, 413: RefusedOut, 422: RefusedOut},
    tags=["remittances"],
    openapi_extra={
        "requestBody": {
            "required": True,
            "description": "The 835 file exactly as received (ASC X12 005010X221A1).",
            "content": {"text/plain": {"schema": {"type": "string"}}},
        }
    },
)
def remittances_post(request: HttpRequest) -> Any:
    """Post an 835: it must balance (BPR02 against the claims' payments and PLB; each claim's
    and line's charge, payment and CAS adjustments), be for this clinic's group NPI, and
    match claims by control number and lines by REF*6R (or code, modifiers and date).
    All or nothing: 422 names every problem (segment and position) and every unmatched claim
    or line; 409 when the file or its payment (TRN02) was already posted; 413 when the body
    is over REMITTANCE_MAX_BYTES (50 MB unless configured; the rest of the API keeps
    Django's 2.5 MB). On success `unmatched` is empty: a file with anything unmatched is
    refused whole."""
    user = cast(User, request.user)
    if request.content_type in FORM_TYPES:
        return Status(422, _refused([FORM_PROBLEM]))
    limit = settings.REMITTANCE_MAX_BYTES
    too_big = _refused(
        [
            f"body: larger than the remittance limit of {limit:,} bytes "
            "(REMITTANCE_MAX_BYTES); post the payer's file in parts (one 835 per payment) "
            "or ask your administrator to raise the limit"
        ]
    )
    try:
        raw = _body(request, limit)
    except RequestDataTooBig:
        return Status(413, too_big)
    except RawPostDataException:
        # The body was read as form fields already.
        return Status(422, _refused([FORM_PROBLEM]))
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return Status(422, _refused(["body: the file is not UTF-8 (or ASCII) text"]))
    try:
        posted = remittance_post(
            user=user, text=text, filename=request.headers.get("X-Filename", "")[:200]
        )
    except RemittanceRefusedError as refused:
        return Status(refused.status, _refused(refused.problems, refused.unmatched))
    return Status(
        200,
        {
            "remittance_id": posted.remittance.pk,
            "claims_matched": posted.claims_matched,
            "lines_posted": posted.lines_posted,
            "paid_total": posted.paid_total,
            "adjustment_total": posted.adjustment_total,
            "provider_adjustment_total": posted.provider_adjustment_total,
            "unmatched": [],
        },
    )


def _body(request: HttpRequest, limit: int) -> bytes:
    """The raw body, up to `limit` bytes (REMITTANCE_MAX_BYTES) rather than Django's
    DATA_UPLOAD_MAX_MEMORY_SIZE, which `request.body` applies and which stays as it is for
    every other request. RequestDataTooBig past the limit: by the declared Content-Length
    before anything is read, or by what was read when none is declared."""
    if hasattr(request, "_body"):  # read already (by a middleware)
        if len(request.body) > limit:
            raise RequestDataTooBig("remittance body over REMITTANCE_MAX_BYTES")
        return request.body
    if getattr(request, "_read_started", False):
        raise RawPostDataException("the body was read as a stream already")
    declared = request.META.get("CONTENT_LENGTH") or "0"
    if declared.isdigit() and int(declared) > limit:
        raise RequestDataTooBig("remittance body over REMITTANCE_MAX_BYTES")
    raw = request.read(limit + 1)
    if len(raw) > limit:
        raise RequestDataTooBig("remittance body over REMITTANCE_MAX_BYTES")
    return raw


def _refused(problems: list[str], unmatched: list[str] | None = None) -> dict[str, Any]:
    unmatched = unmatched or []
    first = (problems or unmatched or ["the remittance was refused"])[0]
    count = len(problems) + len(unmatched)
    detail = f"Nothing was posted. {first}" + (f" (and {count - 1} more)" if count > 1 else "")
    return {"detail": detail, "problems": problems, "unmatched": unmatched}


class ThresholdGroupOut(Schema):
    group: str
    amount: Decimal | None
    estimated: Decimal
    remitted: Decimal
    difference: Decimal
    visits: int
    visits_remitted: int


class ThresholdOut(Schema):
    year: int
    groups: list[ThresholdGroupOut]


@api.get(
    "/patients/{patient_id}/threshold",
    response={200: ThresholdOut, **ERRORS},
    tags=["patients"],
)
@decorate_view(audit_read("api patient threshold"))
def patients_threshold(request: HttpRequest, patient_id: IdPath) -> Any:
    """The year's therapy amount per threshold group (PT/SLP together, OT apart): the engine's
    estimate of every signed visit (`estimated`), the same with Medicare's allowed amounts
    from posted remittances in place of the estimate where there are some (`remitted`), and
    `remitted - estimated`. `amount` is the year's KX threshold."""
    user = cast(User, request.user)
    patient = patient_get(user=user, patient_id=patient_id)
    today = timezone.localdate()
    groups = patient_threshold_remitted(user=user, patient=patient, today=today)
    return {
        "year": today.year,
        "groups": [
            {
                "group": g.group,
                "amount": g.amount,
                "estimated": g.estimated,
                "remitted": g.remitted,
                "difference": g.difference,
                "visits": g.visits,
                "visits_remitted": g.visits_remitted,
            }
            for g in groups
        ],
    }

"""The hub's endpoints of the JSON API, for other clinics' servers (not for people):
POST /api/hub/reports takes one anonymous denial report, GET /api/hub/patterns answers the
aggregates that pass the threshold. Both authenticate with the enrolment's key
(`Authorization: Bearer hrk_...`, issued by `manage.py pattern_hub enrol`), are limited to
PATTERN_HUB_RATE_LIMIT requests per hour per enrolment, and a report body to MAX_BODY bytes.
Registered on the clinic API (handrail.web.api.api) when handrail.web.urls imports this
module.

The report's schema is strict: a field that is not in it (a name, a date, a claim number...)
is refused with 400 naming it, so nothing but codes and the fix can be stored.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated, Any, cast

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from ninja import Schema
from ninja.responses import Status
from ninja.security import HttpBearer
from pydantic import ConfigDict, Field, WithJsonSchema
from pydantic import ValidationError as PydanticValidationError

from handrail.claims import patterns as p
from handrail.web.api.api import api
from handrail.web.api.schemas import ErrorOut
from handrail.web.patternhub.models import Enrolment
from handrail.web.patternhub.selectors import enrolment_for_key, hub_patterns
from handrail.web.patternhub.services import enrolment_hit, hub_report_receive

MAX_BODY = 4096  # a report is about 300 bytes

_PAYER_KINDS = [kind.value for kind in p.PayerKind]
_FIXES = [fix.value for fix in p.Fix]
_GROUPS = ["CO", "PR", "OI", "PI", "CR"]
# Closed lists are documented as enums and checked by make_report (400 naming the field).
PayerKindText = Annotated[str, WithJsonSchema({"type": "string", "enum": _PAYER_KINDS})]
FixText = Annotated[str, WithJsonSchema({"type": "string", "enum": _FIXES})]
GroupText = Annotated[str, WithJsonSchema({"type": "string", "enum": _GROUPS})]


class HubReportIn(Schema):
    """One anonymous denial report. No other field is accepted."""

    model_config = ConfigDict(extra="forbid", strict=True)

    report_id: str = Field(
        pattern=r"^[0-9a-f]{64}$",
        description="The sender's keyed hash of its claim line: a retry sends the same id "
        "and is stored once",
    )
    code: str = Field(pattern=r"^[0-9A-Z]{5}$", description="CPT or HCPCS code")
    modifiers: list[Annotated[str, Field(pattern=r"^[0-9A-Z]{2}$")]] = Field(max_length=4)
    payer_kind: PayerKindText
    group: GroupText = Field(description="Claim adjustment group code")
    reason: str = Field(pattern=r"^[0-9A-Z]{1,5}$", description="CARC, e.g. 97")
    remarks: list[Annotated[str, Field(pattern=r"^[A-Z]{1,2}[0-9]{1,4}$")]] = Field(
        max_length=5, description="RARCs, e.g. N20"
    )
    fix: FixText = Field(description="What fixed the denial, from a closed list")


class HubReportOut(Schema):
    report_id: str
    stored: bool  # false: this report id was already stored (a retry); counted once


class CountOut(Schema):
    value: str
    count: int


class HubPatternOut(Schema):
    code: str
    payer_kind: str
    reason: str  # group-CARC, e.g. CO-97
    reports: int
    clinics: int
    modifiers: list[CountOut]
    remarks: list[CountOut]
    fixes: list[CountOut]


class HubPatternsOut(Schema):
    generated_at: datetime
    min_reports: int
    min_clinics: int
    patterns: list[HubPatternOut]


class HubKey(HttpBearer):
    """The enrolment's key; None (401) when it is no enrolment's."""

    def authenticate(self, request: HttpRequest, token: str) -> Enrolment | None:
        return enrolment_for_key(key=token)


HUB_ERRORS: dict[int, Any] = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 429: ErrorOut}
FIELDS = ", ".join(HubReportIn.model_fields)


def _refuse(request: HttpRequest, status: int, detail: str, field: str = "") -> HttpResponse:
    errors = {field: [detail.partition(": ")[2] or detail]} if field else None
    response = api.create_response(request, {"detail": detail, "errors": errors}, status=status)
    return response


def _admitted(request: HttpRequest) -> HttpResponse | None:
    """403 for a revoked enrolment, 429 past the rate limit; None when the request may go."""
    enrolment = cast(Enrolment, request.auth)  # type: ignore[attr-defined]
    if enrolment.revoked_at is not None:
        return _refuse(request, 403, "This enrolment was revoked by the hub's admin.")
    retry_at = enrolment_hit(enrolment=enrolment)
    if retry_at is not None:
        response = _refuse(
            request,
            429,
            f"More than {settings.PATTERN_HUB_RATE_LIMIT} requests this hour; try again later.",
        )
        response["Retry-After"] = str(max(1, int((retry_at - timezone.now()).total_seconds())))
        return response
    return None


def _pydantic_problem(error: PydanticValidationError) -> tuple[str, str]:
    # An unknown field first: it is the one a sender must hear about (it may be patient data).
    problems = sorted(error.errors(), key=lambda e: e["type"] != "extra_forbidden")
    first = problems[0]
    field = ".".join(str(part) for part in first["loc"]) or "body"
    if first["type"] == "extra_forbidden":
        return field, f"{field}: unknown field; a report has only {FIELDS} (never patient data)"
    if first["type"] == "missing":
        return field, f"{field}: required"
    return field, f"{field}: {first['msg']}"


@api.post(
    "/hub/reports",
    auth=HubKey(),
    response={200: HubReportOut, 201: HubReportOut, **HUB_ERRORS, 413: ErrorOut},
    tags=["pattern hub"],
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": HubReportIn.model_json_schema()}},
        }
    },
)
def hub_reports_post(request: HttpRequest) -> Any:
    """Store one anonymous denial report from an enrolled clinic server: 201 when stored,
    200 when this report id from this sender was stored before (a retry: counted once).
    400 names the first field that is wrong or unknown; 401 for a key that is no
    enrolment's, 403 for a revoked one; 413 past 4,096 bytes; 429 past the rate limit."""
    refused = _admitted(request)
    if refused is not None:
        return refused
    length = request.META.get("CONTENT_LENGTH") or "0"
    if not length.isdigit() or int(length) > MAX_BODY:
        return _refuse(request, 413, f"body: at most {MAX_BODY:,} bytes")
    if len(request.body) > MAX_BODY:  # sent without a Content-Length (chunked)
        return _refuse(request, 413, f"body: at most {MAX_BODY:,} bytes")
    try:
        data = json.loads(request.body)
    except (UnicodeDecodeError, json.JSONDecodeError):
        return _refuse(request, 400, "body: send one report as a JSON object", "body")
    if not isinstance(data, dict):
        return _refuse(request, 400, "body: send one report as a JSON object", "body")
    try:
        report = HubReportIn.model_validate(data)
    except PydanticValidationError as error:
        field, detail = _pydantic_problem(error)
        return _refuse(request, 400, detail, field)
    try:
        row, stored = hub_report_receive(
            enrolment=cast(Enrolment, request.auth),  # type: ignore[attr-defined]
            **report.model_dump(),
        )
    except p.ReportError as error:
        return _refuse(request, 400, str(error), error.field_name)
    return Status(201 if stored else 200, {"report_id": row.report_id, "stored": stored})


def _counts(items: tuple[tuple[str, int], ...]) -> list[dict[str, Any]]:
    return [{"value": value, "count": count} for value, count in items]


@api.get(
    "/hub/patterns",
    auth=HubKey(),
    response={200: HubPatternsOut, **HUB_ERRORS},
    tags=["pattern hub"],
)
def hub_patterns_get(request: HttpRequest) -> Any:
    """The aggregates per code, payer type and reason (group-CARC) with at least 5 reports
    from at least 3 clinics, most reported first: counts only, never which clinic reported
    what. For enrolled clinic servers (their worker fetches and caches them)."""
    refused = _admitted(request)
    if refused is not None:
        return refused
    return {
        "generated_at": timezone.now(),
        "min_reports": p.MIN_REPORTS,
        "min_clinics": p.MIN_CLINICS,
        "patterns": [
            {
                "code": pattern.code,
                "payer_kind": pattern.payer_kind,
                "reason": pattern.reason,
                "reports": pattern.reports,
                "clinics": pattern.clinics,
                "modifiers": _counts(pattern.modifiers),
                "remarks": _counts(pattern.remarks),
                "fixes": _counts(pattern.fixes),
            }
            for pattern in hub_patterns()
        ],
    }

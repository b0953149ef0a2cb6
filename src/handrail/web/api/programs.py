"""The home-program endpoints of the JSON API (mounted on the main API in api.py):
the library search, programs, their items, issuing and the handout PDF.

Same conventions as api.py: session auth with CSRF, unknown fields refused (422), a
service's ValidationError a 400 naming the field, another clinic's record a 404. Reading a
program is audited against its patient.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal, cast

from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from ninja import Router, Schema
from ninja.decorators import decorate_view
from ninja.params.functions import Path, Query
from ninja.responses import Status
from pydantic import ConfigDict, Field

from handrail.web.api.schemas import ErrorOut, ShortText, Text, ValidationErrorOut
from handrail.web.audit.reads import audit_read
from handrail.web.care.selectors import case_get
from handrail.web.clinic.models import User
from handrail.web.clinic.permissions import can_view_clinical, clinic_id_of, require
from handrail.web.portal.services import link_on_issue
from handrail.web.programs import selectors, services
from handrail.web.programs.handout import program_handout_pdf
from handrail.web.programs.models import (
    DOSE_FIELDS,
    EntryMedia,
    Program,
    ProgramItem,
    ProgramVersion,
)
from handrail.web.visits.selectors import visit_get

MAX_ID = 2_147_483_647
IdPath = Annotated[int, Path(ge=1, le=MAX_ID)]
ERRORS: dict[int, Any] = {
    400: ErrorOut,
    401: ErrorOut,
    403: ErrorOut,
    404: ErrorOut,
    409: ErrorOut,
    422: ValidationErrorOut,
}
DoseValue = Annotated[int | None, Field(default=None, ge=-1_000_000, le=1_000_000)]
KindName = Literal["self_care", "exercise", "education"]
CodeName = Literal["97535", "97537", "97110", "97112", "97530"]

router = Router(tags=["programs"])


def _user(request: HttpRequest) -> User:
    user = cast(User, request.user)
    require(can_view_clinical(user), "Your role cannot see home programs.")
    return user


# Schemas ------------------------------------------------------------------------------------


class MediaOut(Schema):
    id: int
    kind: str
    url: str
    caption: str
    credit: str


class LibraryItemOut(Schema):
    id: int
    title: str
    kind: str
    billing_code: str
    regions: list[str]
    equipment: list[str]
    builtin: bool
    media: list[MediaOut]


class LibraryOut(Schema):
    count: int
    items: list[LibraryItemOut]


class ItemIn(Schema):
    """One item: the library entry and the patient's dose (omit every dose field to take the
    entry's default dose)."""

    model_config = ConfigDict(extra="forbid")

    entry_id: int = Field(ge=-1_000_000_000_000, le=1_000_000_000_000)
    sets: DoseValue = None
    reps: DoseValue = None
    hold_seconds: DoseValue = None
    times_per_day: DoseValue = None
    days_per_week: DoseValue = None
    minutes: DoseValue = None
    notes: Text = ""
    section: ShortText = ""


class ItemUpdateIn(Schema):
    """Only the fields that change; a dose field sent as null clears it."""

    model_config = ConfigDict(extra="forbid")

    sets: DoseValue = None
    reps: DoseValue = None
    hold_seconds: DoseValue = None
    times_per_day: DoseValue = None
    days_per_week: DoseValue = None
    minutes: DoseValue = None
    notes: Text | None = None
    section: ShortText | None = None


class ProgramIn(Schema):
    model_config = ConfigDict(extra="forbid")

    patient_id: int = Field(ge=1, le=MAX_ID)
    case_id: int = Field(ge=1, le=MAX_ID)
    title: ShortText
    items: list[ItemIn] = Field(default_factory=list, max_length=100)


class IssueIn(Schema):
    """`visit_id`: the draft note it is taught at (omit: issued outside a visit, not
    billable). `minutes`: per billed code, minutes teaching it (omit: time it with the
    note's timer). `new_link`: make a new patient link even when the patient already has a
    working one (default: only when there is none)."""

    model_config = ConfigDict(extra="forbid")

    visit_id: int | None = Field(default=None, ge=1, le=MAX_ID)
    teaching_methods: list[
        Literal["demonstration", "return_demonstration", "verbal", "written_handout", "video"]
    ] = Field(default_factory=list, max_length=5)
    minutes: dict[CodeName, int] = Field(default_factory=dict)
    new_link: bool = False


class ItemOut(Schema):
    id: int
    entry_id: int
    title: str
    kind: str
    billing_code: str
    position: int
    section: str
    sets: int | None
    reps: int | None
    hold_seconds: int | None
    times_per_day: int | None
    days_per_week: int | None
    minutes: int | None
    notes: str
    dose: str


class BillingOut(Schema):
    code: str
    billable: bool
    reason: str


class VersionOut(Schema):
    number: int
    issued_at: datetime
    issued_by: str
    visit_id: int | None
    is_new_instruction: bool
    billing: BillingOut
    changes: list[dict[str, str]]


class ProgramOut(Schema):
    id: int
    patient_id: int
    case_id: int
    title: str
    status: Literal["draft", "issued"]
    version: int
    needs_teaching: bool
    items: list[ItemOut]
    versions: list[VersionOut]


class PatientLinkOut(Schema):
    status: Literal["created", "existing", "expired"] = Field(
        description="created: `patient_url` is a new link made by this call; existing: the "
        "patient already has a working link (its token is stored hashed and cannot be shown "
        'again; send `"new_link": true` for another); expired: the program has ended'
    )
    message: str


class IssueOut(Schema):
    version: int
    patient_url: str | None = Field(
        description="The patient's link to the program when this call made one (shown only "
        "here, once); null when the patient already has a working link or the program ended: "
        "`patient_link` says which"
    )
    patient_link: PatientLinkOut
    billing: BillingOut


# Endpoints ----------------------------------------------------------------------------------


def _item_out(item: ProgramItem) -> ItemOut:
    row = services.item_snapshot(item)
    return ItemOut(
        id=item.pk,
        entry_id=item.entry_id,
        title=item.entry.title,
        kind=item.entry.kind,
        billing_code=item.entry.billing_code,
        position=item.position,
        section=row["section"],
        notes=item.notes,
        dose=services.dose_text(row),
        **{name: getattr(item, name) for name in DOSE_FIELDS},
    )


def _version_out(version: ProgramVersion) -> VersionOut:
    return VersionOut(
        number=version.number,
        issued_at=version.issued_at,
        issued_by=str(version.issued_by),
        visit_id=version.visit_id,
        is_new_instruction=version.is_new_instruction,
        billing=BillingOut(
            code=version.billing_code, billable=version.billable, reason=version.billing_reason
        ),
        changes=version.changes,
    )


def _program_out(program: Program) -> ProgramOut:
    return ProgramOut(
        id=program.pk,
        patient_id=program.patient_id,
        case_id=program.case_id,
        title=program.title,
        status=cast(Literal["draft", "issued"], program.status),
        version=program.version_number,
        needs_teaching=program.needs_teaching,
        items=[_item_out(item) for item in selectors.program_items(program=program)],
        versions=[_version_out(v) for v in selectors.program_versions(program=program)],
    )


def _item_input(payload: ItemIn) -> services.ItemInput:
    given = payload.dict(exclude_unset=True)
    return services.ItemInput(
        entry_id=payload.entry_id,
        dose={name: given[name] for name in DOSE_FIELDS if name in given},
        notes=payload.notes,
        section=payload.section,
    )


@router.get("/library", response={200: LibraryOut, **ERRORS})
def library_list(
    request: HttpRequest,
    q: ShortText = "",
    kind: KindName | None = None,
    code: CodeName | None = None,
    region: ShortText = "",
    equipment: ShortText = "",
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> Any:
    """Search the library (built-in entries and your clinic's): every word of `q` must
    match; `kind`, `code`, `region` and `equipment` filter. `count` is the number of matches,
    `items` the first `limit` of them."""
    user = _user(request)
    query = selectors.LibraryQuery(
        words=q, kind=kind or "", code=code or "", region=region, equipment=equipment
    )
    matches = selectors.library_search(user=user, query=query)
    if region or equipment:
        rows = selectors.library_filter_exact(list(matches), query)
        count, page = len(rows), rows[:limit]
    else:
        count, page = matches.count(), list(matches[:limit])
    media: dict[int, list[MediaOut]] = {}
    for item in EntryMedia.objects.filter(
        clinic_id=clinic_id_of(user), entry_id__in=[e.pk for e in page]
    ).order_by("position", "id"):
        media.setdefault(item.entry_id, []).append(
            MediaOut(
                id=item.pk,
                kind=item.kind,
                url=reverse("programs:media-file", args=[item.pk]),
                caption=item.caption,
                credit=item.credit,
            )
        )
    return LibraryOut(
        count=count,
        items=[
            LibraryItemOut(
                id=e.pk,
                title=e.title,
                kind=e.kind,
                billing_code=e.billing_code,
                regions=e.regions,
                equipment=e.equipment,
                builtin=e.is_builtin,
                media=media.get(e.pk, []),
            )
            for e in page
        ],
    )


@router.post("/programs", response={201: ProgramOut, **ERRORS})
def programs_create(request: HttpRequest, payload: ProgramIn) -> Any:
    """A draft program for the patient's case with its items (each at the dose given, or the
    entry's default dose). Nothing is saved when any item is refused."""
    user = _user(request)
    case = case_get(user=user, case_id=payload.case_id)
    if case.patient_id != payload.patient_id:
        raise ValidationError({"case_id": "This case is not the patient's."})
    program = services.program_create(
        user=user,
        case=case,
        title=payload.title,
        items=[_item_input(item) for item in payload.items],
    )
    return Status(201, _program_out(program))


@router.get("/programs/{program_id}", response={200: ProgramOut, **ERRORS})
@decorate_view(audit_read("api program"))
def programs_detail(request: HttpRequest, program_id: IdPath) -> Any:
    """The program, its items in order and its versions (newest first)."""
    user = _user(request)
    program = selectors.program_get(user=user, program_id=program_id)
    return _program_out(program)


@router.post("/programs/{program_id}/items", response={201: ItemOut, **ERRORS})
def programs_item_add(request: HttpRequest, program_id: IdPath, payload: ItemIn) -> Any:
    """Add an item to a draft or an issued program (a revision: issue it again to send it)."""
    user = _user(request)
    program = selectors.program_get(user=user, program_id=program_id)
    try:
        item = services.program_item_add(user=user, program=program, item=_item_input(payload))
    except ValidationError as exc:
        # The service names an item's fields "item.<field>"; here the body is the item.
        if not hasattr(exc, "error_dict"):
            raise
        raise ValidationError(
            {name.removeprefix("item."): errors for name, errors in exc.error_dict.items()}
        ) from None
    return Status(201, _item_out(item))


@router.patch("/programs/{program_id}/items/{item_id}", response={200: ItemOut, **ERRORS})
def programs_item_update(
    request: HttpRequest, program_id: IdPath, item_id: IdPath, payload: ItemUpdateIn
) -> Any:
    """Change an item's dose, notes or section; send only what changes."""
    user = _user(request)
    program = selectors.program_get(user=user, program_id=program_id)
    item = selectors.item_get(program=program, item_id=item_id)
    data = payload.dict(exclude_unset=True)
    item = services.program_item_update(user=user, item=item, data=data)
    return _item_out(selectors.item_get(program=program, item_id=item.pk))


@router.post("/programs/{program_id}/issue", response={200: IssueOut, **ERRORS})
def programs_issue(request: HttpRequest, program_id: IdPath, payload: IssueIn) -> Any:
    """Issue the program as it is now: a new numbered version. With `visit_id`, new
    instruction goes on that note (97535 for self-care items, exercise under its own code)
    and `billing.billable` is true; without, it is sent but not billable, and `reason` says
    why.

    The patient's link: when the program has no working link (or `new_link` is true) this
    call makes one and returns it as `patient_url`, once (only its hash is stored). When the
    patient already has one, it opens the new version and `patient_url` is null. A patient
    who agreed to email also gets an email with a link of its own."""
    user = _user(request)
    program = selectors.program_get(user=user, program_id=program_id)
    visit = None
    if payload.visit_id is not None:
        visit = visit_get(user=user, visit_id=payload.visit_id)
    with transaction.atomic():
        version = services.program_issue(
            user=user,
            program=program,
            visit=visit,
            teaching_methods=list(payload.teaching_methods),
            minutes={str(code): value for code, value in payload.minutes.items()},
        )
        link = link_on_issue(program=program, by=user, new_link=payload.new_link)
    return IssueOut(
        version=version.number,
        patient_url=link.url,
        patient_link=PatientLinkOut(
            status=cast(Literal["created", "existing", "expired"], link.status),
            message=link.message,
        ),
        billing=BillingOut(
            code=version.billing_code, billable=version.billable, reason=version.billing_reason
        ),
    )


@router.get(
    "/programs/{program_id}/handout.pdf",
    response={200: None, **ERRORS},
    openapi_extra={
        "responses": {
            "200": {
                "description": "The handout PDF",
                "content": {"application/pdf": {"schema": {"type": "string", "format": "binary"}}},
            }
        }
    },
)
@decorate_view(audit_read("api program handout"))
def programs_handout(request: HttpRequest, program_id: IdPath) -> Any:
    """The patient's handout of the last issued version (a draft prints as a draft)."""
    user = _user(request)
    program = selectors.program_get(user=user, program_id=program_id)
    response = HttpResponse(program_handout_pdf(program), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="home-program-{program.pk}.pdf"'
    return response

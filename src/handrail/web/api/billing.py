"""The billing endpoints of the JSON API (mounted on the main API in api.py): payers, 837P
batches and claims.

Same conventions as api.py: session auth with CSRF, unknown fields refused (422), a
service's ValidationError a 400 naming the field, another clinic's record a 404. Billers and
clinic admins only, except the payer list (no patient data), which any staff member reads.
A claim read is audited against its patient; a batch's file against each patient in it.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, cast

from django.http import HttpRequest, HttpResponse
from ninja import Router, Schema
from ninja.decorators import decorate_view
from ninja.params.functions import Path
from ninja.responses import Status
from pydantic import ConfigDict, Field

from handrail.web.api.schemas import ErrorOut, ValidationErrorOut
from handrail.web.audit.reads import audit_read
from handrail.web.billing import batches, selectors
from handrail.web.billing.permissions import can_bill
from handrail.web.clinic.models import User
from handrail.web.clinic.permissions import clinic_id_of, require
from handrail.web.clinic.selectors import payer_get, payer_list
from handrail.web.remittances.selectors import claim_postings

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

router = Router(tags=["billing"])


def _biller(request: HttpRequest) -> User:
    user = cast(User, request.user)
    clinic_id_of(user)
    require(can_bill(user), "Only billers and clinic admins work with claims.")
    return user


class PayerOut(Schema):
    id: int
    name: str
    type: str
    electronic_id: str = Field(description="Empty until the clinic sets it")
    filing_indicator: str
    requires_referring_provider: bool
    assistant_cosign_required: bool


class BatchIn(Schema):
    model_config = ConfigDict(extra="forbid")

    payer_id: int = Field(ge=1, le=MAX_ID)
    through: date = Field(description="Claims for visits on or before this date")


class BatchOut(Schema):
    id: int
    claims: int
    total_charge: Decimal
    isa_control: int
    payer_id: int


class ClaimLineOut(Schema):
    number: int
    code: str
    modifiers: list[str]
    units: int
    charge: Decimal
    service_date: date
    diagnosis_pointers: list[int]
    line_control_number: str
    expected_amount: Decimal | None
    expected_source: str


class ReasonOut(Schema):
    field: str
    message: str


class ClaimOut(Schema):
    id: int
    control_number: str
    state: str
    frequency: str
    replaces_id: int | None
    payer_claim_number: str
    payer_id: int
    patient_id: int
    visit_id: int
    batch_id: int | None
    total_charge: Decimal
    place_of_service: str
    diagnoses: list[str]
    rendering_npi: str
    referring_npi: str
    hold_reasons: list[ReasonOut]
    warnings: list[ReasonOut]
    lines: list[ClaimLineOut]
    payments: list[dict[str, Any]] = Field(
        description="Payments posted from remittances, one per remittance line: remittance "
        "id, trace number, payment date, CLP02, line number, charge, paid, allowed, remarks"
    )
    adjustments: list[dict[str, Any]] = Field(
        description="Adjustments posted from remittances: remittance id, line number (null "
        "at claim level), group (CO, PR, OI, PI), reason (CARC), amount, quantity"
    )
    created_at: datetime
    updated_at: datetime


@router.get("/payers", response={200: list[PayerOut], **ERRORS})
def payers_list(request: HttpRequest) -> Any:
    """Your clinic's payers with their billing ids and claim rules."""
    user = cast(User, request.user)
    clinic_id_of(user)
    out = []
    for payer in payer_list(user=user).select_related("billing"):
        billing = getattr(payer, "billing", None)
        out.append(
            PayerOut(
                id=payer.pk,
                name=payer.name,
                type=payer.type,
                electronic_id=billing.electronic_id if billing else "",
                filing_indicator=billing.filing_indicator if billing else "",
                requires_referring_provider=billing.requires_referring_provider
                if billing
                else True,
                assistant_cosign_required=payer.assistant_cosign_required,
            )
        )
    return out


@router.post("/claims/batches", response={201: BatchOut, **ERRORS})
def claims_batch_create(request: HttpRequest, payload: BatchIn) -> Any:
    """Make claims for the payer's signed notes up to `through`, then write the ready ones as
    one 837P file (005010X222A1, validated with pyx12). 400 naming the field when it cannot
    be written (no ready claim, no billing identity, a claim's problem); nothing is saved."""
    user = _biller(request)
    payer = payer_get(user=user, payer_id=payload.payer_id)
    batch = batches.batch_create(user=user, payer=payer, through=payload.through)
    return Status(
        201,
        BatchOut(
            id=batch.pk,
            claims=batch.claim_count,
            total_charge=batch.total_charge,
            isa_control=batch.isa_control,
            payer_id=batch.payer_id,
        ),
    )


@router.get(
    "/claims/batches/{batch_id}/x12",
    response={200: None, **ERRORS},
    openapi_extra={
        "responses": {
            "200": {
                "description": "The 837P file as written at export",
                "content": {"text/plain": {"schema": {"type": "string"}}},
            }
        }
    },
)
def claims_batch_x12(request: HttpRequest, batch_id: IdPath) -> Any:
    """The batch's 837P file, byte for byte as first exported."""
    user = _biller(request)
    batch = selectors.batch_get(user=user, batch_id=batch_id)
    response = HttpResponse(
        batches.batch_x12(user=user, batch=batch), content_type="text/plain; charset=utf-8"
    )
    response["Content-Disposition"] = f'inline; filename="{selectors.batch_filename(batch)}"'
    return response


@router.get("/claims/{claim_id}", response={200: ClaimOut, **ERRORS})
@decorate_view(audit_read("api claim"))
def claims_detail(request: HttpRequest, claim_id: IdPath) -> Any:
    """A claim with its lines (each with the expected payment and its source) and state."""
    user = _biller(request)
    claim = selectors.claim_get(user=user, claim_id=claim_id)
    detail = selectors.claim_detail(claim)
    payments, adjustments = claim_postings(claim)
    return ClaimOut(
        id=claim.pk,
        control_number=claim.control_number,
        state=claim.state,
        frequency=claim.frequency,
        replaces_id=claim.replaces_id,
        payer_claim_number=claim.payer_claim_number,
        payer_id=claim.payer_id,
        patient_id=claim.patient_id,
        visit_id=claim.visit_id,
        batch_id=claim.batch_id,
        total_charge=claim.total_charge,
        place_of_service=claim.place_of_service,
        diagnoses=list(claim.diagnoses),
        rendering_npi=claim.rendering.npi,
        referring_npi=claim.referring_npi,
        hold_reasons=[ReasonOut(**r) for r in claim.hold_reasons],
        warnings=[ReasonOut(**r) for r in claim.warnings],
        lines=[
            ClaimLineOut(
                number=row.line.number,
                code=row.line.code,
                modifiers=list(row.line.modifiers),
                units=row.line.units,
                charge=row.line.charge,
                service_date=row.line.service_date,
                diagnosis_pointers=list(row.line.diagnosis_pointers),
                line_control_number=row.line.line_control_number,
                expected_amount=row.expected.amount,
                expected_source=row.expected.source,
            )
            for row in detail.lines
        ],
        payments=payments,
        adjustments=adjustments,
        created_at=claim.created_at,
        updated_at=claim.updated_at,
    )

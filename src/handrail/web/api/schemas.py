"""Input and output schemas of the JSON API, one pair per endpoint family (style.md §8)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from ninja import Schema
from pydantic import AfterValidator, AwareDatetime, ConfigDict, Field


def _no_nul(value: str) -> str:
    # PostgreSQL text cannot hold NUL characters; refuse them as bad input (422), not a 500.
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    return value


Text = Annotated[str, Field(max_length=10_000), AfterValidator(_no_nul)]
ShortText = Annotated[str, Field(max_length=200), AfterValidator(_no_nul)]
VisitTypeName = Literal["evaluation", "treatment", "progress_report", "re_evaluation", "discharge"]


# Errors -------------------------------------------------------------------------------------


class ErrorOut(Schema):
    """400/401/403/404/503: `detail` says what is wrong; `errors` names each bad field."""

    detail: str
    errors: dict[str, list[str]] | None = None


class ValidationErrorOut(Schema):
    """422: the request does not match the schema (pydantic's list of problems)."""

    detail: list[dict[str, Any]]


# Patients -----------------------------------------------------------------------------------


class PatientOut(Schema):
    id: int
    first_name: str
    last_name: str
    birth_date: date
    sex: str
    phone: str
    email: str
    city: str
    state: str
    zip: str


Name = Annotated[str, Field(min_length=1, max_length=100), AfterValidator(_no_nul)]
RelationshipCode = Literal["18", "01", "19", "G8"]


class SubscriberIn(Schema):
    """The insured when it is not the patient (837P loop 2010BA)."""

    model_config = ConfigDict(extra="forbid")

    first_name: Name
    last_name: Name
    birth_date: date
    sex: Literal["F", "M", "U"]


class SubscriberOut(Schema):
    first_name: str
    last_name: str
    birth_date: date | None
    sex: str


class CoverageIn(Schema):
    """Add or replace the patient's primary (1) or secondary (2) coverage. `relationship` is
    the patient's relationship to the insured (X12 SBR02/PAT01: 18 self, 01 spouse, 19 child,
    G8 other); `subscriber` is required when it is not 18 and refused when it is."""

    model_config = ConfigDict(extra="forbid")

    payer_id: Annotated[int, Field(ge=1, le=2_147_483_647)]
    member_id: Annotated[str, Field(min_length=1, max_length=40), AfterValidator(_no_nul)]
    order: Literal[1, 2] = 1
    start_date: date | None = None
    end_date: date | None = None
    relationship: RelationshipCode = "18"
    subscriber: SubscriberIn | None = None


class CoverageOut(Schema):
    order: int
    payer_id: int
    payer: str
    payer_type: str
    member_id: str
    relationship: str = Field(description="18 self, 01 spouse, 19 child, G8 other")
    subscriber: SubscriberOut | None = Field(description="The insured; null when self")


class CaseOut(Schema):
    id: int
    discipline: str
    title: str
    opened_on: date
    closed_on: date | None
    discharge_reason: str


class DischargeIn(Schema):
    closed_on: date
    discharge_reason: Annotated[
        str, Field(min_length=1, max_length=200), AfterValidator(_no_nul)
    ] = Field(description="Why the episode ends, e.g. goals met")


# Authorizations -----------------------------------------------------------------------------

Id = Annotated[int, Field(ge=1, le=2_147_483_647)]
Visits = Annotated[int, Field(ge=1, le=1000)]
Units = Annotated[int, Field(ge=1, le=10_000)]
AuthorizationNumber = Annotated[str, Field(max_length=60), AfterValidator(_no_nul)]


class AuthorizationIn(Schema):
    payer_id: Id
    number: AuthorizationNumber = ""
    visits_authorized: Visits
    units_authorized: Units | None = Field(default=None, description="null: units not limited")
    start_date: date
    end_date: date


class AuthorizationUpdateIn(Schema):
    """Send only what changes; `units_authorized: null` lifts the unit limit."""

    payer_id: Id | None = None
    number: AuthorizationNumber | None = None
    visits_authorized: Visits | None = None
    units_authorized: Units | None = None
    start_date: date | None = None
    end_date: date | None = None


class AuthorizationEndIn(Schema):
    ended_on: date = Field(description="The last day the authorization covers")


class AuthorizationOut(Schema):
    id: int
    case_id: int
    payer_id: int
    payer: str
    number: str
    visits_authorized: int
    units_authorized: int | None
    start_date: date
    end_date: date
    visits_used: int
    units_used: int
    status: Literal["future", "active", "exhausted", "expired"]


class PatientDetailOut(PatientOut):
    address: str
    coverages: list[CoverageOut]
    cases: list[CaseOut] = Field(description="Empty for roles that see no clinical records")


# Visits -------------------------------------------------------------------------------------


class VisitCreateIn(Schema):
    case_id: int = Field(ge=1, le=2_147_483_647)
    date: date
    visit_type: VisitTypeName = "treatment"
    place_of_service: str = Field(default="11", pattern=r"^[0-9]{2}$")
    telehealth: Literal["home", "other"] | None = None
    patient_present: bool = True
    caregiver_present: bool = False
    distinct_services: bool = False
    medical_necessity_attested: bool = False
    narrative: Text = ""


Version = Annotated[
    int,
    Field(
        ge=1,
        le=2_147_483_647,
        description="The version of the note's header or line this change is based on (from "
        "the last answer); an older one than the stored version is a 409 naming who changed "
        "it and when",
    ),
]


class VisitUpdateIn(Schema):
    """Send the `version` you read and only the fields that change."""

    model_config = ConfigDict(extra="forbid")

    version: Version
    visit_type: VisitTypeName | None = None
    place_of_service: str | None = Field(default=None, pattern=r"^[0-9]{2}$")
    telehealth: Literal["home", "other", ""] | None = None
    patient_present: bool | None = None
    caregiver_present: bool | None = None
    distinct_services: bool | None = None
    medical_necessity_attested: bool | None = None
    narrative: Text | None = None


class LineIn(Schema):
    code: ShortText
    therapist_minutes: int = Field(default=0, ge=-1_000_000, le=1_000_000)
    assistant_minutes: int = Field(default=0, ge=-1_000_000, le=1_000_000)
    requested_units: int | None = Field(default=None, ge=0, le=1000)
    baseline: Text = ""
    task: Text = ""
    technique: Text = ""
    skilled: Text = ""
    performance: Text = ""
    text: Text = ""


class LineUpdateIn(Schema):
    """Send the line's `version` you read and only the fields that change."""

    model_config = ConfigDict(extra="forbid")

    version: Version
    therapist_minutes: int | None = Field(default=None, ge=-1_000_000, le=1_000_000)
    assistant_minutes: int | None = Field(default=None, ge=-1_000_000, le=1_000_000)
    requested_units: int | None = Field(default=None, ge=0, le=1000)
    baseline: Text | None = None
    task: Text | None = None
    technique: Text | None = None
    skilled: Text | None = None
    performance: Text | None = None
    text: Text | None = None


class LineOut(Schema):
    id: int
    code: str
    version: int
    updated_by: str | None
    updated_at: datetime | None
    therapist_minutes: int
    assistant_minutes: int
    total_minutes: int
    requested_units: int | None
    baseline: str
    task: str
    technique: str
    skilled: str
    performance: str
    text: str


class SegmentIn(Schema):
    started_at: AwareDatetime
    ended_at: AwareDatetime


class SegmentOut(Schema):
    id: int
    line_id: int
    started_at: datetime
    ended_at: datetime
    by_assistant: bool
    line_therapist_minutes: int
    line_assistant_minutes: int


class AddendumIn(Schema):
    reason: ShortText
    text: Text


class TimerOut(Schema):
    """One timer run of a line; a running one has `ended_at` null."""

    id: int
    line_id: int
    code: str
    started_at: datetime
    ended_at: datetime | None
    running: bool
    capped: bool = Field(description="Stopped at the end of the visit's day (midnight)")
    seconds: int = Field(description="Length of a finished run; 0 while running")
    by: str
    by_assistant: bool


class TimerStartOut(Schema):
    timer: TimerOut
    stopped: list[TimerOut] = Field(
        description="Your runs on other lines of the note, stopped as this one started"
    )
    line: LineOut


class TimerStopOut(Schema):
    timer: TimerOut | None = Field(
        description="The run stopped now; null when no timer was running (nothing changed)"
    )
    capped: bool = Field(description="The run went past midnight and ends at midnight")
    line: LineOut


class ReconcileIn(Schema):
    """What to bill for a line whose billed minutes and timer total disagree."""

    model_config = ConfigDict(extra="forbid")

    line_id: Id
    choice: Literal["timer", "keep"] = Field(
        description="timer: bill the timer's minutes; keep: keep the typed minutes, say why"
    )
    reason: Annotated[str, Field(max_length=300), AfterValidator(_no_nul)] = ""


class SignIn(Schema):
    """Optional body of a sign: a note whose evaluation has error findings is signed only
    with `reason` (why sign anyway), stored with the signature and audited. A note whose
    lines' billed minutes and timer totals disagree is signed only with a `reconcile`
    choice for each of those lines (applied, stored and audited before signing)."""

    model_config = ConfigDict(extra="forbid")

    reason: Annotated[str, Field(max_length=300), AfterValidator(_no_nul)] = ""
    reconcile: list[ReconcileIn] = Field(default=[], max_length=100)


class AddendumOut(Schema):
    id: int
    author: str
    at: datetime
    reason: str
    text: str


class VisitOut(Schema):
    id: int
    version: int
    updated_by: str | None
    updated_at: datetime
    case_id: int
    patient_id: int
    discipline: str
    date: date
    visit_type: str
    clinician_id: int
    clinician: str
    place_of_service: str
    telehealth: str
    patient_present: bool
    caregiver_present: bool
    distinct_services: bool
    medical_necessity_attested: bool
    narrative: str
    status: Literal["draft", "signed"]
    signed_by: str | None
    signed_at: datetime | None
    cosigned_by: str | None
    cosigned_at: datetime | None
    sign_reason: str
    needs_cosign: bool
    lines: list[LineOut]
    addenda: list[AddendumOut]


class VisitCreatedOut(VisitOut):
    warnings: list[str] = Field(
        description="Authorization problems for the visit's day: expired, used up, or none "
        "where the payer requires one"
    )


# Evaluation (the engine's VisitResult.to_dict()) ---------------------------------------------


class FindingOut(Schema):
    severity: str
    rule: str
    message: str
    fix: str
    source: str
    line: int | None = None


class EvaluationOut(Schema):
    """handrail.rules.visit.VisitResult.to_dict(): claim_lines carry code, units, modifiers,
    amount, unit_amounts and fee_schedule; payment carries allowed, coinsurance, source,
    locality and conversion_factor; threshold carries applies, accrued_after, kx_required,
    review_flag (and year, group, amount, source when it applies)."""

    date: str
    unit_rule: str
    place_of_service: str
    total_timed_minutes: int
    total_units: int
    claim_lines: list[dict[str, Any]]
    payment: dict[str, Any] | None
    threshold: dict[str, Any] | None
    findings: list[FindingOut]
    explanation: list[str]


class CountersOut(Schema):
    case_id: int
    on: date
    treatment_days_since_report: int
    progress_report_due: bool
    days_since_certification: int | None
    certification_due: date | None
    recertification_due: date | None

"""The claim of the hand-checked sample 837P (../shared/data/x12/sample_837p.x12) as values,
for tests that change one thing at a time."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

from handrail.claims.model import (
    Address,
    Batch,
    BillingProvider,
    Claim,
    Clinician,
    Contact,
    ControlNumbers,
    Coverage,
    Insured,
    Party,
    Payer,
    Person,
    ServiceLine,
)

X12_SAMPLES = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "x12"
SERVICE_DAY = date(2026, 11, 20)
MEDICARE = Payer("Medicare Part B", "00952", "MB")
JOHN = Insured(
    Person("Doe", "John", "A"),
    Address("456 Oak Ave", "Springfield", "IL", "627045678"),
    date(1950, 1, 1),
    "M",
)


def sample_line(code: str = "97535", **changes: object) -> ServiceLine:
    line = ServiceLine(
        code=code,
        modifiers=("GP",),
        charge=Decimal("150.00"),
        units=2,
        service_date=SERVICE_DAY,
        diagnosis_pointers=(1, 2),
        control_number="PTCLM0001-1",
    )
    return replace(line, **changes)  # type: ignore[arg-type]


def sample_claim(**changes: object) -> Claim:
    claim = Claim(
        control_number="PTCLM0001",
        coverage=Coverage(subscriber=JOHN, member_id="1EG4TE5MK73", payer=MEDICARE),
        place_of_service="11",
        diagnoses=("I69351", "Z471"),
        lines=(
            sample_line(),
            sample_line(
                "97530",
                modifiers=("GP", "59"),
                charge=Decimal("125.00"),
                units=1,
                diagnosis_pointers=(1,),
                control_number="PTCLM0001-2",
            ),
        ),
        rendering=Clinician(Person("Smith", "Jane"), "1245319599", "225100000X"),
    )
    return replace(claim, **changes)  # type: ignore[arg-type]


def sample_batch(**changes: object) -> Batch:
    batch = Batch(
        submitter=Party("Acme Physical Therapy", "ACMEPT01"),
        submitter_contact=Contact("Jane Biller", "217-555-1234", "billing@acmept.example"),
        receiver=Party("Example Clearinghouse", "CLRHOUSE01"),
        billing_provider=BillingProvider(
            "Acme Physical Therapy LLC",
            "1234567893",
            "37-1234567",
            "225100000X",
            Address("123 Main St", "Springfield", "IL", "627011234"),
        ),
        claims=(sample_claim(),),
        control=ControlNumbers(interchange=1, group=1, transaction=1),
        created=datetime(2026, 11, 23, 14, 30),
        reference="PT20261123001",
    )
    return replace(batch, **changes)  # type: ignore[arg-type]

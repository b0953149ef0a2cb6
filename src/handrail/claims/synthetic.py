"""Synthetic claim batches and the remittances that pay them, for the benchmark, the
property test and the demo: made-up people, valid-looking identifiers (NPIs with correct
check digits), therapy codes and amounts that balance to the cent. No real person or payer
data.

`remittance_for(batch)` adjudicates every line the way a Medicare contractor typically does:
an allowed amount (a share of the charge), the rest written off as contractual (CO-45), 20%
of the allowed amount as coinsurance (PR-2), the remainder paid; lines listed in `deny` are
denied whole with the reason given instead. Every claim and the payment total balance by
construction (005010X221A1 section 1.10.2).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Final

from handrail.claims import x835
from handrail.claims.identifiers import npi_check_digit
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

CENT: Final = Decimal("0.01")
THERAPY_CODES: Final = ("97110", "97112", "97116", "97140", "97530", "97535", "97161", "97165")
LAST_NAMES: Final = ("SYNTHETIC", "EXAMPLE", "SAMPLE", "TESTER", "MOCK", "PLACEHOLDER")
FIRST_NAMES: Final = ("ADA", "BEN", "CORA", "DEV", "ELI", "FAY", "GUS", "HAL")
DIAGNOSES: Final = ("I69351", "R2681", "M25561", "M5450", "Z471", "R262")
MEDICARE: Final = Payer("Medicare Part B", "00952", "MB")
CLINIC_NPI: Final = "1234567893"


def synthetic_npi(rng: random.Random) -> str:
    stem = "1" + "".join(str(rng.randint(0, 9)) for _ in range(8))
    return stem + npi_check_digit(stem)


def synthetic_batch(
    count: int, *, seed: int = 1, service_day: date = date(2026, 11, 20), lines: int = 3
) -> Batch:
    """`count` claims of 1 to `lines` lines each, for one clinic and Medicare."""
    rng = random.Random(seed)
    therapists = [
        Clinician(Person(rng.choice(LAST_NAMES), rng.choice(FIRST_NAMES)), synthetic_npi(rng))
        for _ in range(8)
    ]
    claims = []
    for number in range(1, count + 1):
        control = f"SY{number:08d}"
        person = Person(rng.choice(LAST_NAMES), rng.choice(FIRST_NAMES))
        insured = Insured(
            person,
            Address(f"{rng.randint(1, 999)} OAK AVE", "SPRINGFIELD", "IL", "62704"),
            date(1940 + rng.randint(0, 40), rng.randint(1, 12), rng.randint(1, 28)),
            rng.choice("FM"),
        )
        day = service_day - timedelta(days=rng.randint(0, 60))
        codes = rng.sample(THERAPY_CODES, rng.randint(1, lines))
        claim_lines = tuple(
            ServiceLine(
                code=code,
                modifiers=("GP",),
                charge=Decimal(rng.randint(6000, 30000)) * CENT,
                units=rng.randint(1, 4),
                service_date=day,
                diagnosis_pointers=(1,),
                control_number=f"{control}-{index}",
            )
            for index, code in enumerate(codes, start=1)
        )
        claims.append(
            Claim(
                control_number=control,
                coverage=Coverage(insured, f"{rng.randint(1, 9)}EG4TE5MK{rng.randint(10, 99)}",
                                  MEDICARE),
                place_of_service="11",
                diagnoses=(rng.choice(DIAGNOSES),),
                lines=claim_lines,
                rendering=rng.choice(therapists),
            )
        )  # fmt: skip
    return Batch(
        submitter=Party("Synthetic Rehab", "SYNREHAB01"),
        submitter_contact=Contact("Billing Office", "217-555-0100"),
        receiver=Party("Example Clearinghouse", "CLRHOUSE01"),
        billing_provider=BillingProvider(
            "Synthetic Rehab LLC",
            CLINIC_NPI,
            "37-1234567",
            "225100000X",
            Address("123 Main St", "Springfield", "IL", "627011234"),
        ),
        claims=tuple(claims),
        control=ControlNumbers(1, 1, 1),
        created=datetime(2026, 11, 23, 14, 30),
    )


@dataclass(frozen=True)
class Denial:
    """Deny one line: claim control number, line control number, group and reason, remarks."""

    claim: str
    line: str
    group: str = "CO"
    reason: str = "97"
    remarks: tuple[str, ...] = ()


def _cents(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def remittance_for(
    batch: Batch,
    *,
    trace: str = "SYN0000001",
    paid_on: date = date(2026, 12, 1),
    allowed_share: Decimal = Decimal("0.80"),
    deny: tuple[Denial, ...] = (),
    provider_adjustments: tuple[x835.ProviderAdjustment, ...] = (),
) -> x835.Remittance:
    denied = {(d.claim, d.line): d for d in deny}
    claims = []
    for claim in batch.claims:
        lines = []
        for line in claim.lines:
            denial = denied.get((claim.control_number, line.control_number))
            if denial is not None:
                adjustments = [x835.Adjustment(denial.group, denial.reason, line.charge)]
                paid, allowed, remarks = Decimal("0.00"), None, list(denial.remarks)
            else:
                allowed = _cents(line.charge * allowed_share)
                coinsurance = _cents(allowed * Decimal("0.20"))
                paid = allowed - coinsurance
                adjustments = [
                    x835.Adjustment("CO", "45", line.charge - allowed),
                    x835.Adjustment("PR", "2", coinsurance),
                ]
                remarks = []
            lines.append(
                x835.LinePayment(
                    code=line.code,
                    modifiers=line.modifiers,
                    charge=line.charge,
                    paid=paid,
                    units=Decimal(line.units),
                    segment_number=0,
                    service_date=line.service_date,
                    control_number=line.control_number,
                    allowed=allowed,
                    adjustments=adjustments,
                    remarks=remarks,
                )
            )
        paid = sum((line.paid for line in lines), Decimal("0"))
        patient = sum(
            (a.amount for line in lines for a in line.adjustments if a.group == "PR"),
            Decimal("0"),
        )
        subscriber = claim.coverage.subscriber.person
        claims.append(
            x835.ClaimPayment(
                control_number=claim.control_number,
                status="1" if paid or patient else "4",
                charge=claim.total_charge,
                paid=paid,
                patient_responsibility=patient,
                payer_claim_number=f"26{claim.control_number[2:]}000",
                segment_number=0,
                lines=lines,
                filing_indicator=claim.coverage.payer.filing_indicator,
                patient_name=f"{subscriber.last_name},{subscriber.first_name}",
                member_id=claim.coverage.member_id,
            )
        )
    total = sum((c.paid for c in claims), Decimal("0")) - sum(
        (p.amount for p in provider_adjustments), Decimal("0")
    )
    return x835.Remittance(
        total_paid=total,
        payment_method="ACH",
        trace_number=trace,
        payment_date=paid_on,
        payer_name=batch.claims[0].coverage.payer.name if batch.claims else "MEDICARE",
        payee_name=batch.billing_provider.name,
        payee_npi=batch.billing_provider.npi,
        claims=claims,
        provider_adjustments=list(provider_adjustments),
    )

"""Billing of the synthetic demo clinic: its billing identity, payers' ids, clinicians' NPIs,
a charge master, a contract for the commercial payer, claims for the signed notes and one
exported 837P batch, with claims moved on to show every state a biller works with.

Called by `manage.py load_demo` after the visits exist; claims and the batch go through the
services (scrub, pyx12 validation), so the demo obeys the rules typed-in data does. The later
states (accepted, paid, denied...) stand in for what the remittance side posts from an 835.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from handrail.web.billing.batches import batch_create
from handrail.web.billing.claims import claim_acknowledge, claims_from_visits
from handrail.web.billing.models import (
    ChargeEntry,
    Claim,
    ClaimState,
    ClinicBilling,
    ClinicianBilling,
    Contract,
    ContractKind,
    PayerBilling,
)
from handrail.web.billing.services import change_state
from handrail.web.clinic.models import Clinic, Payer, PayerType, User
from handrail.web.visits.models import ServiceLine

# Synthetic NPIs with valid check digits (none belongs to a real provider we know of).
CLINICIAN_NPIS = {"pt": ("1678901236", "225100000X"), "ot": ("1245319599", "225X00000X")}
ASSISTANT_NPI = ("1456789019", "225XR0403X")
# The clinic's charge for one unit (its own prices, well above any payer's allowance).
CHARGES = {
    "97110": "95.00",
    "97112": "105.00",
    "97116": "95.00",
    "97140": "90.00",
    "97530": "115.00",
    "97535": "110.00",
    "97161": "240.00",
    "97162": "260.00",
    "97163": "280.00",
    "97165": "240.00",
    "97166": "260.00",
    "97167": "280.00",
}
DEFAULT_CHARGE = Decimal("100.00")


def load_demo_billing(*, clinic: Clinic, users: dict[str, User], today: date) -> dict[str, int]:
    ClinicBilling.objects.create(
        clinic=clinic,
        legal_name=f"{clinic.name} LLC",
        group_npi=clinic.npi or "1234567893",
        tax_id="37-1234567",
        taxonomy="261QR0400X",
        address_line1="100 Demo Way",
        city="Springfield",
        state="IL",
        zip_code="627011234",
        submitter_id="DEMOREHAB01",
        submitter_name=clinic.name,
        contact_name="Bianca Lowe",
        contact_phone="217-555-0100",
        contact_email="biller@demo.invalid",
        receiver_id="DEMOCLEAR01",
        receiver_name="Demo Clearinghouse",
    )
    for payer in Payer.objects.filter(clinic=clinic):
        medicare = payer.type == PayerType.MEDICARE
        PayerBilling.objects.create(
            payer=payer,
            electronic_id="00952" if medicare else "BPH01",
            filing_indicator="MB" if medicare else "CI",
        )
        if not medicare:
            Contract.objects.create(
                clinic=clinic,
                payer=payer,
                kind=ContractKind.PERCENT_OF_MEDICARE,
                percent=Decimal("115"),
                effective_from=date(2025, 1, 1),
            )
    for username, (npi, taxonomy) in {**CLINICIAN_NPIS, "ota": ASSISTANT_NPI}.items():
        user = users[username]
        User.objects.filter(pk=user.pk).update(npi=npi)
        ClinicianBilling.objects.create(user=user, taxonomy=taxonomy)
    codes = set(ServiceLine.objects.filter(visit__clinic=clinic).values_list("code", flat=True))
    for code in sorted(codes):
        ChargeEntry.objects.create(
            clinic=clinic,
            code=code,
            charge=Decimal(CHARGES.get(code, DEFAULT_CHARGE)),
            effective_from=date(2025, 1, 1),
        )
    biller = users["biller"]
    made = claims_from_visits(user=biller, clinic=clinic, through=today)
    medicare_payer = Payer.objects.get(clinic=clinic, type=PayerType.MEDICARE)
    # The biller acknowledged the warnings of the older claims (the newest wait for it).
    cutoff = today - timedelta(days=21)
    for claim in made.claims:
        held = claim.state == ClaimState.HELD and not claim.hold_reasons
        if held and claim.visit.date <= cutoff:
            claim_acknowledge(user=biller, claim=claim)
    batch = batch_create(user=biller, payer=medicare_payer, through=cutoff, make_claims=False)
    _move_on(list(batch.claims.order_by("visit__date", "pk")), biller)
    return {"claims": len(made.claims), "batches": 1}


# What became of the exported claims, oldest first: (states in order, reason of the last).
OUTCOMES = (
    ((ClaimState.ACCEPTED, ClaimState.PAID, ClaimState.CLOSED), "paid in full; closed"),
    ((ClaimState.ACCEPTED, ClaimState.PARTLY_PAID), "a line paid less than expected"),
    ((ClaimState.DENIED,), "CO-50: not deemed medically necessary by the payer"),
    ((ClaimState.DENIED, ClaimState.APPEALED), "appeal letter sent with the signed note"),
    ((ClaimState.REJECTED,), "clearinghouse: subscriber id not found"),
    ((ClaimState.ACCEPTED,), "accepted by the payer (277CA)"),
    ((ClaimState.ACCEPTED, ClaimState.PAID), "paid in full"),
)


def _move_on(claims: list[Claim], biller: User) -> None:
    """Most exported claims are paid; the rest show the other states, one each, and the
    newest three are still out with the payer (sent)."""
    for index, claim in enumerate(claims[:-3]):
        states, reason = OUTCOMES[index] if index < len(OUTCOMES) else OUTCOMES[-1]
        for state in states:
            by = biller if state in (ClaimState.APPEALED, ClaimState.CLOSED) else None
            change_state(claim, state, by=by, reason=f"demo: {reason}")

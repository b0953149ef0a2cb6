"""The demo clinic's remittance: the Medicare 835 for the claims out with the payer (all but
the newest, which stays sent), posted through the same service a biller uses, with two
denied lines to work (a bundling denial and a medical-necessity one), plus anonymous pattern
reports so that one pattern shows. Synthetic throughout; the reports standing for other
clinics use made-up keys."""

from __future__ import annotations

import hashlib
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from handrail.claims import x835
from handrail.claims.patterns import clinic_key
from handrail.claims.x835_write import Envelope, write_835
from handrail.web.billing.models import Claim, ClaimLine, ClaimState, ClinicBilling
from handrail.web.clinic.models import Clinic, PayerType, User
from handrail.web.remittances.models import DenialReport
from handrail.web.remittances.patterns import pattern_secret
from handrail.web.remittances.services import remittance_post

CENT = Decimal("0.01")
# (group, reason, remarks) of the denied lines, in the order of the claims' lines.
DENIALS = (("CO", "97", ("N20",)), ("CO", "50", ("N115",)))


def _line(line: ClaimLine, denial: tuple[str, str, tuple[str, ...]] | None) -> x835.LinePayment:
    if denial is not None:
        group, reason, remarks = denial
        adjustments = [x835.Adjustment(group, reason, line.charge)]
        paid, allowed = Decimal("0.00"), None
    else:
        allowed = (line.charge * Decimal("0.55")).quantize(CENT, rounding=ROUND_HALF_UP)
        coinsurance = (allowed * Decimal("0.20")).quantize(CENT, rounding=ROUND_HALF_UP)
        paid, remarks = allowed - coinsurance, ()
        adjustments = [
            x835.Adjustment("CO", "45", line.charge - allowed),
            x835.Adjustment("PR", "2", coinsurance),
        ]
    return x835.LinePayment(
        code=line.code,
        modifiers=tuple(line.modifiers),
        charge=line.charge,
        paid=paid,
        units=Decimal(line.units),
        segment_number=0,
        service_date=line.service_date,
        control_number=line.line_control_number,
        allowed=allowed,
        adjustments=adjustments,
        remarks=list(remarks),
    )


def load_demo_remittances(
    *, clinic: Clinic, users: dict[str, User], today: date
) -> dict[str, int]:
    billing = ClinicBilling.objects.filter(clinic=clinic).first()
    claims = list(
        Claim.objects.filter(
            clinic=clinic, state=ClaimState.SENT, payer__type=PayerType.MEDICARE
        ).order_by("visit__date", "pk")
    )
    # The newest claim stays out with the payer (sent): the demo shows every state.
    claims = claims[:-1]
    if billing is None or not claims:
        return {"remittances": 0}
    denials = list(DENIALS)
    payments = []
    for claim in claims:
        lines = []
        for line in claim.lines.order_by("number"):
            # Deny the last line of the first claims (one denial each) while denials remain.
            last = line.number == claim.lines.count()
            lines.append(_line(line, denials.pop(0) if last and denials else None))
        paid = sum((ln.paid for ln in lines), Decimal("0"))
        patient = sum(
            (a.amount for ln in lines for a in ln.adjustments if a.group == "PR"), Decimal("0")
        )
        payments.append(
            x835.ClaimPayment(
                control_number=claim.control_number,
                status="1" if paid or patient else "4",
                charge=sum((ln.charge for ln in lines), Decimal("0")),
                paid=paid,
                patient_responsibility=patient,
                payer_claim_number=f"26{claim.control_number[-8:]}000",
                segment_number=0,
                lines=lines,
                filing_indicator="MB",
                patient_name=f"{claim.patient.last_name},{claim.patient.first_name}".upper(),
                member_id=claim.coverage.member_id if claim.coverage else "UNKNOWN",
            )
        )
    paid_on = today - timedelta(days=3)
    remittance = x835.Remittance(
        total_paid=sum((p.paid for p in payments), Decimal("0")),
        payment_method="ACH",
        trace_number=f"DEMO{paid_on:%Y%m%d}",
        payment_date=paid_on,
        payer_name=claims[0].payer.name,
        payer_id=_electronic_id(claims[0]),
        payee_name=billing.legal_name,
        payee_npi=billing.group_npi,
        claims=payments,
    )
    envelope = Envelope("MEDICAREB01", billing.submitter_id, 9001, datetime(2026, 12, 1, 9, 0))
    text = write_835([remittance], envelope)
    remittance_post(user=users["biller"], text=text, filename="demo-medicare.835")
    return {"remittances": 1, "pattern_reports": _pattern_reports(billing.group_npi)}


def _pattern_reports(group_npi: str) -> int:
    """Five reports of 97530 denied CO-97 by Medicare from three clinics (this one and two
    made-up ones), so the pattern shows; and two of another reason, which does not."""
    own = clinic_key(pattern_secret(), group_npi)
    others = [clinic_key(b"demo-other-clinics-key", f"demo clinic {n}") for n in (1, 2)]
    rows = [
        (own, "97530", ["GP"], "97", ["N20"], "added_distinct_modifier"),
        (others[0], "97530", ["GP"], "97", ["N20"], "added_distinct_modifier"),
        (others[0], "97530", ["GP"], "97", ["M15"], "appeal_won"),
        (others[1], "97530", ["GP"], "97", ["N20"], "added_distinct_modifier"),
        (others[1], "97530", ["GP", "59"], "97", ["N20"], "appeal_won"),
        (others[1], "97110", ["GP"], "50", ["N115"], "appeal_won"),
        (own, "97110", ["GP"], "50", ["N115"], "written_off"),
    ]
    for index, (key, code, modifiers, reason, remarks, fix) in enumerate(rows):
        DenialReport.objects.create(
            clinic_key=key,
            line_key=hashlib.sha256(f"demo report {index}".encode()).hexdigest(),
            code=code,
            modifiers=modifiers,
            payer_kind="medicare",
            group="CO",
            reason=reason,
            remarks=remarks,
            fix=fix,
        )
    return len(rows)


def _electronic_id(claim: Claim) -> str:
    billing = getattr(claim.payer, "billing", None)
    return billing.electronic_id if billing is not None else ""

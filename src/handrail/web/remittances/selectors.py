"""Reads over posted remittances: the therapy threshold from what Medicare allowed, and the
denials worklist (denied, short-paid and underpaid lines with the reason codes explained,
the likely cause read from the visit, and aging)."""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from django.db.models import QuerySet
from django.utils import timezone

from handrail.claims.denials import LikelyCause, LineContext, NcciPartner, likely_causes
from handrail.claims.posting import (
    PATIENT_GROUP,
    ROUTINE_REASONS,
    LineOutcome,
    PostedAdjustment,
    PostedLine,
    line_outcome,
    net_adjustments,
)
from handrail.claims.reasons import Reason, ReasonKind, reason_table
from handrail.rules.model import RuleInputError
from handrail.rules.threshold import threshold_amount
from handrail.web.billing.claims import diagnosis_check
from handrail.web.billing.models import Claim, ClaimEvent, ClaimLine, ClaimState, PayerBilling
from handrail.web.billing.pricing import expected_amounts
from handrail.web.clinic.models import Patient, PayerType, Role, User
from handrail.web.clinic.permissions import can_view_clinical, clinic_id_of, require
from handrail.web.remittances.models import Adjustment, LinePayment
from handrail.web.visits.models import Visit, VisitStatus

ZERO = Decimal("0")
CENT = Decimal("0.01")
DISCIPLINE_MODIFIER = {"PT": "GP", "OT": "GO", "SLP": "GN"}
# Aging of a denial, from the remittance's payment date (or the posting day).
AGING_BUCKETS = ((0, 30, "0-30"), (31, 60, "31-60"), (61, 90, "61-90"), (91, None, "90+"))
WORKED_STATES = (ClaimState.PAID, ClaimState.PARTLY_PAID, ClaimState.DENIED, ClaimState.APPEALED)
# The engine's NCCI findings name the pair at the start of their message (rules/edits.py).
_NCCI_MESSAGE = re.compile(
    r"^(?P<col2>[0-9A-Z]{5}) (?:pairs with|is bundled into) (?P<col1>[0-9A-Z]{5})"
)


# --- the threshold from remittances -------------------------------------------------------


@dataclass(frozen=True)
class RemittedThreshold:
    """One threshold group's year: the engine's estimate for every signed visit, the amount
    with Medicare's allowed amounts in place of the estimate where a remittance was posted,
    and the difference (remitted - estimated)."""

    group: str
    amount: Decimal | None  # the year's threshold amount, None for a year Handrail lacks
    estimated: Decimal
    remitted: Decimal
    visits: int
    visits_remitted: int

    @property
    def difference(self) -> Decimal:
        return self.remitted - self.estimated


def _threshold_group(discipline: str) -> str:
    return "OT" if discipline == "OT" else "PT/SLP"


def line_allowed(payment: LinePayment) -> Decimal:
    """What the payer allowed for one posting (`allowed_of`)."""
    patient = ZERO
    if payment.allowed is None:  # the adjustments are read only when they decide it
        patient = sum((a.amount for a in payment.adjustments.all() if a.group == "PR"), ZERO)
    return allowed_of(payment.allowed, payment.paid, patient)


def allowed_of(allowed: Decimal | None, paid: Decimal, patient_share: Decimal) -> Decimal:
    """AMT*B6 (the allowed amount) when the payer sent it, else paid + the patient's share
    (group PR adjustments)."""
    return allowed if allowed is not None else paid + patient_share


def remitted_allowed(visit_ids: list[int]) -> dict[int, Decimal]:
    """Visit id -> what Medicare allowed, net of reversals, for visits with a posted
    Medicare remittance (others are absent)."""
    # Read narrow and unordered (the postings' default order joins the remittance and its
    # advice): the worklists ask this on every page.
    payments = list(
        LinePayment.objects.filter(
            line__claim__visit_id__in=visit_ids, line__claim__payer__type=PayerType.MEDICARE
        )
        .order_by()
        .values_list("pk", "line__claim__visit_id", "allowed", "paid")
    )
    patient_share: dict[int, Decimal] = defaultdict(lambda: ZERO)
    without_allowed = [pk for pk, _visit, allowed, _paid in payments if allowed is None]
    if without_allowed:
        for payment_id, amount in (
            Adjustment.objects.filter(line_payment_id__in=without_allowed, group="PR")
            .order_by()
            .values_list("line_payment_id", "amount")
        ):
            patient_share[payment_id] += amount
    out: dict[int, Decimal] = defaultdict(lambda: ZERO)
    for pk, visit_id, allowed, paid in payments:
        out[visit_id] += allowed_of(allowed, paid, patient_share[pk])
    return dict(out)


def patient_threshold_remitted(
    *, user: User, patient: Patient, today: date | None = None
) -> list[RemittedThreshold]:
    """The patient's year so far per threshold group they were seen in (SSA §1833(g): PT and
    SLP share one amount, OT has its own; 42 CFR 410.59(e)/410.60(e) count what Medicare
    allowed, so a posted allowed amount replaces the engine's estimate)."""
    require(can_view_clinical(user), "Your role cannot see clinical records.")
    if patient.clinic_id != clinic_id_of(user):
        require(False, "This patient is not in your clinic.")
    day = today or timezone.localdate()
    try:
        amount: Decimal | None = threshold_amount(day.year)[0]
    except RuleInputError:
        amount = None
    visits = list(
        Visit.objects.filter(
            case__patient=patient,
            status=VisitStatus.SIGNED,
            date__gte=date(day.year, 1, 1),
            date__lte=day,
        ).values_list("pk", "case__discipline", "allowed_amount")
    )
    remitted = remitted_allowed([pk for pk, _d, _a in visits])
    totals: dict[str, list[Decimal | int]] = {}
    for pk, discipline, allowed in visits:
        row = totals.setdefault(_threshold_group(discipline), [ZERO, ZERO, 0, 0])
        estimate = allowed or ZERO
        row[0] += estimate
        row[1] += remitted.get(pk, estimate)
        row[2] += 1
        row[3] += 1 if pk in remitted else 0
    return [
        RemittedThreshold(
            group,
            amount,
            Decimal(row[0]).quantize(CENT),
            Decimal(row[1]).quantize(CENT),
            int(row[2]),
            int(row[3]),
        )  # fmt: skip
        for group, row in sorted(totals.items())
    ]


# --- the denials worklist ------------------------------------------------------------------


@dataclass
class DenialRow:
    """A denied, short-paid or underpaid claim line with everything a biller needs to work it."""

    claim: Claim
    line: ClaimLine
    outcome: str  # denied, short or underpaid
    paid: Decimal
    patient_share: Decimal
    expected: Decimal | None
    adjustments: dict[tuple[str, str], Decimal]
    remarks: list[str]
    reasons: list[Reason]
    causes: list[LikelyCause]
    first_remitted: date
    age_days: int
    bucket: str
    denial_codes: list[str] = field(default_factory=list)  # "CO-97", "N20"

    @property
    def reason_key(self) -> str:
        """The CARC that explains the line (the first non-patient, non-routine one)."""
        for group, reason in self.adjustments:
            if group != PATIENT_GROUP and reason not in ROUTINE_REASONS:
                return reason
        return next(iter(r for _g, r in self.adjustments), "")


def can_work_denials(user: User) -> bool:
    return user.role in (Role.ADMIN, Role.BILLER) and user.clinic_id is not None


def aging_bucket(days: int) -> str:
    for low, high, label in AGING_BUCKETS:
        if days >= low and (high is None or days <= high):
            return label
    return AGING_BUCKETS[0][2]


def denial_rows(*, user: User, today: date | None = None, bucket: str = "") -> list[DenialRow]:
    """The clinic's lines to work, oldest first, in a fixed number of queries whatever the
    number of claims (`_rows_of`)."""
    require(can_work_denials(user), "The denials worklist is for billers and clinic admins.")
    day = today or timezone.localdate()
    claims = Claim.objects.filter(
        clinic_id=clinic_id_of(user), state__in=WORKED_STATES, payments__isnull=False
    ).distinct()
    rows = _rows_of(claims, day)
    rows.sort(key=lambda row: (-row.age_days, row.claim.control_number, row.line.number))
    if bucket:
        rows = [row for row in rows if row.bucket == bucket]
    return rows


def denial_row(*, user: User, claim_id: int, line_number: int) -> DenialRow | None:
    """One line of the worklist (None when the line is not denied, short or underpaid)."""
    require(can_work_denials(user), "The denials worklist is for billers and clinic admins.")
    claims = Claim.objects.filter(clinic_id=clinic_id_of(user), pk=claim_id)
    rows = _rows_of(claims, timezone.localdate(), line_number=line_number)
    return rows[0] if rows else None


def _rows_of(
    claims: QuerySet[Claim], day: date, *, line_number: int | None = None
) -> list[DenialRow]:
    """The worklist rows of the given claims: the claims' line postings with their lines,
    claims, payers, visits and remittances (one query), the postings' adjustments (one), the
    claims' first sent events (one), their payers' billing (joined) and the expected amounts
    (`pricing.expected_amounts`, two): never a query per claim or line."""
    postings = (
        LinePayment.objects.filter(line__claim__in=claims.values("pk"))
        .select_related(
            "line__claim__payer__billing",
            "line__claim__visit__case",
            "line__claim__patient",
            "claim_payment__advice__remittance",
        )
        .prefetch_related("adjustments")
        .order_by("pk")
    )
    if line_number is not None:
        postings = postings.filter(line__number=line_number)
    by_line: dict[int, list[LinePayment]] = defaultdict(list)
    lines: dict[int, ClaimLine] = {}
    claim_of: dict[int, Claim] = {}
    for posting in postings:
        # One Claim object per claim, shared by its lines (as the rows show one claim).
        line = lines.setdefault(posting.line_id, posting.line)
        line.claim = claim_of.setdefault(line.claim_id, line.claim)
        by_line[line.pk].append(posting)
    if not lines:
        return []
    sent = _first_sent(set(claim_of))
    expected = expected_amounts(list(lines.values()))
    rows = []
    for line in sorted(lines.values(), key=lambda ln: (ln.claim_id, ln.number)):
        row = _row(line, by_line[line.pk], day, expected[line.pk].amount, sent)
        if row is not None:
            rows.append(row)
    return rows


def _first_sent(claim_ids: set[int]) -> dict[int, date]:
    """Claim id -> the day it was first sent (its first event to `sent`), in one query."""
    out: dict[int, date] = {}
    for claim_id, at in (
        ClaimEvent.objects.filter(claim_id__in=claim_ids, to_state=ClaimState.SENT)
        .order_by("at", "id")
        .values_list("claim_id", "at")
    ):
        out.setdefault(claim_id, timezone.localdate(at))
    return out


def _row(
    line: ClaimLine,
    posted: list[LinePayment],
    day: date,
    expected: Decimal | None,
    sent: dict[int, date],
) -> DenialRow | None:
    claim = line.claim
    adjustments = [
        PostedAdjustment(a.group, a.reason, a.amount) for p in posted for a in p.adjustments.all()
    ]
    paid = sum((p.paid for p in posted), ZERO)
    outcome = line_outcome(PostedLine(paid, tuple(adjustments))).value
    net = net_adjustments(adjustments)
    patient_share = sum((amount for (g, _r), amount in net.items() if g == "PR"), ZERO)
    if outcome == LineOutcome.PAID:
        # Underpaid: the payer's allowed amount (paid + patient share) is below the contract.
        if expected is None or paid + patient_share >= expected - CENT:
            return None
        outcome = "underpaid"
    remarks = [remark for p in posted for remark in p.remarks]
    table = reason_table()
    carcs = [reason for (_g, reason) in net]
    reasons = [table.explain(ReasonKind.CARC, code) for code in dict.fromkeys(carcs)]
    reasons += [table.explain(ReasonKind.RARC, code) for code in dict.fromkeys(remarks)]
    first = posted[0].claim_payment.advice
    first_remitted = first.payment_date or first.remittance.posted_at.date()
    age = max((day - first_remitted).days, 0)
    context = line_context(claim, line, carcs, remarks, submitted_on=sent.get(claim.pk))
    return DenialRow(
        claim=claim,
        line=line,
        outcome=outcome,
        paid=paid,
        patient_share=patient_share,
        expected=expected,
        adjustments=net,
        remarks=list(dict.fromkeys(remarks)),
        reasons=reasons,
        causes=likely_causes(context),
        first_remitted=first_remitted,
        age_days=age,
        bucket=aging_bucket(age),
        denial_codes=[f"{g}-{r}" for (g, r) in net] + list(dict.fromkeys(remarks)),
    )


def line_context(
    claim: Claim,
    line: ClaimLine,
    carcs: list[str],
    remarks: list[str],
    *,
    submitted_on: date | None,
) -> LineContext:
    """What the visit and the claim say about the line, for `denials.likely_causes`; the
    claim's payer (with its billing), visit and case must be loaded."""
    visit = claim.visit
    evaluation = visit.evaluation if isinstance(visit.evaluation, dict) else {}
    partners = []
    for finding in evaluation.get("findings") or []:
        if not isinstance(finding, dict) or not str(finding.get("rule", "")).startswith("ncci"):
            continue
        match = _NCCI_MESSAGE.match(str(finding.get("message", "")))
        if match and match["col2"] == line.code:
            bypassable = finding.get("rule") != "ncci.ptp.never-bypassed"
            partners.append(NcciPartner(match["col1"], bypassable))
    threshold = evaluation.get("threshold") or {}
    billing: PayerBilling | None = getattr(claim.payer, "billing", None)
    return LineContext(
        code=line.code,
        modifiers=tuple(line.modifiers),
        service_date=line.service_date,
        carcs=tuple(carcs),
        rarcs=tuple(remarks),
        medicare=claim.payer.type == PayerType.MEDICARE,
        submitted_on=submitted_on,
        ncci_partners=tuple(partners),
        past_threshold=bool(threshold.get("kx_required")),
        plan_discipline=DISCIPLINE_MODIFIER.get(visit.case.discipline, ""),
        authorization_required=claim.payer.requires_authorization,
        authorization_number=claim.prior_authorization,
        non_billable_diagnoses=tuple(
            code for code in claim.diagnoses if diagnosis_check(code, line.service_date)
        ),
        referring_required=bool(billing and billing.requires_referring_provider),
        referring_npi=claim.referring_npi,
    )


# --- a claim's postings (GET /api/claims/{id}) ---------------------------------------------


def claim_postings(claim: Claim) -> tuple[list[dict[str, object]], list[dict[str, object]]]:
    """The claim's posted payments (one per remittance line) and adjustments (claim or line
    level), in posting order; amounts as strings to the cent, reversals negative."""
    payments: list[dict[str, object]] = []
    for payment in (
        LinePayment.objects.filter(claim_payment__claim=claim)
        .select_related("claim_payment__advice", "line")
        .order_by("pk")
    ):
        advice = payment.claim_payment.advice
        payments.append(
            {
                "remittance_id": advice.remittance_id,
                "trace_number": advice.trace_number,
                "payment_date": advice.payment_date.isoformat() if advice.payment_date else None,
                "claim_status": payment.claim_payment.status,
                "line_number": payment.line.number,
                "charge": str(payment.charge),
                "paid": str(payment.paid),
                "allowed": None if payment.allowed is None else str(payment.allowed),
                "remarks": list(payment.remarks),
            }
        )
    adjustments: list[dict[str, object]] = []
    for adjustment in (
        Adjustment.objects.filter(claim_payment__claim=claim)
        .select_related("claim_payment__advice", "line_payment__line")
        .order_by("pk")
    ):
        line = adjustment.line_payment.line if adjustment.line_payment else None
        adjustments.append(
            {
                "remittance_id": adjustment.claim_payment.advice.remittance_id,
                "line_number": line.number if line else None,
                "group": adjustment.group,
                "reason": adjustment.reason,
                "amount": str(adjustment.amount),
                "quantity": None if adjustment.quantity is None else str(adjustment.quantity),
            }
        )
    return payments, adjustments

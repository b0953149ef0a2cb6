"""Posting an 835 remittance: read and balance it (handrail.claims.x835), check it is this
clinic's and not already posted, match every claim by its control number (CLP01 = CLM01) and
every line by its line item control number (REF*6R) or by code, modifiers and date, then post
payments and adjustments and move each claim to paid, partly paid or denied (billing's
`change_state`). All or nothing: any problem refuses the whole file and posts nothing."""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TypeVar

from django.conf import settings
from django.db import IntegrityError, connection, transaction

from handrail.claims import x835
from handrail.claims.posting import (
    PostedAdjustment,
    PostedLine,
    claim_outcome,
    payer_matches,
)
from handrail.web.audit.models import AuditAction, AuditEvent
from handrail.web.billing.models import Claim, ClaimLine, ClaimState, ClinicBilling
from handrail.web.billing.services import CHUNK, change_states_locked
from handrail.web.clinic.models import Role, User
from handrail.web.clinic.permissions import clinic_id_of, require
from handrail.web.remittances.models import (
    Adjustment,
    ClaimPayment,
    LinePayment,
    PaymentAdvice,
    ProviderAdjustment,
    Remittance,
)

ZERO = Decimal("0")
REVERSAL = "22"


def can_post_remittances(user: User) -> bool:
    return user.role in (Role.ADMIN, Role.BILLER) and user.clinic_id is not None


class RemittanceRefusedError(Exception):
    """The file was not posted: `problems` says why (each naming the segment and its
    position), `unmatched` lists the claims and lines that match nothing of this clinic.
    `status` is the HTTP status the API answers with (409 for a duplicate, 413 for a file
    over REMITTANCE_MAX_BYTES, else 422)."""

    def __init__(
        self, problems: list[str], *, unmatched: list[str] | None = None, status: int = 422
    ) -> None:
        self.problems = problems
        self.unmatched = unmatched or []
        self.status = status
        super().__init__("; ".join([*problems, *self.unmatched]))


@dataclass
class Posted:
    remittance: Remittance
    claims_matched: int
    lines_posted: int
    paid_total: Decimal
    adjustment_total: Decimal
    provider_adjustment_total: Decimal
    states: dict[str, str] = field(default_factory=dict)  # control number -> new state


@dataclass
class _Match:
    payment: x835.ClaimPayment
    claim: Claim
    lines: list[tuple[x835.LinePayment, ClaimLine, str]]


def remittance_digest(text: str) -> str:
    return hashlib.sha256(text.strip().encode("utf-8")).hexdigest()


def remittance_post(*, user: User, text: str, filename: str = "") -> Posted:
    """Post the file or raise RemittanceRefusedError with every problem found."""
    require(can_post_remittances(user), "Only billers and clinic admins post remittances.")
    clinic_id = clinic_id_of(user)
    if not text.strip():
        raise RemittanceRefusedError(["file: the file is empty; upload the 835 as received"])
    limit = settings.REMITTANCE_MAX_BYTES
    if len(text) > limit:
        raise RemittanceRefusedError(
            [f"file: larger than {limit:,} bytes (REMITTANCE_MAX_BYTES); nothing was posted"],
            status=413,
        )
    # Blank lines around the file (an e-mail client, a copy and paste) are not part of it.
    text = text.strip() + "\n"
    if not text.startswith("ISA"):
        raise RemittanceRefusedError(
            ["segment 1: an X12 file starts with an ISA segment; this is not an 835"]
        )
    # pyx12's validation of a large file takes a while: read it before the transaction, so no
    # row is locked meanwhile.
    try:
        advices = x835.read_835(text)
    except x835.RemittanceError as error:
        raise RemittanceRefusedError(error.problems) from None
    if not advices:
        raise RemittanceRefusedError(["file: no 835 transaction set (ST*835) in the file"])
    try:
        with transaction.atomic():
            return _post(user, clinic_id, text, filename, advices)
    except IntegrityError:
        # Another biller posted the same file or payment at the same moment.
        raise RemittanceRefusedError(
            ["file: this remittance was posted by someone else just now; nothing was posted"],
            status=409,
        ) from None


def _post(
    user: User, clinic_id: int, text: str, filename: str, advices: list[x835.Remittance]
) -> Posted:
    digest = remittance_digest(text)
    earlier = Remittance.objects.filter(clinic_id=clinic_id, digest=digest).first()
    if earlier is not None:
        raise RemittanceRefusedError(
            [
                f"file: this file was already posted on {earlier.posted_at:%Y-%m-%d %H:%M} "
                f"UTC (remittance {earlier.pk}); nothing was posted again"
            ],
            status=409,
        )
    _check_payee_and_duplicates(clinic_id, advices)
    matches, unmatched, problems = _match(clinic_id, advices)
    if unmatched or problems:
        raise RemittanceRefusedError(problems, unmatched=unmatched)
    remittance = Remittance.objects.create(
        clinic_id=clinic_id,
        digest=digest,
        filename=filename[:200],
        text=text,
        posted_by=user,
        claims_matched=len({m.claim.pk for ms in matches.values() for m in ms}),
        lines_posted=sum(len(m.lines) for ms in matches.values() for m in ms),
        paid_total=sum((a.total_paid for a in advices), ZERO),
        adjustment_total=sum(
            (adj.amount for a in advices for c in a.claims for adj in c.all_adjustments), ZERO
        ),
        provider_adjustment_total=sum(
            (p.amount for a in advices for p in a.provider_adjustments), ZERO
        ),
    )
    touched: dict[int, Claim] = {}
    for index, advice in enumerate(advices):
        row = _advice_row(remittance, clinic_id, advice)
        _post_claims(row, matches[index])
        for match in matches[index]:
            touched[match.claim.pk] = match.claim
    states = _move_states(user, list(touched.values()), remittance)
    _audit(user, touched.values(), remittance)
    return Posted(
        remittance,
        remittance.claims_matched,
        remittance.lines_posted,
        remittance.paid_total,
        remittance.adjustment_total,
        remittance.provider_adjustment_total,
        states,
    )


def _check_payee_and_duplicates(clinic_id: int, advices: list[x835.Remittance]) -> None:
    billing = ClinicBilling.objects.filter(clinic_id=clinic_id).first()
    if billing is None:
        raise RemittanceRefusedError(
            ["clinic: the clinic has no billing identity (group NPI) to post remittances to"]
        )
    problems: list[str] = []
    for advice in advices:
        where = f"payment {advice.trace_number or '(no trace number)'}"
        if not advice.payee_npi:
            problems.append(f"{where} N1*PE: the payee has no NPI (N103 XX); cannot tell whose")
        elif advice.payee_npi != billing.group_npi:
            problems.append(
                f"{where} N1*PE: the payee NPI {advice.payee_npi} is not this clinic's "
                f"({billing.group_npi}); this remittance is for another provider"
            )
        if PaymentAdvice.objects.filter(
            clinic_id=clinic_id, trace_number=advice.trace_number
        ).exists():
            raise RemittanceRefusedError(
                [f"{where} TRN02: this payment was already posted; nothing was posted again"],
                status=409,
            )
    if problems:
        raise RemittanceRefusedError(problems)


def _match(
    clinic_id: int, advices: list[x835.Remittance]
) -> tuple[dict[int, list[_Match]], list[str], list[str]]:
    numbers = {c.control_number for a in advices for c in a.claims}
    claims = {
        claim.control_number: claim
        for claim in Claim.objects.select_for_update(of=("self",))
        .select_related("payer", "payer__billing")
        .filter(clinic_id=clinic_id, control_number__in=numbers)
        .order_by("pk")
    }
    lines_of: dict[int, list[ClaimLine]] = defaultdict(list)
    for line in ClaimLine.objects.filter(claim__in=list(claims.values())).order_by("number"):
        lines_of[line.claim_id].append(line)
    matches: dict[int, list[_Match]] = defaultdict(list)
    unmatched: list[str] = []
    problems: list[str] = []
    for index, advice in enumerate(advices):
        for payment in advice.claims:
            where = f"CLP segment {payment.segment_number} claim {payment.control_number}"
            claim = claims.get(payment.control_number)
            if claim is None:
                unmatched.append(f"{where}: no claim of this clinic has this control number")
                continue
            if claim.state in (ClaimState.HELD, ClaimState.READY):
                problems.append(f"{where}: the claim is {claim.state}, it was never sent")
                continue
            if claim.state == ClaimState.REJECTED:
                problems.append(f"{where}: the claim was rejected; correct and resend it first")
                continue
            payer_problem = _payer_problem(where, advice, claim)
            if payer_problem:
                problems.append(payer_problem)
                continue
            matched = _match_lines(where, payment, lines_of[claim.pk], unmatched)
            matches[index].append(_Match(payment, claim, matched))
    return matches, unmatched, problems


def _payer_problem(where: str, advice: x835.Remittance, claim: Claim) -> str:
    """Why the file's payer is not the claim's payer, or "" when it is (a remittance posted
    to another payer's claim would mark it paid with money that payer never sent)."""
    billing = getattr(claim.payer, "billing", None)
    claim_payer_id = billing.electronic_id if billing is not None else ""
    if payer_matches(
        file_name=advice.payer_name,
        file_payer_id=advice.payer_id,
        file_trace_id=advice.payer_trace_id,
        claim_payer_name=claim.payer.name,
        claim_payer_id=claim_payer_id,
    ):
        return ""
    in_file = f'N1*PR "{advice.payer_name}"'
    if advice.payer_id:
        in_file += f" payer id {advice.payer_id}"
    if advice.payer_trace_id:
        in_file += f" TRN03 {advice.payer_trace_id}"
    of_claim = f'"{claim.payer.name}"'
    if claim_payer_id:
        of_claim += f" (electronic payer id {claim_payer_id})"
    return (
        f"{where}: the file's payer is {in_file}, but the claim was billed to {of_claim}; "
        "post each payer's remittance to its own claims, or set the payer's electronic id "
        "under billing settings if it is the same payer"
    )


def _match_lines(
    where: str, payment: x835.ClaimPayment, lines: list[ClaimLine], unmatched: list[str]
) -> list[tuple[x835.LinePayment, ClaimLine, str]]:
    free = list(lines)
    matched: list[tuple[x835.LinePayment, ClaimLine, str]] = []
    for paid in payment.lines:
        found, how = None, ""
        if paid.control_number:
            found = next(
                (ln for ln in free if ln.line_control_number == paid.control_number), None
            )
            how = "6R"
        if found is None:
            candidates = [
                ln
                for ln in free
                if ln.code == paid.code
                and tuple(ln.modifiers) == paid.modifiers
                and (paid.service_date is None or ln.service_date == paid.service_date)
            ]
            found = candidates[0] if candidates else None
            how = "code"
        if found is None:
            modifiers = ":".join(paid.modifiers)
            unmatched.append(
                f"{where} SVC segment {paid.segment_number} line "
                f"{paid.code}{':' + modifiers if modifiers else ''}"
                f"{' REF*6R ' + paid.control_number if paid.control_number else ''}: "
                "matches no line of the claim"
            )
            continue
        free.remove(found)
        matched.append((paid, found, how))
    return matched


def _advice_row(remittance: Remittance, clinic_id: int, advice: x835.Remittance) -> PaymentAdvice:
    row = PaymentAdvice.objects.create(
        remittance=remittance,
        clinic_id=clinic_id,
        trace_number=advice.trace_number,
        payer_name=advice.payer_name[:60],
        payee_npi=advice.payee_npi,
        payment_date=advice.payment_date,
        payment_method=advice.payment_method[:3],
        total_paid=advice.total_paid,
    )
    ProviderAdjustment.objects.bulk_create(
        ProviderAdjustment(advice=row, reason=p.reason, reference=p.reference, amount=p.amount)
        for p in advice.provider_adjustments
    )
    return row


def _post_claims(advice: PaymentAdvice, matches: list[_Match]) -> None:
    """The payment's claim and line postings and their adjustments, in a few bulk inserts
    whatever the number of claims (a 10,000-claim 835 is one payment)."""
    claim_rows = _created(
        ClaimPayment,
        [
            ClaimPayment(
                advice=advice,
                claim=match.claim,
                status=match.payment.status,
                charge=match.payment.charge,
                paid=match.payment.paid,
                patient_responsibility=match.payment.patient_responsibility,
                payer_claim_number=match.payment.payer_claim_number,
                segment=match.payment.segment_number,
            )
            for match in matches
        ],
    )
    line_rows = _created(
        LinePayment,
        [
            LinePayment(
                claim_payment=row,
                line=line,
                charge=paid.charge,
                paid=paid.paid,
                allowed=paid.allowed,
                units=paid.units,
                remarks=paid.remarks,
                matched_by=how,
                segment=paid.segment_number,
            )
            for row, match in zip(claim_rows, matches, strict=True)
            for paid, line, how in match.lines
        ],
    )
    adjustments: list[Adjustment] = []
    lines = iter(line_rows)
    for row, match in zip(claim_rows, matches, strict=True):
        adjustments.extend(_adjustment(row, None, a) for a in match.payment.adjustments)
        for paid, _line, _how in match.lines:
            line_row = next(lines)
            adjustments.extend(_adjustment(row, line_row, a) for a in paid.adjustments)
    Adjustment.objects.bulk_create(adjustments, batch_size=CHUNK)
    numbered = []
    for match in matches:
        number = match.payment.payer_claim_number
        if number and match.payment.status != REVERSAL:
            match.claim.payer_claim_number = number
            numbered.append(match.claim)
    Claim.objects.bulk_update(numbered, ["payer_claim_number"], batch_size=CHUNK)


Row = TypeVar("Row", ClaimPayment, LinePayment)


def _created(model: type[Row], rows: list[Row]) -> list[Row]:
    """`rows` inserted, each with its primary key (the rows that point at them need it):
    in bulk where the database returns the keys of a bulk insert (PostgreSQL, SQLite 3.35+),
    else one by one."""
    if connection.features.can_return_rows_from_bulk_insert:
        return model.objects.bulk_create(rows, batch_size=CHUNK)
    for row in rows:
        row.save(force_insert=True)
    return rows


def _adjustment(
    row: ClaimPayment, line: LinePayment | None, adjustment: x835.Adjustment
) -> Adjustment:
    return Adjustment(
        claim_payment=row,
        line_payment=line,
        group=adjustment.group,
        reason=adjustment.reason,
        amount=adjustment.amount,
        quantity=adjustment.quantity,
    )


def claim_ledger(claim: Claim) -> list[PostedLine]:
    """Each line's net postings (every remittance, reversals included)."""
    return claim_ledgers([claim.pk])[claim.pk]


def claim_ledgers(claim_ids: list[int]) -> dict[int, list[PostedLine]]:
    """`claim_ledger` of many claims (claim id -> its lines in order), in three queries per
    CHUNK claims."""
    out: dict[int, list[PostedLine]] = {}
    for start in range(0, len(claim_ids), CHUNK):
        chunk = claim_ids[start : start + CHUNK]
        payments: dict[int, Decimal] = defaultdict(lambda: ZERO)
        adjustments: dict[int, list[PostedAdjustment]] = defaultdict(list)
        for line_id, paid in LinePayment.objects.filter(line__claim_id__in=chunk).values_list(
            "line_id", "paid"
        ):
            payments[line_id] += paid
        for line_id, group, reason, amount in (
            Adjustment.objects.filter(line_payment__line__claim_id__in=chunk)
            .order_by("pk")
            .values_list("line_payment__line_id", "group", "reason", "amount")
        ):
            adjustments[line_id].append(PostedAdjustment(group, reason, amount))
        lines = ClaimLine.objects.filter(claim_id__in=chunk).order_by("claim_id", "number")
        for claim_id in chunk:
            out[claim_id] = []
        for line_id, claim_id in lines.values_list("pk", "claim_id"):
            out[claim_id].append(PostedLine(payments[line_id], tuple(adjustments[line_id])))
    return out


def _move_states(user: User, claims: list[Claim], remittance: Remittance) -> dict[str, str]:
    ledgers = claim_ledgers([claim.pk for claim in claims])
    states: dict[str, str] = {}
    moves: list[tuple[Claim, str]] = []
    for claim in claims:
        outcome = claim_outcome(ledgers[claim.pk]).value
        states[claim.control_number] = outcome
        if outcome == claim.state:
            continue
        if claim.state == ClaimState.CLOSED:
            # A replaced or voided claim: the payer's reversal of it is posted (the ledger
            # must show it) but a closed claim stays closed.
            continue
        # Every other state left after `_match` (sent, accepted, paid, partly paid, denied,
        # appealed) may move to each outcome; change_states_locked refuses anything else.
        moves.append((claim, outcome))
    # The claims were locked by `_match` (select_for_update) in this transaction.
    change_states_locked(moves, by=user, reason=f"posted remittance {remittance.pk} (835)")
    return states


def _audit(user: User, claims: Iterable[Claim], remittance: Remittance) -> None:
    """One update event per claim posted to, naming the patient (bulk: a file can hold
    thousands of claims)."""
    AuditEvent.objects.bulk_create(
        AuditEvent(
            clinic_id=remittance.clinic_id,
            user=user,
            action=AuditAction.UPDATE,
            object_type="claim",
            object_id=str(claim.pk),
            patient_id=claim.patient_id,
            detail=f"remittance {remittance.pk} posted",
        )
        for claim in claims
    )

"""The appeal letter of a denied or underpaid line: the claim, the line, its reason codes and
the biller's argument, with the visit's signed note attached (handrail.claims.appeal). Making
the letter moves the claim to appealed (when its state allows) and is audited: the letter
carries the patient's note."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from handrail.claims.appeal import (
    AppealClaim,
    AppealClinic,
    AppealInputError,
    AppealLetter,
    AppealLine,
    AppealPatient,
    AppealPayer,
    SignedNote,
    render_appeal,
)
from handrail.web.audit.models import AuditAction
from handrail.web.audit.services import audit_record
from handrail.web.billing.models import ClaimState, ClinicBilling
from handrail.web.billing.services import TRANSITIONS, change_state
from handrail.web.clinic.models import Coverage, PayerType, User
from handrail.web.remittances.selectors import DenialRow
from handrail.web.visits.models import Visit, VisitStatus

MAX_ARGUMENT = 4000
NOTE_FIELDS = (
    ("baseline", "Baseline"),
    ("task", "Task trained"),
    ("technique", "Technique"),
    ("skilled", "Why skilled"),
    ("performance", "Performance"),
    ("text", "Notes"),
)


def signed_note_text(visit: Visit) -> str:
    """The signed note as plain text: each line's code, minutes and documentation, the
    narrative, then any addenda (each with its author and date)."""
    blocks = []
    for line in visit.lines.order_by("pk"):
        parts = [f"{line.code}: {line.total_minutes} minutes"]
        parts += [
            f"{label}: {value}" for name, label in NOTE_FIELDS if (value := getattr(line, name))
        ]
        blocks.append("\n".join(parts))
    if visit.narrative.strip():
        blocks.append(visit.narrative.strip())
    for addendum in visit.addenda.order_by("at"):
        blocks.append(
            f"Addendum by {addendum.author.get_full_name()} on {addendum.at:%Y-%m-%d} "
            f"({addendum.reason}):\n{addendum.text}"
        )
    return "\n\n".join(blocks)


def _initials(first: str, last: str) -> str:
    return " ".join(f"{name.strip()[0]}." for name in (first, last) if name.strip())


@transaction.atomic
def appeal_letter_make(*, user: User, row: DenialRow, argument: str) -> bytes:
    """The letter's PDF; raises ValidationError naming the field when it cannot be made."""
    argument = argument.strip()
    if not argument:
        raise ValidationError({"argument": "Write why the payer should pay the line."})
    if len(argument) > MAX_ARGUMENT:
        raise ValidationError({"argument": f"At most {MAX_ARGUMENT} characters."})
    claim, line, visit = row.claim, row.line, row.claim.visit
    if visit.status != VisitStatus.SIGNED or visit.signed_at is None or visit.signed_by is None:
        raise ValidationError({"visit": "The visit's note is not signed; an appeal needs it."})
    billing = ClinicBilling.objects.filter(clinic_id=claim.clinic_id).first()
    if billing is None:
        raise ValidationError({"clinic": "Set up the clinic's billing identity first."})
    coverage = (
        claim.coverage
        or Coverage.objects.filter(patient=claim.patient, payer=claim.payer)
        .order_by("order")
        .first()
    )
    letter = AppealLetter(
        clinic=AppealClinic(
            billing.legal_name, billing.group_npi, billing.tax_id,
            (billing.address_line1, f"{billing.city}, {billing.state} {billing.zip_code[:5]}"),
            billing.contact_phone,
        ),
        payer=AppealPayer(claim.payer.name, medicare=claim.payer.type == PayerType.MEDICARE),
        patient=AppealPatient(
            _initials(claim.patient.first_name, claim.patient.last_name),
            coverage.member_id if coverage else "",
        ),
        claim=AppealClaim(
            control_number=claim.control_number,
            payer_claim_number=claim.payer_claim_number,
            service_date=line.service_date,
            remittance_date=row.first_remitted,
            lines=(
                AppealLine(
                    line.code, tuple(line.modifiers), line.units, line.charge, row.paid,
                    tuple(row.denial_codes),
                ),
            ),
        ),
        argument=argument,
        note=SignedNote(
            signed_note_text(visit),
            visit.signed_by.get_full_name() or visit.signed_by.username,
            timezone.localdate(visit.signed_at),
        ),
        written_on=timezone.localdate(),
        signer=user.get_full_name() or user.username,
        signer_title=user.get_role_display(),
    )  # fmt: skip
    try:
        pdf = render_appeal(letter)
    except AppealInputError as error:
        raise ValidationError({error.field_name: error.message}) from None
    if ClaimState.APPEALED in TRANSITIONS[claim.state]:
        change_state(claim, ClaimState.APPEALED, by=user, reason=f"appeal of line {line.number}")
    audit_record(
        user=user,
        action=AuditAction.CREATE,
        obj=claim,
        patient=claim.patient,
        detail=f"appeal letter for line {line.number} ({line.code})",
    )
    return pdf

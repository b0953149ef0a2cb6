"""837P batches: one file per payer of the clinic's ready claims up to a date.

The file is written by `handrail.claims.x837p.write_837p` (which refuses a batch with any
problem `batch_problems` finds, the release-aware diagnosis check included) and must pass
pyx12's 005010X222A1 validation with no error; otherwise nothing is saved and no claim moves.
The ISA13/GS06/ST02 numbers come from the clinic's counters under row locks, so two billers
exporting at once never share one; the claims are locked too, so a claim goes in one batch.
The text is stored: downloading the batch again gives the same bytes.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from handrail.claims import model as x
from handrail.claims.model import ClaimInputError
from handrail.claims.x12_validation import x12_errors
from handrail.claims.x837p import batch_problems, write_837p
from handrail.web.audit.models import AuditAction
from handrail.web.audit.services import audit_record
from handrail.web.billing.claims import (
    claim_values,
    claims_from_visits,
    diagnosis_check,
    envelope,
)
from handrail.web.billing.counters import next_control
from handrail.web.billing.models import Batch, Claim, ClaimState, ClinicBilling, CounterName
from handrail.web.billing.services import change_state
from handrail.web.clinic.models import Payer, User

MAX_CLAIMS = 5000  # claims in one file; a larger export is split by date


def _ready(payer: Payer, through: date) -> list[Claim]:
    return list(
        Claim.objects.select_for_update(of=("self",))
        .select_related("patient", "payer", "rendering", "coverage")
        .filter(
            clinic_id=payer.clinic_id,
            payer=payer,
            state=ClaimState.READY,
            batch__isnull=True,
            visit__date__lte=through,
        )
        .order_by("visit__date", "pk")[:MAX_CLAIMS]
    )


def batch_create(*, user: User, payer: Payer, through: date, make_claims: bool = True) -> Batch:
    """Make claims for the payer's signed visits up to `through` (when `make_claims`), then
    write the ready ones into one 837P batch. Raises ValidationError naming the field (payer,
    through, clinic billing, claim ...) and saves nothing when the file cannot be written."""
    if payer.clinic_id != user.clinic_id:
        raise ValidationError({"payer_id": "No such payer in your clinic."})
    if through > timezone.localdate():
        raise ValidationError({"through": "The date cannot be in the future."})
    billing = ClinicBilling.objects.filter(clinic_id=payer.clinic_id).first()
    if billing is None:
        raise ValidationError(
            {"clinic_billing": "Set the clinic's billing identity (NPI, TIN, address) first."}
        )
    if not hasattr(payer, "billing"):
        raise ValidationError({"payer_id": f"{payer.name} has no electronic payer id set."})
    if make_claims:
        claims_from_visits(user=user, clinic=payer.clinic, through=through, payer_id=payer.pk)
    return _write(user=user, payer=payer, through=through, billing=billing)


@transaction.atomic
def _write(*, user: User, payer: Payer, through: date, billing: ClinicBilling) -> Batch:
    claims = _ready(payer, through)
    if not claims:
        held = Claim.objects.filter(
            payer=payer, state=ClaimState.HELD, visit__date__lte=through
        ).count()
        why = f" ({held} held: see why on the claims page)" if held else ""
        raise ValidationError(
            {
                "through": f"No ready claims for {payer.name} on or before "
                f"{through.isoformat()}{why}."
            }
        )
    control = x.ControlNumbers(
        interchange=next_control(payer.clinic_id, CounterName.INTERCHANGE),
        group=next_control(payer.clinic_id, CounterName.GROUP),
        transaction=next_control(payer.clinic_id, CounterName.TRANSACTION),
    )
    created = timezone.localtime()
    values = envelope(billing, tuple(claim_values(c) for c in claims), control, created)
    problems = batch_problems(values, diagnosis_check)
    if problems:
        raise ValidationError({"claim": [f"{p.where}: {p.message}" for p in problems[:20]]})
    try:
        text = write_837p(values, diagnosis_check)
    except ClaimInputError as exc:  # batch_problems found none, so this is belt and braces
        raise ValidationError({"claim": f"{exc.field_name}: {exc.message}"}) from exc
    errors = x12_errors(text)
    if errors:
        raise ValidationError({"x12": [str(e) for e in errors[:20]]})
    batch = Batch.objects.create(
        clinic_id=payer.clinic_id,
        payer=payer,
        created_by=user,
        through=through,
        isa_control=control.interchange,
        gs_control=control.group,
        st_control=control.transaction,
        x12=text,
        claim_count=len(claims),
        total_charge=sum((c.total_charge for c in claims), Decimal("0")),
    )
    Claim.objects.filter(pk__in=[c.pk for c in claims]).update(batch=batch)
    patients = {c.patient_id: c.patient for c in claims}
    for patient in patients.values():
        audit_record(
            user=user,
            action=AuditAction.CREATE,
            obj=batch,
            patient=patient,
            detail=f"837P batch {batch.isa_control:09d} for {payer.name}",
        )
    for claim in claims:
        change_state(claim, ClaimState.SENT, by=user, reason=f"in batch {batch.isa_control:09d}")
    return batch


def batch_x12(*, user: User, batch: Batch) -> str:
    """The stored file; each patient in it gets one VIEW event (HIPAA §164.312(b))."""
    patients = {
        c.patient_id: c.patient for c in batch.claims.select_related("patient").order_by("pk")
    }
    for patient in patients.values():
        audit_record(
            user=user,
            action=AuditAction.VIEW,
            obj=batch,
            patient=patient,
            detail=f"837P batch {batch.isa_control:09d}",
        )
    return batch.x12

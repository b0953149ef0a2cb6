"""Reads of claims and batches, always within the signed-in user's clinic."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count, QuerySet
from django.http import Http404

from handrail.web.billing.models import Batch, Claim, ClaimLine, ClaimState
from handrail.web.billing.pricing import Expected, expected_amount
from handrail.web.clinic.models import User
from handrail.web.clinic.permissions import clinic_id_of


def claim_list(*, user: User, state: str = "") -> QuerySet[Claim]:
    claims = Claim.objects.filter(clinic_id=clinic_id_of(user)).select_related(
        "patient", "payer", "visit", "batch"
    )
    if state:
        claims = claims.filter(state=state)
    return claims.order_by("-created_at", "-pk")


def claim_counts(*, user: User) -> dict[str, int]:
    """Claims per state (every state listed, 0 when none)."""
    rows = (
        Claim.objects.filter(clinic_id=clinic_id_of(user))
        .values("state")
        .annotate(n=Count("pk"))
        .order_by()
    )
    counts = dict.fromkeys(ClaimState.values, 0)
    counts.update({row["state"]: row["n"] for row in rows})
    return counts


def claim_get(*, user: User, claim_id: int) -> Claim:
    claim = (
        Claim.objects.filter(clinic_id=clinic_id_of(user), pk=claim_id)
        .select_related("patient", "payer", "visit", "rendering", "batch", "replaces")
        .first()
    )
    if claim is None:
        raise Http404("No such claim")
    return claim


@dataclass(frozen=True)
class LineRow:
    line: ClaimLine
    expected: Expected


@dataclass(frozen=True)
class ClaimDetail:
    claim: Claim
    lines: list[LineRow]


def claim_detail(claim: Claim) -> ClaimDetail:
    lines = [LineRow(line, expected_amount(line)) for line in claim.lines.all()]
    return ClaimDetail(claim, lines)


def claim_for_visit(*, visit_id: int) -> Claim | None:
    """The visit's latest claim (what a therapist sees on the note: its state)."""
    return Claim.objects.filter(visit_id=visit_id).order_by("-created_at", "-pk").first()


def batch_list(*, user: User) -> QuerySet[Batch]:
    return (
        Batch.objects.filter(clinic_id=clinic_id_of(user))
        .select_related("payer", "created_by")
        .order_by("-created_at", "-pk")
    )


def batch_get(*, user: User, batch_id: int) -> Batch:
    batch = Batch.objects.filter(clinic_id=clinic_id_of(user), pk=batch_id).first()
    if batch is None:
        raise Http404("No such batch")
    return batch


def batch_filename(batch: Batch) -> str:
    return f"837p-{batch.isa_control:09d}.x12"

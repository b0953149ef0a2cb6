"""Billing services: claim state changes (audited), control numbers, claims from visits and
837P batches. Every change happens in a transaction under row locks."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from handrail.web.billing.models import Claim, ClaimEvent, ClaimState
from handrail.web.clinic.models import User

S = ClaimState
# Rows per statement of a bulk write or an `id IN (...)` read: under SQLite's and
# PostgreSQL's limits on a statement's parameters.
CHUNK = 2_000

# Which state a claim may move to from each state. Held and ready are before sending (the
# scrub holds a claim, a biller's acknowledgement of its warnings makes it ready); a sent
# claim is accepted or rejected by the clearinghouse/payer, then paid in full or in part or
# denied on the 835; a denial may be appealed; any adjudicated claim may be closed. A posted
# reversal moves a paid claim back (paid -> denied/partly paid), so those moves are allowed.
TRANSITIONS: dict[str, frozenset[str]] = {
    S.HELD: frozenset({S.READY, S.CLOSED}),
    S.READY: frozenset({S.HELD, S.SENT, S.CLOSED}),
    S.SENT: frozenset({S.ACCEPTED, S.REJECTED, S.PAID, S.PARTLY_PAID, S.DENIED}),
    S.ACCEPTED: frozenset({S.REJECTED, S.PAID, S.PARTLY_PAID, S.DENIED}),
    S.REJECTED: frozenset({S.HELD, S.READY, S.CLOSED}),
    S.PAID: frozenset({S.PARTLY_PAID, S.DENIED, S.CLOSED}),
    S.PARTLY_PAID: frozenset({S.PAID, S.DENIED, S.APPEALED, S.CLOSED}),
    S.DENIED: frozenset({S.PAID, S.PARTLY_PAID, S.APPEALED, S.CLOSED}),
    S.APPEALED: frozenset({S.PAID, S.PARTLY_PAID, S.DENIED, S.CLOSED}),
    S.CLOSED: frozenset(),
}


class ClaimStateError(ValidationError):
    """A move the claim's state does not allow (the web and the API answer 409)."""

    def __init__(self, message: str) -> None:
        super().__init__({"state": message})


def record_event(claim: Claim, from_state: str, *, by: User | None, reason: str) -> ClaimEvent:
    return ClaimEvent.objects.create(
        claim=claim, from_state=from_state, to_state=claim.state, by=by, reason=reason[:500]
    )


@transaction.atomic
def change_state(claim: Claim, to_state: str, *, by: User | None, reason: str = "") -> Claim:
    """Move the claim to `to_state` if its current state (read under a row lock, not the
    caller's copy) allows it, and record the change as a `ClaimEvent`. Returns the fresh row
    and updates the caller's `claim.state` too."""
    if to_state not in ClaimState.values:
        raise ClaimStateError(f"Unknown claim state {to_state!r}.")
    locked = Claim.objects.select_for_update().get(pk=claim.pk)
    current = locked.state
    if to_state not in TRANSITIONS[current]:
        raise ClaimStateError(
            f"A {ClaimState(current).label.lower()} claim cannot become "
            f"{ClaimState(to_state).label.lower()}."
        )
    locked.state = to_state
    locked.save(update_fields=["state", "updated_at"])
    record_event(locked, current, by=by, reason=reason)
    claim.state = to_state
    return locked


@transaction.atomic
def change_states_locked(
    moves: list[tuple[Claim, str]], *, by: User | None, reason: str = ""
) -> None:
    """`change_state` for many claims at once (a posted remittance's), in a few queries: the
    caller holds the claims' row locks (select_for_update in this transaction) so each
    `claim.state` is current. Every move is checked first; one the state does not allow
    raises ClaimStateError and nothing moves. Updates the callers' `claim.state`."""
    for claim, to_state in moves:
        if to_state not in ClaimState.values:
            raise ClaimStateError(f"Unknown claim state {to_state!r}.")
        if to_state not in TRANSITIONS[claim.state]:
            raise ClaimStateError(
                f"Claim {claim.control_number}: a {ClaimState(claim.state).label.lower()} "
                f"claim cannot become {ClaimState(to_state).label.lower()}."
            )
    now = timezone.now()
    by_target: dict[str, list[int]] = {}
    events = []
    for claim, to_state in moves:
        by_target.setdefault(to_state, []).append(claim.pk)
        events.append(
            ClaimEvent(
                claim=claim, from_state=claim.state, to_state=to_state, by=by, reason=reason[:500]
            )
        )
        claim.state = to_state
    for to_state, ids in by_target.items():
        for start in range(0, len(ids), CHUNK):
            Claim.objects.filter(pk__in=ids[start : start + CHUNK]).update(
                state=to_state, updated_at=now
            )
    ClaimEvent.objects.bulk_create(events, batch_size=CHUNK)

"""Billing services: claim state changes (audited), control numbers, claims from visits and
837P batches. Every change happens in a transaction under row locks."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction

from handrail.web.billing.models import Claim, ClaimEvent, ClaimState
from handrail.web.clinic.models import User

S = ClaimState

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

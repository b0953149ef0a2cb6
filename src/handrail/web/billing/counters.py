"""Per-clinic control numbers (ISA13, GS06, ST02, CLM01): each taken under a row lock on the
clinic's counter, inside the caller's transaction, so two exports at once never get the same
number and a rolled-back export gives its numbers back unused (none was ever sent)."""

from __future__ import annotations

from django.db import IntegrityError, transaction

from handrail.web.billing.models import ControlCounter, CounterName

# ISA13 is nine digits (1-999999999); GS06 and ST02 are kept within it too.
MAX_CONTROL = 999_999_999


def next_control(clinic_id: int, name: CounterName | str) -> int:
    """The clinic's next number of kind `name`; call inside a transaction."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("next_control must run inside a transaction")
    counter = (
        ControlCounter.objects.select_for_update().filter(clinic_id=clinic_id, name=name).first()
    )
    if counter is None:
        try:
            with transaction.atomic():
                ControlCounter.objects.create(clinic_id=clinic_id, name=name, value=0)
        except IntegrityError:
            pass  # another transaction made it first; lock theirs
        counter = ControlCounter.objects.select_for_update().get(clinic_id=clinic_id, name=name)
    if counter.value >= MAX_CONTROL:
        raise RuntimeError(f"The clinic's {name} control numbers are used up.")
    counter.value += 1
    counter.save(update_fields=["value"])
    return counter.value

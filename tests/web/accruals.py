"""The stored yearly threshold accruals against the signed visits, for the tests."""

from __future__ import annotations

from decimal import Decimal

from handrail.web.visits.models import ThresholdAccrual, Visit, VisitStatus
from handrail.web.visits.selectors import threshold_accrual_drift, threshold_accruals_recomputed

Key = tuple[int, int, int, str]


def stored() -> dict[Key, tuple[Decimal, int]]:
    return {
        (row.clinic_id, row.patient_id, row.year, row.therapy_group): (row.allowed, row.visits)
        for row in ThresholdAccrual.objects.all()
    }


def summed_in_python() -> dict[Key, tuple[Decimal, int]]:
    """The accruals added up here, visit by visit, from the rows as the database has them."""
    out: dict[Key, tuple[Decimal, int]] = {}
    for clinic_id, patient_id, discipline, day, status, allowed in Visit.objects.values_list(
        "clinic_id", "case__patient_id", "case__discipline", "date", "status", "allowed_amount"
    ):
        if status != VisitStatus.SIGNED or allowed is None:
            continue
        key = (clinic_id, patient_id, day.year, "OT" if discipline == "OT" else "PT/SLP")
        total, visits = out.get(key, (Decimal("0"), 0))
        out[key] = (total + allowed, visits + 1)
    return out


def assert_consistent() -> None:
    expected = summed_in_python()
    assert stored() == expected
    assert threshold_accruals_recomputed() == expected
    assert threshold_accrual_drift() == (len(expected), [])

"""Reads of the hub role: the enrolment a key belongs to, and the aggregates that pass the
threshold of handrail.claims.patterns (5 reports from 3 clinics)."""

from __future__ import annotations

from handrail.claims import patterns as p
from handrail.web.patternhub.models import Enrolment, HubReport
from handrail.web.patternhub.services import KEY_PREFIX, enrolment_clinic_key, key_hash


def enrolment_for_key(*, key: str) -> Enrolment | None:
    """The enrolment whose key this is (revoked ones too: the caller refuses them with 403),
    or None. Looked up by the key's SHA-256, so no comparison leaks how much of a key was
    right."""
    if not key.startswith(KEY_PREFIX) or len(key) > 200:
        return None
    return Enrolment.objects.filter(key_hash=key_hash(key)).first()


def _as_report(row: HubReport) -> p.DenialReport:
    return p.DenialReport(
        code=row.code,
        modifiers=tuple(row.modifiers),
        payer_kind=p.PayerKind(row.payer_kind),
        group=row.group,
        reason=row.reason,
        remarks=tuple(row.remarks),
        fix=p.Fix(row.fix),
        clinic_key=row.clinic_key,
    )


def hub_patterns() -> list[p.Pattern]:
    """Every aggregate of the received reports that passes the threshold."""
    return p.aggregate(_as_report(row) for row in HubReport.objects.iterator())


def enrolment_report_counts() -> dict[int, int]:
    """Reports received per enrolment (for the hub's admin; recomputed from the keyed hash)."""
    keys = {enrolment_clinic_key(pk): pk for pk in Enrolment.objects.values_list("pk", flat=True)}
    counts = dict.fromkeys(keys.values(), 0)
    for clinic_key in HubReport.objects.values_list("clinic_key", flat=True):
        if clinic_key in keys:
            counts[keys[clinic_key]] += 1
    return counts

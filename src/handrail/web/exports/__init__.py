"""Exports for billers and clinic admins (issue 9): CSV of claims, payments and adjustments,
and a patient's record as FHIR R4 (the pure builder is `handrail.claims.fhir`)."""

"""GET /api/patients/{patient_id}/fhir: the patient's record as a FHIR R4 Bundle (type
`collection`) for billers and clinic admins. Registered on the clinic API
(handrail.web.api.api) when handrail.web.urls imports this module; audited as a read."""

from __future__ import annotations

from typing import Any, cast

from django.http import HttpRequest
from ninja.decorators import decorate_view
from ninja.responses import Status

from handrail.web.api.api import ERRORS, IdPath, api
from handrail.web.audit.reads import audit_read
from handrail.web.billing.permissions import can_bill
from handrail.web.clinic.models import User
from handrail.web.clinic.permissions import clinic_id_of, require
from handrail.web.clinic.selectors import patient_get
from handrail.web.exports.records import FhirExportError, patient_fhir
from handrail.web.exports.views import NOT_BILLER


@api.get(
    "/patients/{patient_id}/fhir",
    response={200: dict[str, Any], **ERRORS},
    tags=["patients"],
)
@decorate_view(audit_read("api FHIR record export"))
def patients_fhir(request: HttpRequest, patient_id: IdPath) -> Any:
    """The patient's record as FHIR R4 (validated with the fhir.resources R4B models):
    Patient, Condition (the plans' ICD-10-CM diagnoses), Encounter (visits), Procedure (service
    lines, CPT code only), Claim and ExplanationOfBenefit (posted remittances). References
    inside the bundle are `urn:uuid:` fullUrls, the same for the same record. 422 names a
    stored value that cannot be exported."""
    user = cast(User, request.user)
    clinic_id_of(user)
    require(can_bill(user), NOT_BILLER)
    patient = patient_get(user=user, patient_id=patient_id)
    try:
        return Status(200, patient_fhir(patient=patient))
    except FhirExportError as refused:
        # The 422 shape of the API (ValidationErrorOut): the stored value that cannot go out.
        problem = {"type": "fhir_export", "loc": ["record", refused.field_name]}
        return Status(422, {"detail": [{**problem, "msg": refused.message}]})

"""One patient's record as a FHIR R4 Bundle (type `collection`): Patient, Coverage (the
insurance its claims bill) with a RelatedPerson for an insured who is not the patient, Condition
(the plan's diagnoses), Encounter (visits), Procedure (a visit's service lines), Claim and
ExplanationOfBenefit (each posted remittance of a claim). Plain values in, JSON-ready dicts
out; no Django. Every resource and the bundle are checked against the `fhir.resources.R4B`
models (R4B shares R4's resource shapes for these eight) before they are returned.

Sources (R4, http://hl7.org/fhir/R4/):
- Bundle: entries of a `collection` carry an absolute fullUrl; references inside the bundle use
  it (bundle.html#references). We use `urn:uuid:` names, stable for a clinic and record
  (UUID version 5), so exporting the same record twice gives the same identifiers.
- Code systems (terminologies-systems.html): ICD-10-CM http://hl7.org/fhir/sid/icd-10-cm
  (codes with the dot, e.g. I69.351); CPT http://www.ama-assn.org/go/cpt (the code only: no
  AMA descriptor text is written); HCPCS Level II modifiers (GP, GO, GN, CQ, CO, KX, XE...)
  https://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets; NPI
  http://hl7.org/fhir/sid/us-npi; CMS place of service codes; X12 claim adjustment reason
  codes https://x12.org/codes/claim-adjustment-reason-codes and remittance advice remark codes
  https://x12.org/codes/remittance-advice-remark-codes.
- Claim/ExplanationOfBenefit: type `professional` (claim-type), use `claim`, priority `normal`,
  care team role `primary`, adjudication categories `submitted`, `eligible`, `benefit`
  (terminology.hl7.org/CodeSystem/adjudication). A CAS adjustment's group (CO, PR, OI, PI) is
  written as the category's text next to its CARC as the reason. Their insurance references
  the Coverage resource when the claim names one.
- Coverage: status `active`, the patient as beneficiary, the member id as subscriberId, the
  payer by display, order 1 primary or 2 secondary; relationship in
  http://terminology.hl7.org/CodeSystem/subscriber-relationship from the X12 individual
  relationship code (18 self, 01 spouse, 19 child, G8 other). The subscriber is the Patient
  for self, else a RelatedPerson (coverage.html, relatedperson.html).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.claim import Claim
from fhir.resources.R4B.condition import Condition
from fhir.resources.R4B.coverage import Coverage
from fhir.resources.R4B.encounter import Encounter
from fhir.resources.R4B.explanationofbenefit import ExplanationOfBenefit
from fhir.resources.R4B.patient import Patient
from fhir.resources.R4B.procedure import Procedure
from fhir.resources.R4B.relatedperson import RelatedPerson
from pydantic import ValidationError

from handrail.claims.model import FieldError

ICD10CM = "http://hl7.org/fhir/sid/icd-10-cm"
CPT = "http://www.ama-assn.org/go/cpt"
HCPCS = "https://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets"
NPI = "http://hl7.org/fhir/sid/us-npi"
PLACE_OF_SERVICE = (
    "https://www.cms.gov/Medicare/Coding/place-of-service-codes/Place_of_Service_Code_Set"
)
CARC = "https://x12.org/codes/claim-adjustment-reason-codes"
RARC = "https://x12.org/codes/remittance-advice-remark-codes"
ACT_CODE = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
CLAIM_TYPE = "http://terminology.hl7.org/CodeSystem/claim-type"
PRIORITY = "http://terminology.hl7.org/CodeSystem/processpriority"
CARE_TEAM_ROLE = "http://terminology.hl7.org/CodeSystem/claimcareteamrole"
ADJUDICATION = "http://terminology.hl7.org/CodeSystem/adjudication"
RELATED_CLAIM = "http://terminology.hl7.org/CodeSystem/ex-relatedclaimrelationship"
CONDITION_CLINICAL = "http://terminology.hl7.org/CodeSystem/condition-clinical"
CONDITION_VERIFICATION = "http://terminology.hl7.org/CodeSystem/condition-ver-status"
CONDITION_CATEGORY = "http://terminology.hl7.org/CodeSystem/condition-category"
SUBSCRIBER_RELATIONSHIP = "http://terminology.hl7.org/CodeSystem/subscriber-relationship"
# Names for this export's resources: UUID version 5 under one fixed namespace, keyed by the
# clinic and the record, so the same record always gets the same name.
NAMESPACE = uuid.UUID("0b5e6c1e-2d7a-5b8f-9c3e-4f1a2b3c4d5e")

GENDER = {"F": "female", "M": "male", "U": "unknown"}
# The patient's relationship to the insured: X12 individual relationship code (837P SBR02 and
# PAT01) to the FHIR subscriber-relationship code.
RELATIONSHIP = {"18": "self", "01": "spouse", "19": "child", "G8": "other"}
SELF = "18"
DISCIPLINE = {"PT": "Physical therapy", "OT": "Occupational therapy", "SLP": "Speech therapy"}
# A group code's meaning (X12 CAS01) in our own words.
ADJUSTMENT_GROUP = {
    "CO": "CO contractual obligation (the clinic writes it off)",
    "PR": "PR patient responsibility",
    "OI": "OI other adjustment",
    "PI": "PI payer-initiated reduction",
    "CR": "CR correction or reversal",
}


class FhirExportError(FieldError):
    """A value that cannot be exported: `field_name` names it."""


@dataclass(frozen=True)
class PatientIn:
    id: int
    first_name: str
    last_name: str
    birth_date: date
    sex: str  # F, M or U
    phone: str = ""
    address: str = ""
    city: str = ""
    state: str = ""
    zip: str = ""


@dataclass(frozen=True)
class SubscriberIn:
    """The insured (subscriber) of a coverage when it is not the patient."""

    first_name: str
    last_name: str
    birth_date: date
    sex: str  # F, M or U


@dataclass(frozen=True)
class CoverageIn:
    """One of the patient's coverages. `relationship` is the patient's relationship to the
    insured (18 self, 01 spouse, 19 child, G8 other); `subscriber` is the insured, given
    exactly when the relationship is not self."""

    id: int
    payer_name: str
    member_id: str
    order: int  # 1 primary, 2 secondary
    relationship: str = SELF
    subscriber: SubscriberIn | None = None
    start_date: date | None = None
    end_date: date | None = None


@dataclass(frozen=True)
class DiagnosisIn:
    """One ICD-10-CM code on a case's plan of care (with or without the dot)."""

    case_id: int
    code: str
    recorded: date  # the plan's start
    active: bool  # the case is open
    display: str = ""  # the code's title (CDC's public domain text), when known


@dataclass(frozen=True)
class Provider:
    name: str
    npi: str = ""


@dataclass(frozen=True)
class VisitIn:
    id: int
    case_id: int
    date: date
    discipline: str  # PT, OT or SLP
    signed: bool
    clinician: Provider
    place_of_service: str
    telehealth: bool = False


@dataclass(frozen=True)
class ProcedureIn:
    """One service line of a visit: the code, and the minutes it took."""

    id: int
    visit_id: int
    code: str
    minutes: int


@dataclass(frozen=True)
class ClaimLineIn:
    number: int
    code: str
    modifiers: tuple[str, ...]
    units: int
    charge: Decimal
    service_date: date
    diagnosis_pointers: tuple[int, ...]


@dataclass(frozen=True)
class ClaimIn:
    id: int
    visit_id: int
    control_number: str
    created: datetime
    state: str  # held, ready, sent, ... (handrail's claim states)
    frequency: str  # 1 original, 7 replacement, 8 void
    payer_name: str
    member_id: str
    total_charge: Decimal
    diagnoses: tuple[str, ...]
    rendering: Provider
    billing: Provider
    place_of_service: str
    lines: tuple[ClaimLineIn, ...]
    referring: Provider | None = None
    payer_claim_number: str = ""  # the claim it replaces or voids (frequency 7 or 8)
    replaces_id: int | None = None
    coverage_id: int | None = None  # the CoverageIn it bills, when known


@dataclass(frozen=True)
class AdjustmentIn:
    group: str
    reason: str
    amount: Decimal


@dataclass(frozen=True)
class EobLineIn:
    line_number: int  # the claim line paid
    code: str
    modifiers: tuple[str, ...]
    units: Decimal
    charge: Decimal
    paid: Decimal
    allowed: Decimal | None
    adjustments: tuple[AdjustmentIn, ...] = ()
    remarks: tuple[str, ...] = ()


@dataclass(frozen=True)
class EobIn:
    """One posted CLP loop of an 835: a claim's payment (or its denial or reversal)."""

    id: int
    claim_id: int
    payer_name: str
    status: str  # CLP02
    charge: Decimal
    paid: Decimal
    patient_responsibility: Decimal
    payer_claim_number: str
    trace_number: str
    payment_date: date | None
    posted: datetime
    lines: tuple[EobLineIn, ...]
    adjustments: tuple[AdjustmentIn, ...] = ()


@dataclass(frozen=True)
class PatientRecord:
    clinic_id: int
    clinic: Provider
    patient: PatientIn
    coverages: tuple[CoverageIn, ...] = ()
    diagnoses: tuple[DiagnosisIn, ...] = ()
    visits: tuple[VisitIn, ...] = ()
    procedures: tuple[ProcedureIn, ...] = ()
    claims: tuple[ClaimIn, ...] = ()
    remittances: tuple[EobIn, ...] = ()


# Helpers ---------------------------------------------------------------------------------


def icd10_with_dot(code: str) -> str:
    """ICD-10-CM as FHIR writes it: upper case with the dot after the third character."""
    text = code.strip().upper().replace(".", "")
    if len(text) < 3 or not text[0].isalpha() or not text.isalnum():
        raise FhirExportError("diagnosis", f"{code!r} is not an ICD-10-CM code")
    return text if len(text) == 3 else f"{text[:3]}.{text[3:]}"


def _money(amount: Decimal) -> dict[str, Any]:
    return {"value": float(amount), "currency": "USD"}


def _cpt(code: str) -> dict[str, Any]:
    """A CPT or HCPCS code: CPT for five digits (or four and a letter: category II/III), else
    HCPCS Level II. Code only, never AMA descriptor text."""
    system = CPT if code[:4].isdigit() else HCPCS
    return {"coding": [{"system": system, "code": code}]}


def _modifier(code: str) -> dict[str, Any]:
    """Two-digit modifiers (59, 95...) are CPT's; letter ones (GP, KX, XE, CQ...) HCPCS's."""
    return {"coding": [{"system": CPT if code.isdigit() else HCPCS, "code": code}]}


def _provider(provider: Provider) -> dict[str, Any]:
    reference: dict[str, Any] = {"display": provider.name}
    if provider.npi:
        reference["identifier"] = {"system": NPI, "value": provider.npi}
    return reference


def _place(code: str) -> dict[str, Any]:
    return {"coding": [{"system": PLACE_OF_SERVICE, "code": code}]}


def _insurance(claim: ClaimIn, names: _Names) -> dict[str, Any]:
    """The claim's coverage: a reference to its Coverage resource, or (a claim that names no
    coverage) the payer and member id as text."""
    if claim.coverage_id is not None:
        return names.ref("Coverage", claim.coverage_id)
    return {"display": f"{claim.payer_name}, member {claim.member_id}"}


def _category(code: str) -> dict[str, Any]:
    return {"coding": [{"system": ADJUDICATION, "code": code}]}


class _Names:
    def __init__(self, clinic_id: int) -> None:
        self.clinic_id = clinic_id

    def id(self, kind: str, key: object) -> str:
        return str(uuid.uuid5(NAMESPACE, f"clinic/{self.clinic_id}/{kind}/{key}"))

    def ref(self, kind: str, key: object) -> dict[str, str]:
        return {"reference": f"urn:uuid:{self.id(kind, key)}"}


# Resources -------------------------------------------------------------------------------


def patient_resource(record: PatientRecord, names: _Names) -> dict[str, Any]:
    p = record.patient
    if p.sex not in GENDER:
        raise FhirExportError("sex", f"{p.sex!r} is not F, M or U")
    resource: dict[str, Any] = {
        "resourceType": "Patient",
        "id": names.id("Patient", p.id),
        "identifier": [{"type": {"text": "Handrail patient number"}, "value": str(p.id)}],
        "name": [{"use": "official", "family": p.last_name, "given": [p.first_name]}],
        "gender": GENDER[p.sex],
        "birthDate": p.birth_date.isoformat(),
        "managingOrganization": _provider(record.clinic),
    }
    if p.phone:
        resource["telecom"] = [{"system": "phone", "value": p.phone}]
    if p.address or p.city or p.state or p.zip:
        address: dict[str, Any] = {"use": "home"}
        if p.address:
            address["line"] = [p.address]
        for key, value in (("city", p.city), ("state", p.state), ("postalCode", p.zip)):
            if value:
                address[key] = value
        resource["address"] = [address]
    return resource


def related_person_resource(
    coverage: CoverageIn, subscriber: SubscriberIn, patient_id: int, names: _Names
) -> dict[str, Any]:
    """The insured of a coverage who is not the patient (one per coverage)."""
    if subscriber.sex not in GENDER:
        raise FhirExportError("subscriber_sex", f"{subscriber.sex!r} is not F, M or U")
    return {
        "resourceType": "RelatedPerson",
        "id": names.id("RelatedPerson", coverage.id),
        "patient": names.ref("Patient", patient_id),
        "name": [
            {"use": "official", "family": subscriber.last_name, "given": [subscriber.first_name]}
        ],
        "gender": GENDER[subscriber.sex],
        "birthDate": subscriber.birth_date.isoformat(),
    }


def coverage_resource(coverage: CoverageIn, patient_id: int, names: _Names) -> dict[str, Any]:
    relationship = RELATIONSHIP.get(coverage.relationship)
    if relationship is None:
        raise FhirExportError(
            "relationship",
            f"{coverage.relationship!r} is not 18 (self), 01 (spouse), 19 (child) or G8 (other)",
        )
    if coverage.order not in (1, 2):
        raise FhirExportError("order", f"{coverage.order!r} is not 1 (primary) or 2 (secondary)")
    if coverage.relationship == SELF:
        if coverage.subscriber is not None:
            raise FhirExportError("subscriber", "given for a coverage the patient holds (self)")
        subscriber = names.ref("Patient", patient_id)
    else:
        if coverage.subscriber is None:
            raise FhirExportError(
                "subscriber", f"missing: relationship {coverage.relationship} is not self"
            )
        subscriber = names.ref("RelatedPerson", coverage.id)
    resource: dict[str, Any] = {
        "resourceType": "Coverage",
        "id": names.id("Coverage", coverage.id),
        "status": "active",
        "subscriber": subscriber,
        "beneficiary": names.ref("Patient", patient_id),
        "relationship": {"coding": [{"system": SUBSCRIBER_RELATIONSHIP, "code": relationship}]},
        "payor": [{"display": coverage.payer_name}],
        "order": coverage.order,
    }
    if coverage.member_id:
        resource["subscriberId"] = coverage.member_id
    if coverage.start_date is not None or coverage.end_date is not None:
        period: dict[str, str] = {}
        if coverage.start_date is not None:
            period["start"] = coverage.start_date.isoformat()
        if coverage.end_date is not None:
            period["end"] = coverage.end_date.isoformat()
        resource["period"] = period
    return resource


def _condition_key(diagnosis: DiagnosisIn) -> str:
    return f"{diagnosis.case_id}/{icd10_with_dot(diagnosis.code)}"


def condition_resource(diagnosis: DiagnosisIn, patient_id: int, names: _Names) -> dict[str, Any]:
    code = icd10_with_dot(diagnosis.code)
    coding: dict[str, Any] = {"system": ICD10CM, "code": code}
    if diagnosis.display:
        coding["display"] = diagnosis.display
    status = "active" if diagnosis.active else "resolved"
    return {
        "resourceType": "Condition",
        "id": names.id("Condition", _condition_key(diagnosis)),
        "clinicalStatus": {"coding": [{"system": CONDITION_CLINICAL, "code": status}]},
        "verificationStatus": {
            "coding": [{"system": CONDITION_VERIFICATION, "code": "confirmed"}]
        },
        "category": [{"coding": [{"system": CONDITION_CATEGORY, "code": "encounter-diagnosis"}]}],
        "code": {"coding": [coding]},
        "subject": names.ref("Patient", patient_id),
        "recordedDate": diagnosis.recorded.isoformat(),
    }


def encounter_resource(
    visit: VisitIn,
    patient_id: int,
    conditions: Iterable[DiagnosisIn],
    names: _Names,
    clinic: Provider,
) -> dict[str, Any]:
    if visit.discipline not in DISCIPLINE:
        raise FhirExportError("discipline", f"{visit.discipline!r} is not PT, OT or SLP")
    # Virtual (VR) for a telehealth visit, else ambulatory (AMB): HL7 v3 ActEncounterCode.
    kind = ("VR", "virtual") if visit.telehealth else ("AMB", "ambulatory")
    resource: dict[str, Any] = {
        "resourceType": "Encounter",
        "id": names.id("Encounter", visit.id),
        "status": "finished" if visit.signed else "in-progress",
        "class": {"system": ACT_CODE, "code": kind[0], "display": kind[1]},
        "type": [{"text": f"{DISCIPLINE[visit.discipline]} visit"}],
        "subject": names.ref("Patient", patient_id),
        "participant": [{"individual": _provider(visit.clinician)}],
        "period": {"start": visit.date.isoformat(), "end": visit.date.isoformat()},
        "serviceProvider": _provider(clinic),
    }
    reasons = [
        names.ref("Condition", _condition_key(d)) for d in conditions if d.case_id == visit.case_id
    ]
    if reasons:
        resource["reasonReference"] = reasons
    return resource


def procedure_resource(
    line: ProcedureIn, visit: VisitIn, patient_id: int, names: _Names
) -> dict[str, Any]:
    return {
        "resourceType": "Procedure",
        "id": names.id("Procedure", line.id),
        "status": "completed" if visit.signed else "in-progress",
        "code": _cpt(line.code),
        "subject": names.ref("Patient", patient_id),
        "encounter": names.ref("Encounter", visit.id),
        "performedDateTime": visit.date.isoformat(),
        "performer": [{"actor": _provider(visit.clinician)}],
        "note": [{"text": f"{line.minutes} minutes"}],
    }


def claim_resource(
    claim: ClaimIn, patient_id: int, names: _Names, visit_ids: set[int], claim_ids: set[int]
) -> dict[str, Any]:
    diagnoses = [icd10_with_dot(code) for code in claim.diagnoses]
    # Held claims are not yet sent (draft); a void (frequency 8) cancels the claim it names.
    status = "draft" if claim.state == "held" else "active"
    if claim.frequency == "8":
        status = "cancelled"
    care_team: list[dict[str, Any]] = [
        {
            "sequence": 1,
            "provider": _provider(claim.rendering),
            "role": {"coding": [{"system": CARE_TEAM_ROLE, "code": "primary"}]},
        }
    ]
    items = []
    for line in claim.lines:
        for pointer in line.diagnosis_pointers:
            if not 1 <= pointer <= len(diagnoses):
                raise FhirExportError(
                    "diagnosis_pointers",
                    f"claim {claim.control_number} line {line.number} points to diagnosis "
                    f"{pointer} of {len(diagnoses)}",
                )
        item: dict[str, Any] = {
            "sequence": line.number,
            "careTeamSequence": [1],
            "productOrService": _cpt(line.code),
            "servicedDate": line.service_date.isoformat(),
            "locationCodeableConcept": _place(claim.place_of_service),
            "quantity": {"value": line.units},
            "unitPrice": _money((line.charge / line.units).quantize(Decimal("0.01"))),
            "net": _money(line.charge),
        }
        if line.diagnosis_pointers:
            item["diagnosisSequence"] = list(line.diagnosis_pointers)
        if line.modifiers:
            item["modifier"] = [_modifier(m) for m in line.modifiers]
        if claim.visit_id in visit_ids:
            item["encounter"] = [names.ref("Encounter", claim.visit_id)]
        items.append(item)
    resource: dict[str, Any] = {
        "resourceType": "Claim",
        "id": names.id("Claim", claim.id),
        "identifier": [
            {"type": {"text": "Claim control number (CLM01)"}, "value": claim.control_number}
        ],
        "status": status,
        "type": {"coding": [{"system": CLAIM_TYPE, "code": "professional"}]},
        "use": "claim",
        "patient": names.ref("Patient", patient_id),
        "created": claim.created.isoformat(),
        "insurer": {"display": claim.payer_name},
        "provider": _provider(claim.billing),
        "priority": {"coding": [{"system": PRIORITY, "code": "normal"}]},
        "careTeam": care_team,
        "insurance": [
            {
                "sequence": 1,
                "focal": True,
                "coverage": _insurance(claim, names),
            }
        ],
        "total": _money(claim.total_charge),
    }
    if items:  # Claim.item is 0..* in R4
        resource["item"] = items
    if diagnoses:
        resource["diagnosis"] = [
            {
                "sequence": n,
                "diagnosisCodeableConcept": {"coding": [{"system": ICD10CM, "code": c}]},
            }
            for n, c in enumerate(diagnoses, start=1)
        ]
    if claim.referring is not None:
        resource["referral"] = _provider(claim.referring)
    if claim.frequency in ("7", "8"):
        related: dict[str, Any] = {
            "relationship": {"coding": [{"system": RELATED_CLAIM, "code": "prior"}]},
            "reference": {"value": claim.payer_claim_number},
        }
        if claim.replaces_id is not None and claim.replaces_id in claim_ids:
            related["claim"] = names.ref("Claim", claim.replaces_id)
        resource["related"] = [related]
    return resource


def _adjudication(adjustment: AdjustmentIn) -> dict[str, Any]:
    group = ADJUSTMENT_GROUP.get(adjustment.group)
    if group is None:
        raise FhirExportError("group", f"{adjustment.group!r} is not an X12 adjustment group")
    return {
        "category": {"text": group},
        "reason": {"coding": [{"system": CARC, "code": adjustment.reason}]},
        "amount": _money(adjustment.amount),
    }


def _remark(code: str) -> dict[str, Any]:
    return {
        "category": {"text": "Remittance advice remark"},
        "reason": {"coding": [{"system": RARC, "code": code}]},
    }


def eob_resource(
    eob: EobIn, claim: ClaimIn, patient_id: int, names: _Names, billing: Provider
) -> dict[str, Any]:
    items = []
    for line in eob.lines:
        adjudication = [{"category": _category("submitted"), "amount": _money(line.charge)}]
        if line.allowed is not None:
            adjudication.append(
                {"category": _category("eligible"), "amount": _money(line.allowed)}
            )
        adjudication.append({"category": _category("benefit"), "amount": _money(line.paid)})
        adjudication += [_adjudication(a) for a in line.adjustments]
        adjudication += [_remark(code) for code in line.remarks]
        item: dict[str, Any] = {
            # R4: an adjudicated item keeps the claim item's sequence (the claim line number).
            "sequence": line.line_number,
            "productOrService": _cpt(line.code),
            "quantity": {"value": float(line.units)},
            "net": _money(line.charge),
            "adjudication": adjudication,
        }
        if line.modifiers:
            item["modifier"] = [_modifier(m) for m in line.modifiers]
        items.append(item)
    # CLP02: 1-3 processed (primary, secondary, tertiary), 4 denied, 22 reversal.
    disposition = {"4": "Denied", "22": "Reversal of a previous payment"}.get(
        eob.status, f"Processed (CLP02 {eob.status})"
    )
    resource: dict[str, Any] = {
        "resourceType": "ExplanationOfBenefit",
        "id": names.id("ExplanationOfBenefit", eob.id),
        "status": "active",
        "type": {"coding": [{"system": CLAIM_TYPE, "code": "professional"}]},
        "use": "claim",
        "patient": names.ref("Patient", patient_id),
        "created": eob.posted.isoformat(),
        "insurer": {"display": eob.payer_name},
        "provider": _provider(billing),
        "claim": names.ref("Claim", eob.claim_id),
        "outcome": "complete",
        "disposition": disposition,
        "insurance": [
            {
                "focal": True,
                "coverage": _insurance(claim, names),
            }
        ],
        "total": [
            {"category": _category("submitted"), "amount": _money(eob.charge)},
            {"category": _category("benefit"), "amount": _money(eob.paid)},
        ],
        "payment": {
            "amount": _money(eob.paid),
            "identifier": {
                "type": {"text": "Check or EFT trace number (TRN02)"},
                "value": eob.trace_number,
            },
        },
    }
    if eob.payment_date is not None:
        resource["payment"]["date"] = eob.payment_date.isoformat()
    if eob.payer_claim_number:
        resource["identifier"] = [
            {
                "type": {"text": "Payer claim control number (CLP07)"},
                "value": eob.payer_claim_number,
            }
        ]
    if items:
        resource["item"] = items
    if eob.adjustments:
        resource["adjudication"] = [_adjudication(a) for a in eob.adjustments]
    return resource


MODELS: dict[str, Any] = {
    "Patient": Patient,
    "RelatedPerson": RelatedPerson,
    "Coverage": Coverage,
    "Condition": Condition,
    "Encounter": Encounter,
    "Procedure": Procedure,
    "Claim": Claim,
    "ExplanationOfBenefit": ExplanationOfBenefit,
}


def validate_resource(resource: dict[str, Any]) -> None:
    """Raise FhirExportError naming the resource and the element when the R4B model refuses it."""
    kind = resource.get("resourceType", "")
    model = MODELS.get(kind)
    if model is None:
        raise FhirExportError("resourceType", f"{kind!r} is not exported")
    try:
        model.model_validate(resource)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise FhirExportError(f"{kind}.{where}", first["msg"]) from exc


def patient_bundle(record: PatientRecord, *, generated: datetime) -> dict[str, Any]:
    """The record as a `collection` Bundle, each resource validated with the R4B models."""
    if generated.tzinfo is None:
        raise FhirExportError("generated", "needs a time zone")
    names = _Names(record.clinic_id)
    patient_id = record.patient.id
    seen: dict[str, DiagnosisIn] = {}
    for diagnosis in record.diagnoses:
        seen.setdefault(_condition_key(diagnosis), diagnosis)
    conditions = list(seen.values())
    visits = {visit.id: visit for visit in record.visits}
    claims = {claim.id: claim for claim in record.claims}
    resources = [patient_resource(record, names)]
    coverages = {coverage.id: coverage for coverage in record.coverages}
    for coverage in coverages.values():
        if coverage.subscriber is not None and coverage.relationship != SELF:
            resources.append(
                related_person_resource(coverage, coverage.subscriber, patient_id, names)
            )
    resources += [coverage_resource(c, patient_id, names) for c in coverages.values()]
    for billed in record.claims:
        if billed.coverage_id is not None and billed.coverage_id not in coverages:
            raise FhirExportError(
                "coverage_id",
                f"claim {billed.control_number} names coverage {billed.coverage_id}, "
                "which is not exported",
            )
    resources += [condition_resource(d, patient_id, names) for d in conditions]
    resources += [
        encounter_resource(v, patient_id, conditions, names, record.clinic) for v in record.visits
    ]
    for line in record.procedures:
        visit = visits.get(line.visit_id)
        if visit is None:
            raise FhirExportError("procedures", f"line {line.id} names no exported visit")
        resources.append(procedure_resource(line, visit, patient_id, names))
    resources += [
        claim_resource(c, patient_id, names, set(visits), set(claims)) for c in record.claims
    ]
    for eob in record.remittances:
        claim = claims.get(eob.claim_id)
        if claim is None:
            raise FhirExportError("remittances", f"payment {eob.id} names no exported claim")
        resources.append(eob_resource(eob, claim, patient_id, names, record.clinic))
    for resource in resources:
        validate_resource(resource)
    bundle: dict[str, Any] = {
        "resourceType": "Bundle",
        "id": names.id("Bundle", f"{patient_id}/{generated.isoformat()}"),
        "type": "collection",
        "timestamp": generated.isoformat(),
        "entry": [
            {"fullUrl": f"urn:uuid:{resource['id']}", "resource": resource}
            for resource in resources
        ],
    }
    try:
        Bundle.model_validate(bundle)
    except ValidationError as exc:  # each resource passed above; the entries' shape here
        first = exc.errors()[0]
        raise FhirExportError(
            "Bundle." + ".".join(str(p) for p in first["loc"]), first["msg"]
        ) from exc
    return bundle

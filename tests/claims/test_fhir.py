"""The FHIR R4 export of a patient's record (handrail.claims.fhir): plain values in, a
`collection` Bundle out, every resource validated with the fhir.resources R4B models."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest
from fhir.resources.R4B.bundle import Bundle

from handrail.claims import fhir
from handrail.claims.fhir import (
    AdjustmentIn,
    ClaimIn,
    ClaimLineIn,
    CoverageIn,
    DiagnosisIn,
    EobIn,
    EobLineIn,
    FhirExportError,
    PatientIn,
    PatientRecord,
    ProcedureIn,
    Provider,
    SubscriberIn,
    VisitIn,
    patient_bundle,
)

D = Decimal
NOW = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)
CLINIC = Provider("Riverside Rehab LLC", "1234567893")
OT = Provider("Olive Therapist", "1245319599")
MEDICARE = CoverageIn(21, "Medicare Part B", "1EG4TE5MK73", 1)
SPOUSE = SubscriberIn("Bert", "Synthetic", date(1946, 2, 3), "M")


def _record() -> PatientRecord:
    visit = VisitIn(
        id=31,
        case_id=7,
        date=date(2026, 11, 2),
        discipline="OT",
        signed=True,
        clinician=OT,
        place_of_service="11",
    )
    line = ClaimLineIn(1, "97535", ("GO", "KX"), 3, D("285.00"), visit.date, (1, 2))
    claim = ClaimIn(
        id=41,
        visit_id=31,
        control_number="HR000041",
        created=datetime(2026, 11, 3, 9, 30, tzinfo=UTC),
        state="denied",
        frequency="1",
        payer_name="Medicare Part B",
        member_id="1EG4TE5MK73",
        total_charge=D("285.00"),
        diagnoses=("I69351", "R26.81"),
        rendering=OT,
        billing=CLINIC,
        place_of_service="11",
        lines=(line,),
        referring=Provider("Dr. Sam Synthetic", "1987654328"),
        coverage_id=21,
    )
    corrected = replace(
        claim,
        id=42,
        control_number="HR000042",
        state="sent",
        frequency="7",
        payer_claim_number="26123456789000",
        replaces_id=41,
        lines=(replace(line, modifiers=("GO", "KX", "59")),),
    )
    eob = EobIn(
        id=51,
        claim_id=41,
        payer_name="Medicare Part B",
        status="4",
        charge=D("285.00"),
        paid=D("0.00"),
        patient_responsibility=D("0.00"),
        payer_claim_number="26123456789000",
        trace_number="12345678901",
        payment_date=date(2026, 12, 1),
        posted=datetime(2026, 12, 2, 8, 0, tzinfo=UTC),
        lines=(
            EobLineIn(
                1,
                "97535",
                ("GO", "KX"),
                D("3"),
                D("285.00"),
                D("0.00"),
                None,
                (AdjustmentIn("CO", "97", D("285.00")),),
                ("M80",),
            ),
        ),
    )
    return PatientRecord(
        clinic_id=3,
        clinic=CLINIC,
        patient=PatientIn(
            12,
            "Ada",
            "Synthetic",
            date(1948, 5, 6),
            "F",
            "217-555-0100",
            "456 Oak Ave",
            "Springfield",
            "IL",
            "62704",
        ),
        coverages=(MEDICARE,),
        diagnoses=(
            DiagnosisIn(7, "I69.351", date(2026, 10, 1), True, "Hemiplegia (right dominant)"),
            DiagnosisIn(7, "R2681", date(2026, 10, 1), True),
            DiagnosisIn(7, "I69351", date(2026, 10, 20), True),  # again on a later plan
        ),
        visits=(visit,),
        procedures=(ProcedureIn(61, 31, "97535", 38),),
        claims=(claim, corrected),
        remittances=(eob,),
    )


def _by_type(bundle: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    found: dict[str, list[dict[str, Any]]] = {}
    for entry in bundle["entry"]:
        found.setdefault(entry["resource"]["resourceType"], []).append(entry["resource"])
    return found


def _refs(bundle: dict[str, Any]) -> set[str]:
    return {entry["fullUrl"] for entry in bundle["entry"]}


def test_it_builds_a_valid_collection_of_the_seven_resources() -> None:
    bundle = patient_bundle(_record(), generated=NOW)
    parsed = Bundle.model_validate(json.loads(json.dumps(bundle)))  # JSON-ready and R4B-valid
    assert parsed.type == "collection"
    counts = {kind: len(items) for kind, items in _by_type(bundle).items()}
    assert counts == {
        "Patient": 1,
        "Coverage": 1,  # the one both claims bill; self, so no RelatedPerson
        "Condition": 2,  # the same code on two plans of one case is one condition
        "Encounter": 1,
        "Procedure": 1,
        "Claim": 2,
        "ExplanationOfBenefit": 1,
    }


def test_every_reference_resolves_inside_the_bundle() -> None:
    bundle = patient_bundle(_record(), generated=NOW)
    full_urls = _refs(bundle)
    references: list[str] = []

    def walk(value: Any) -> None:
        if isinstance(value, dict):
            if "reference" in value and isinstance(value["reference"], str):
                references.append(value["reference"])
            for inner in value.values():
                walk(inner)
        elif isinstance(value, list):
            for inner in value:
                walk(inner)

    walk([entry["resource"] for entry in bundle["entry"]])
    assert references and set(references) <= full_urls
    assert all(url.startswith("urn:uuid:") for url in full_urls)


def test_it_uses_the_code_systems_with_codes_only() -> None:
    found = _by_type(patient_bundle(_record(), generated=NOW))
    codes = [c["code"]["coding"][0] for c in found["Condition"]]
    assert codes[0] == {
        "system": "http://hl7.org/fhir/sid/icd-10-cm",
        "code": "I69.351",
        "display": "Hemiplegia (right dominant)",
    }
    assert codes[1] == {"system": "http://hl7.org/fhir/sid/icd-10-cm", "code": "R26.81"}
    procedure = found["Procedure"][0]
    assert procedure["code"] == {
        "coding": [{"system": "http://www.ama-assn.org/go/cpt", "code": "97535"}]
    }
    item = found["Claim"][1]["item"][0]
    assert item["productOrService"]["coding"] == [
        {"system": "http://www.ama-assn.org/go/cpt", "code": "97535"}
    ]
    assert [m["coding"][0] for m in item["modifier"]] == [
        {"system": fhir.HCPCS, "code": "GO"},
        {"system": fhir.HCPCS, "code": "KX"},
        {"system": fhir.CPT, "code": "59"},
    ]
    # No descriptor text rides along with a CPT or HCPCS code anywhere.
    codings: list[dict[str, Any]] = []

    def walk(value: Any) -> None:
        if isinstance(value, dict):
            if value.get("system") in (fhir.CPT, fhir.HCPCS):
                codings.append(value)
            for inner in value.values():
                walk(inner)
        elif isinstance(value, list):
            for inner in value:
                walk(inner)

    walk(found)
    assert len(codings) > 5
    assert all(set(coding) == {"system", "code"} for coding in codings)


def test_the_patient_and_visits_carry_what_the_clinic_recorded() -> None:
    found = _by_type(patient_bundle(_record(), generated=NOW))
    patient = found["Patient"][0]
    assert patient["name"] == [{"use": "official", "family": "Synthetic", "given": ["Ada"]}]
    assert (patient["gender"], patient["birthDate"]) == ("female", "1948-05-06")
    assert patient["address"][0]["postalCode"] == "62704"
    encounter = found["Encounter"][0]
    assert encounter["status"] == "finished"
    assert encounter["class"]["code"] == "AMB"
    assert encounter["participant"][0]["individual"]["identifier"] == {
        "system": "http://hl7.org/fhir/sid/us-npi",
        "value": "1245319599",
    }
    assert len(encounter["reasonReference"]) == 2


def test_the_claim_carries_pointers_charges_and_its_replacement() -> None:
    found = _by_type(patient_bundle(_record(), generated=NOW))
    original, corrected = found["Claim"]
    assert [d["diagnosisCodeableConcept"]["coding"][0]["code"] for d in original["diagnosis"]] == [
        "I69.351",
        "R26.81",
    ]
    line = original["item"][0]
    assert line["diagnosisSequence"] == [1, 2]
    assert (line["quantity"], line["unitPrice"], line["net"]) == (
        {"value": 3},
        {"value": 95.0, "currency": "USD"},
        {"value": 285.0, "currency": "USD"},
    )
    assert original["total"] == {"value": 285.0, "currency": "USD"}
    assert original["referral"]["identifier"]["value"] == "1987654328"
    related = corrected["related"][0]
    assert related["reference"] == {"value": "26123456789000"}
    assert related["claim"]["reference"] == f"urn:uuid:{original['id']}"


def test_the_explanation_of_benefit_shows_the_denial_with_its_reasons() -> None:
    found = _by_type(patient_bundle(_record(), generated=NOW))
    eob = found["ExplanationOfBenefit"][0]
    assert eob["claim"]["reference"] == f"urn:uuid:{found['Claim'][0]['id']}"
    assert eob["disposition"] == "Denied"
    adjudication = eob["item"][0]["adjudication"]
    categories = [a["category"].get("coding", [{}])[0].get("code") for a in adjudication]
    assert categories[:2] == ["submitted", "benefit"]
    carc = adjudication[2]
    assert carc["reason"]["coding"][0] == {"system": fhir.CARC, "code": "97"}
    assert carc["category"]["text"].startswith("CO ")
    assert carc["amount"] == {"value": 285.0, "currency": "USD"}
    assert adjudication[3]["reason"]["coding"][0] == {"system": fhir.RARC, "code": "M80"}
    assert eob["payment"]["identifier"]["value"] == "12345678901"
    assert eob["payment"]["date"] == "2026-12-01"


def test_the_same_record_gets_the_same_names_and_another_clinic_others() -> None:
    first = patient_bundle(_record(), generated=NOW)
    again = patient_bundle(_record(), generated=NOW)
    other = patient_bundle(replace(_record(), clinic_id=4), generated=NOW)
    assert _refs(first) == _refs(again)
    assert not _refs(first) & _refs(other)


@pytest.mark.parametrize(
    ("change", "field_name"),
    [
        (lambda r: replace(r, patient=replace(r.patient, sex="X")), "sex"),
        (
            lambda r: replace(r, diagnoses=(DiagnosisIn(7, "9!", date(2026, 1, 1), True),)),
            "diagnosis",
        ),
        (lambda r: replace(r, visits=(replace(r.visits[0], discipline="RT"),)), "discipline"),
        (lambda r: replace(r, procedures=(ProcedureIn(62, 99, "97110", 15),)), "procedures"),
        (lambda r: replace(r, claims=r.claims[1:]), "remittances"),
        (
            lambda r: replace(
                r,
                claims=(
                    replace(
                        r.claims[0],
                        lines=(replace(r.claims[0].lines[0], diagnosis_pointers=(3,)),),
                    ),
                    r.claims[1],
                ),
            ),
            "diagnosis_pointers",
        ),
        (
            lambda r: replace(
                r,
                remittances=(
                    replace(
                        r.remittances[0],
                        adjustments=(AdjustmentIn("ZZ", "45", D("1.00")),),
                    ),
                ),
            ),
            "group",
        ),
    ],
)
def test_it_refuses_a_bad_value_naming_the_field(change: Any, field_name: str) -> None:
    with pytest.raises(FhirExportError) as refused:
        patient_bundle(change(_record()), generated=NOW)
    assert refused.value.field_name == field_name


def test_the_r4b_models_refuse_what_they_should() -> None:
    """The validation is real: an element the model does not know, or a missing required one,
    is refused and named."""
    with pytest.raises(FhirExportError) as unknown:
        fhir.validate_resource({"resourceType": "Patient", "id": "x", "colour": "blue"})
    assert unknown.value.field_name == "Patient.colour"
    claim = _by_type(patient_bundle(_record(), generated=NOW))["Claim"][0]
    del claim["patient"]
    with pytest.raises(FhirExportError) as missing:
        fhir.validate_resource(claim)
    assert missing.value.field_name.startswith("Claim")


def _entries(bundle: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [e for e in bundle["entry"] if e["resource"]["resourceType"] == kind]


def test_a_coverage_the_patient_holds_has_the_patient_as_subscriber() -> None:
    bundle = patient_bundle(_record(), generated=NOW)
    (patient,) = _entries(bundle, "Patient")
    (coverage,) = _entries(bundle, "Coverage")
    assert not _entries(bundle, "RelatedPerson")
    assert coverage["fullUrl"] == f"urn:uuid:{coverage['resource']['id']}"
    assert coverage["resource"] == {
        "resourceType": "Coverage",
        "id": coverage["resource"]["id"],
        "status": "active",
        "subscriber": {"reference": patient["fullUrl"]},
        "beneficiary": {"reference": patient["fullUrl"]},
        "relationship": {
            "coding": [
                {
                    "system": "http://terminology.hl7.org/CodeSystem/subscriber-relationship",
                    "code": "self",
                }
            ]
        },
        "payor": [{"display": "Medicare Part B"}],
        "order": 1,
        "subscriberId": "1EG4TE5MK73",
    }


def test_the_claims_and_the_explanation_of_benefit_reference_the_coverage() -> None:
    bundle = patient_bundle(_record(), generated=NOW)
    (coverage,) = _entries(bundle, "Coverage")
    insurance = [
        e["resource"]["insurance"]
        for e in bundle["entry"]
        if e["resource"]["resourceType"] in ("Claim", "ExplanationOfBenefit")
    ]
    assert len(insurance) == 3
    assert all(i[0]["coverage"] == {"reference": coverage["fullUrl"]} for i in insurance)
    Bundle.model_validate(json.loads(json.dumps(bundle)))


def test_a_claim_that_names_no_coverage_keeps_the_payer_and_member_as_text() -> None:
    record = _record()
    record = replace(
        record, coverages=(), claims=tuple(replace(c, coverage_id=None) for c in record.claims)
    )
    bundle = patient_bundle(record, generated=NOW)
    assert not _entries(bundle, "Coverage")
    claim = _entries(bundle, "Claim")[0]["resource"]
    assert claim["insurance"][0]["coverage"] == {"display": "Medicare Part B, member 1EG4TE5MK73"}


@pytest.mark.parametrize(
    ("relationship", "code"), [("01", "spouse"), ("19", "child"), ("G8", "other")]
)
def test_an_insured_who_is_not_the_patient_is_a_related_person(
    relationship: str, code: str
) -> None:
    secondary = CoverageIn(
        22,
        "Acme Health",
        "ACM998877",
        2,
        relationship,
        SPOUSE,
        start_date=date(2026, 1, 1),
    )
    record = _record()
    record = replace(
        record,
        coverages=(MEDICARE, secondary),
        claims=(record.claims[0], replace(record.claims[1], coverage_id=22)),
    )
    bundle = patient_bundle(record, generated=NOW)
    Bundle.model_validate(json.loads(json.dumps(bundle)))
    (patient,) = _entries(bundle, "Patient")
    (person,) = _entries(bundle, "RelatedPerson")
    assert person["resource"] == {
        "resourceType": "RelatedPerson",
        "id": person["resource"]["id"],
        "patient": {"reference": patient["fullUrl"]},
        "name": [{"use": "official", "family": "Synthetic", "given": ["Bert"]}],
        "gender": "male",
        "birthDate": "1946-02-03",
    }
    primary, other = (e["resource"] for e in _entries(bundle, "Coverage"))
    assert primary["subscriber"] == {"reference": patient["fullUrl"]}
    assert other["subscriber"] == {"reference": person["fullUrl"]}
    assert other["beneficiary"] == {"reference": patient["fullUrl"]}
    assert other["relationship"]["coding"] == [
        {"system": fhir.SUBSCRIBER_RELATIONSHIP, "code": code}
    ]
    assert (other["order"], other["subscriberId"], other["payor"]) == (
        2,
        "ACM998877",
        [{"display": "Acme Health"}],
    )
    assert other["period"] == {"start": "2026-01-01"}
    claims = [e["resource"] for e in _entries(bundle, "Claim")]
    assert claims[0]["insurance"][0]["coverage"]["reference"] == f"urn:uuid:{primary['id']}"
    assert claims[1]["insurance"][0]["coverage"]["reference"] == f"urn:uuid:{other['id']}"


@pytest.mark.parametrize(
    ("coverage", "field_name"),
    [
        (replace(MEDICARE, relationship="02"), "relationship"),
        (replace(MEDICARE, relationship="01"), "subscriber"),  # not self, and no insured
        (replace(MEDICARE, subscriber=SPOUSE), "subscriber"),  # self, and an insured
        (
            replace(MEDICARE, relationship="19", subscriber=replace(SPOUSE, sex="X")),
            "subscriber_sex",
        ),
        (replace(MEDICARE, order=3), "order"),
        (replace(MEDICARE, id=99), "coverage_id"),  # the claims name coverage 21
    ],
)
def test_it_refuses_a_bad_coverage_naming_the_field(coverage: CoverageIn, field_name: str) -> None:
    with pytest.raises(FhirExportError) as refused:
        patient_bundle(replace(_record(), coverages=(coverage,)), generated=NOW)
    assert refused.value.field_name == field_name


def test_it_needs_an_aware_timestamp() -> None:
    with pytest.raises(FhirExportError):
        patient_bundle(_record(), generated=datetime(2026, 12, 5, 12, 0))


def test_a_claim_with_no_lines_yet_is_still_a_valid_claim() -> None:
    record = _record()
    record = replace(record, claims=(replace(record.claims[0], lines=()), record.claims[1]))
    claim = _by_type(patient_bundle(record, generated=NOW))["Claim"][0]
    assert "item" not in claim and claim["total"]["value"] == 285.0

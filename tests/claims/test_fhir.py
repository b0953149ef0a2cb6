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
    DiagnosisIn,
    EobIn,
    EobLineIn,
    FhirExportError,
    PatientIn,
    PatientRecord,
    ProcedureIn,
    Provider,
    VisitIn,
    patient_bundle,
)

D = Decimal
NOW = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)
CLINIC = Provider("Riverside Rehab LLC", "1234567893")
OT = Provider("Olive Therapist", "1245319599")


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


def test_it_builds_a_valid_collection_of_the_six_resources() -> None:
    bundle = patient_bundle(_record(), generated=NOW)
    parsed = Bundle.model_validate(json.loads(json.dumps(bundle)))  # JSON-ready and R4B-valid
    assert parsed.type == "collection"
    counts = {kind: len(items) for kind, items in _by_type(bundle).items()}
    assert counts == {
        "Patient": 1,
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


def test_it_needs_an_aware_timestamp() -> None:
    with pytest.raises(FhirExportError):
        patient_bundle(_record(), generated=datetime(2026, 12, 5, 12, 0))


def test_a_claim_with_no_lines_yet_is_still_a_valid_claim() -> None:
    record = _record()
    record = replace(record, claims=(replace(record.claims[0], lines=()), record.claims[1]))
    claim = _by_type(patient_bundle(record, generated=NOW))["Claim"][0]
    assert "item" not in claim and claim["total"]["value"] == 285.0

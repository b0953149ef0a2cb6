"""The patient's relationship to the insured on a coverage (self, spouse, child, other; X12
SBR02/PAT01 18, 01, 19, G8) and the insured when it is not the patient: the service, the
patient page's form, the API, and the 837P's loops 2000B/2010BA and 2000C/2010CA (pyx12,
0 errors)."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from django.core.exceptions import ValidationError

from handrail.claims.x12_validation import x12_errors
from handrail.web.billing.batches import batch_create
from handrail.web.clinic.models import Coverage
from handrail.web.clinic.services import coverage_set
from tests.web.billing_seed import commercial_patient_visit, set_up_billing
from tests.web.conftest import World

BEA = {
    "subscriber_first_name": "Bea",
    "subscriber_last_name": "Synthetic",
    "subscriber_birth_date": date(1962, 7, 9),
    "subscriber_sex": "F",
}


def _set(world: World, **fields: Any) -> Coverage:
    return coverage_set(
        user=world.front_desk,
        patient=world.patient,
        payer=world.medicare,
        member_id="1EG4TE5MK73",
        **fields,
    )


class CoverageRelationshipTests:
    def test_it_keeps_the_insured_of_a_dependent(self, world: World) -> None:
        coverage = _set(world, relationship="01", **BEA)
        coverage.refresh_from_db()
        assert (
            coverage.relationship,
            coverage.subscriber_first_name,
            coverage.subscriber_last_name,
            coverage.subscriber_birth_date,
            coverage.subscriber_sex,
        ) == ("01", "Bea", "Synthetic", date(1962, 7, 9), "F")

    def test_self_clears_the_insured(self, world: World) -> None:
        _set(world, relationship="19", **BEA)
        coverage = _set(world, relationship="18", **BEA)
        coverage.refresh_from_db()
        assert (coverage.relationship, coverage.subscriber_last_name) == ("18", "")
        assert coverage.subscriber_birth_date is None

    def test_it_refuses_an_unknown_relationship(self, world: World) -> None:
        with pytest.raises(ValidationError) as refused:
            _set(world, relationship="20", **BEA)
        assert refused.value.message_dict == {
            "relationship": [
                "Unknown relationship '20': use one of 18 (self), 01 (spouse), 19 (child), "
                "G8 (other relationship)."
            ]
        }
        assert Coverage.objects.get(patient=world.patient).relationship == "18"

    def test_it_names_each_missing_detail_of_the_insured(self, world: World) -> None:
        with pytest.raises(ValidationError) as refused:
            _set(world, relationship="G8", subscriber_last_name="Synthetic")
        assert refused.value.message_dict == {
            "subscriber_first_name": [
                "The insured's first name is needed when the patient is not the insured."
            ],
            "subscriber_birth_date": [
                "The insured's birth date is needed when the patient is not the insured."
            ],
            "subscriber_sex": ["The insured's sex is needed when the patient is not the insured."],
        }
        assert Coverage.objects.get(patient=world.patient).relationship == "18"

    def test_the_patient_page_form_saves_and_refuses(self, world: World) -> None:
        client = world.client_for(world.front_desk)
        url = f"/patients/{world.patient.pk}/coverage/"
        form = {"payer": world.medicare.pk, "member_id": "1EG4TE5MK73", "order": 1}
        refused = client.post(url, {**form, "relationship": "19"}, follow=True)
        page = refused.content.decode()
        assert "subscriber_first_name: The insured&#x27;s first name is needed" in page
        assert Coverage.objects.get(patient=world.patient).relationship == "18"
        unknown = client.post(url, {**form, "relationship": "99"}, follow=True)
        assert "relationship: Select a valid choice. 99 is not one of" in unknown.content.decode()
        saved = client.post(
            url,
            {**form, "relationship": "19", **{k: str(v) for k, v in BEA.items()}},
            follow=True,
        )
        assert "Coverage saved." in saved.content.decode()
        assert "Bea Synthetic, born 1962-07-09 (child)" in saved.content.decode()
        assert Coverage.objects.get(patient=world.patient).relationship == "19"


class CoverageApiTests:
    def _post(self, world: World, body: dict[str, Any]) -> Any:
        return world.client_for(world.front_desk).post(
            f"/api/patients/{world.patient.pk}/coverages", body, content_type="application/json"
        )

    def test_it_sets_a_dependents_coverage(self, world: World) -> None:
        subscriber = {"first_name": "Bea", "last_name": "Synthetic",
                      "birth_date": "1962-07-09", "sex": "F"}  # fmt: skip
        body = {"payer_id": world.medicare.pk, "member_id": "1EG4TE5MK73",
                "relationship": "01", "subscriber": subscriber}  # fmt: skip
        response = self._post(world, body)
        assert response.status_code == 200, response.content
        assert response.json() == {
            "order": 1,
            "payer_id": world.medicare.pk,
            "payer": "Medicare Part B",
            "payer_type": "medicare",
            "member_id": "1EG4TE5MK73",
            "relationship": "01",
            "subscriber": subscriber,
        }
        detail = world.client_for(world.front_desk).get(f"/api/patients/{world.patient.pk}")
        assert detail.json()["coverages"][0]["subscriber"] == subscriber

    def test_it_refuses_bad_relationships_and_subscribers(self, world: World) -> None:
        base = {"payer_id": world.medicare.pk, "member_id": "1EG4TE5MK73"}
        unknown = self._post(world, {**base, "relationship": "20"})
        assert unknown.status_code == 422
        assert unknown.json()["detail"][0]["loc"][-1] == "relationship"
        missing = self._post(world, {**base, "relationship": "19"})
        assert missing.status_code == 400
        assert missing.json()["errors"] == {
            "subscriber": [
                "Relationship 19 (the patient is not the insured) needs the insured's "
                "first_name, last_name, birth_date and sex."
            ]
        }
        extra = {"first_name": "Bea", "last_name": "Synthetic", "birth_date": "1962-07-09",
                 "sex": "F"}  # fmt: skip
        for_self = self._post(world, {**base, "subscriber": extra})
        assert for_self.status_code == 400
        assert list(for_self.json()["errors"]) == ["subscriber"]
        unknown_field = self._post(
            world, {**base, "relationship": "01", "subscriber": {**extra, "ssn": "x"}}
        )
        assert unknown_field.status_code == 422
        assert unknown_field.json()["detail"][0]["loc"][-1] == "ssn"
        assert Coverage.objects.get(patient=world.patient).relationship == "18"


def _segments(text: str) -> list[str]:
    return [line.rstrip("~") for line in text.splitlines()]


class DependentClaimTests:
    def test_the_837p_names_the_insured_in_2000b_and_the_patient_in_2000c(
        self, world: World
    ) -> None:
        set_up_billing(world)
        visit = commercial_patient_visit(world)
        coverage_set(user=world.front_desk, patient=visit.case.patient, payer=world.commercial,
                     member_id="ACM99", relationship="01", **BEA)  # fmt: skip
        batch = batch_create(user=world.biller, payer=world.commercial, through=world.today)
        assert x12_errors(batch.x12) == []
        segments = _segments(batch.x12)
        start = segments.index("HL*2*1*22*1")
        assert segments[start : start + 10] == [
            "HL*2*1*22*1",
            "SBR*P********CI",
            "NM1*IL*1*SYNTHETIC*BEA****MI*ACM99",
            "NM1*PR*2*ACME HEALTH*****PI*60054",
            "HL*3*2*23*0",
            "PAT*01",
            "NM1*QC*1*SYNTHETIC*CY",
            "N3*9 ELM ST",
            "N4*SPRINGFIELD*IL*62701",
            "DMG*D8*19600304*M",
        ]
        assert segments[start + 10].startswith("CLM*")

    def test_a_self_coverage_has_no_patient_loop(self, world: World) -> None:
        set_up_billing(world)
        commercial_patient_visit(world)
        batch = batch_create(user=world.biller, payer=world.commercial, through=world.today)
        assert x12_errors(batch.x12) == []
        segments = _segments(batch.x12)
        start = segments.index("HL*2*1*22*0")
        assert segments[start : start + 7] == [
            "HL*2*1*22*0",
            "SBR*P*18*******CI",
            "NM1*IL*1*SYNTHETIC*CY****MI*ACM99",
            "N3*9 ELM ST",
            "N4*SPRINGFIELD*IL*62701",
            "DMG*D8*19600304*M",
            "NM1*PR*2*ACME HEALTH*****PI*60054",
        ]
        assert not [s for s in segments if s.startswith(("PAT*", "NM1*QC*"))]

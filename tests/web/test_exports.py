"""Exports (issue 9): CSV of claims, payments and adjustments with their filters, and a
patient's record as FHIR R4, for billers and clinic admins; each download audited."""

from __future__ import annotations

import csv
import io
import json
from datetime import date, timedelta
from decimal import Decimal
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from fhir.resources.R4B.bundle import Bundle

from handrail.web.audit.models import AuditAction, AuditEvent
from handrail.web.billing.models import Claim, ClaimState
from handrail.web.clinic.models import Coverage, Patient, Payer, User
from handrail.web.clinic.services import coverage_set, user_create
from handrail.web.exports.csvs import amount, text
from handrail.web.exports.records import patient_fhir
from handrail.web.remittances.models import ClaimPayment
from handrail.web.remittances.services import remittance_post
from tests.web.conftest import PASSWORD, World
from tests.web.remittance_seed import (
    LineSpec,
    adjustment,
    claim_payment,
    paid_line,
    remittance_text,
    sent_claim,
    set_up_billing,
)

D = Decimal
LINES = (LineSpec("97535", ("GO",), 2, "150.00"), LineSpec("97530", ("GO", "59"), 1, "125.00"))
PAID_ON = date(2026, 12, 1)


class Posted:
    def __init__(self, paid: Claim, denied: Claim, commercial: Claim) -> None:
        self.paid, self.denied, self.commercial = paid, denied, commercial


@pytest.fixture
def posted(world: World) -> Posted:
    """Three claims: one paid with CO-45 and PR-2, one with a denied line (CO-97), both on one
    posted 835; and a commercial one still sent."""
    set_up_billing(world)
    paid = sent_claim(world, "HR00000001", LINES)
    denied = sent_claim(world, "HR00000002", LINES)
    commercial = sent_claim(world, "HR00000003", LINES[:1], payer=world.commercial)
    first, second = paid.lines.order_by("number")
    third, fourth = denied.lines.order_by("number")
    text = remittance_text(
        [
            claim_payment(
                paid,
                [
                    paid_line(first, "96.00", adjustment("CO", "45", "30.00"),
                              adjustment("PR", "2", "24.00"), allowed="120.00"),
                    paid_line(second, "80.00", adjustment("CO", "45", "25.00"),
                              adjustment("PR", "2", "20.00"), allowed="100.00"),
                ],
            ),
            claim_payment(
                denied,
                [
                    paid_line(third, "96.00", adjustment("CO", "45", "30.00"),
                              adjustment("PR", "2", "24.00"), allowed="120.00"),
                    paid_line(fourth, "0.00", adjustment("CO", "97", "125.00"),
                              remarks=("M80",)),
                ],
                payer_claim_number="26123456789001",
            ),
        ],
        paid_on=PAID_ON,
    )  # fmt: skip
    remittance_post(user=world.biller, text=text)
    return Posted(paid, denied, commercial)


def _csv(response: Any) -> list[dict[str, str]]:
    assert response.status_code == 200, response.content[:500]
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith("attachment;")
    return list(csv.DictReader(io.StringIO(response.content.decode())))


def _get(client: Client, name: str, **params: str) -> Any:
    return client.get(reverse(f"exports:{name}"), params)


class CsvTests:
    def test_claims_carry_charges_payments_and_adjustments_to_the_cent(
        self, world: World, posted: Posted
    ) -> None:
        rows = {
            r["control_number"]: r
            for r in _csv(_get(world.client_for(world.biller), "claims-csv"))
        }
        assert set(rows) == {"HR00000001", "HR00000002", "HR00000003"}
        paid = rows["HR00000001"]
        assert (paid["total_charge"], paid["paid"], paid["adjustments"]) == (
            "275.00",
            "176.00",
            "99.00",
        )
        assert paid["patient_responsibility"] == "44.00"
        assert paid["state"] == ClaimState.PAID
        assert paid["lines"] == "97535:GOx2 97530:GO:59x1"
        assert paid["diagnoses"] == "I69351 R2681"
        assert paid["patient"] == str(world.patient)
        denied = rows["HR00000002"]
        assert (denied["paid"], denied["adjustments"]) == ("96.00", "179.00")
        assert rows["HR00000003"]["paid"] == "0.00"

    def test_payments_and_adjustments_list_each_posting(
        self, world: World, posted: Posted
    ) -> None:
        client = world.client_for(world.admin)
        payments = _csv(_get(client, "payments-csv"))
        assert [(p["control_number"], p["paid"], p["claim_status_code"]) for p in payments] == [
            ("HR00000001", "176.00", "1"),
            ("HR00000002", "96.00", "1"),
        ]
        assert {p["trace_number"] for p in payments} == {"12345678901"}
        assert {p["payment_date"] for p in payments} == {"2026-12-01"}
        adjustments = _csv(_get(client, "adjustments-csv"))
        assert len(adjustments) == 7
        denial = [a for a in adjustments if a["reason"] == "97"]
        assert len(denial) == 1
        assert (denial[0]["group"], denial[0]["amount"], denial[0]["code"]) == (
            "CO",
            "125.00",
            "97530",
        )
        assert denial[0]["modifiers"] == "GO:59"
        assert denial[0]["reason_meaning"]  # explained in our words
        assert sum(D(a["amount"]) for a in adjustments) == D("278.00")

    def test_the_filters_choose_rows(self, world: World, posted: Posted) -> None:
        client = world.client_for(world.biller)
        by_payer = _csv(_get(client, "claims-csv", payer=str(world.commercial.pk)))
        assert [r["control_number"] for r in by_payer] == ["HR00000003"]
        by_state = _csv(_get(client, "claims-csv", state="sent"))
        assert [r["control_number"] for r in by_state] == ["HR00000003"]
        # Date of service: the seed dates claims 10, 11 and 12 days back.
        day = (world.today - timedelta(days=11)).isoformat()
        by_date = _csv(_get(client, "claims-csv", **{"from": day, "to": day}))
        assert [r["control_number"] for r in by_date] == ["HR00000002"]
        assert _csv(_get(client, "payments-csv", **{"from": "2026-12-02"})) == []
        on_day = _csv(
            _get(client, "adjustments-csv", **{"from": "2026-12-01", "to": "2026-12-01"})
        )
        assert len(on_day) == 7
        denied_claims = _csv(_get(client, "adjustments-csv", state=ClaimState.PAID))
        assert {a["control_number"] for a in denied_claims} == {"HR00000001"}

    def test_formula_like_cells_are_written_as_text_and_amounts_as_numbers(
        self, world: World, posted: Posted
    ) -> None:
        Patient.objects.filter(pk=world.patient.pk).update(last_name="=HYPERLINK(1)")
        rows = _csv(_get(world.client_for(world.biller), "claims-csv"))
        assert rows and all(r["patient"].startswith("'=HYPERLINK(1), ") for r in rows)
        # A reversal's negative amount stays a number (no apostrophe).
        assert (amount(D("-96.00")), text("-96.00"), text("@SUM(A1)"), text("Ada")) == (
            "-96.00",
            "'-96.00",
            "'@SUM(A1)",
            "Ada",
        )

    @pytest.mark.parametrize(
        ("params", "named"),
        [
            ({"from": "2026-13-40"}, "from"),
            ({"from": "2026-12-05", "to": "2026-12-01"}, "to"),
            ({"state": "lost"}, "state"),
            ({"payer": "999999"}, "payer"),
            ({"colour": "blue"}, "colour"),
        ],
    )
    def test_bad_filters_are_refused_naming_the_field(
        self, world: World, posted: Posted, params: dict[str, str], named: str
    ) -> None:
        before = AuditEvent.objects.count()
        response = _get(world.client_for(world.biller), "claims-csv", **params)
        assert response.status_code == 400
        assert response["Content-Type"].startswith("text/html")
        html = response.content.decode()
        assert 'role="alert"' in html
        if named == "colour":
            assert "colour: not a filter" in html
        else:
            assert f'id="id_{named}"' in html and "has-error" in html
        assert AuditEvent.objects.count() == before

    def test_another_clinics_payer_is_refused(self, world: World, posted: Posted) -> None:
        other = Payer.objects.exclude(clinic=world.clinic).first()
        if other is None:
            other = Payer.objects.create(
                clinic=world.outsider.clinic, name="Other", type="commercial"
            )
        response = _get(world.client_for(world.biller), "claims-csv", payer=str(other.pk))
        assert response.status_code == 400

    def test_only_billers_and_admins_export_and_only_their_clinic(
        self, world: World, posted: Posted
    ) -> None:
        for user in (world.pt, world.ot, world.ota, world.front_desk):
            for name in ("index", "claims-csv", "payments-csv", "adjustments-csv"):
                assert _get(world.client_for(user), name).status_code == 403, (user, name)
        assert _get(world.client_for(world.outsider), "claims-csv").status_code == 403
        other_biller = user_create(
            clinic=world.outsider.clinic, username="obill", password=PASSWORD, role="biller"
        )
        other = world.client_for(other_biller)
        for name in ("claims-csv", "payments-csv", "adjustments-csv"):
            assert _csv(_get(other, name)) == [], name

    def test_each_download_is_audited_with_its_filters(self, world: World, posted: Posted) -> None:
        _get(world.client_for(world.biller), "claims-csv", state="paid", **{"from": "2026-01-01"})
        event = AuditEvent.objects.latest("pk")
        assert (event.action, event.user, event.object_type) == (
            AuditAction.VIEW,
            world.biller,
            "list",
        )
        assert event.detail == "claims export (from=2026-01-01, state=paid)"

    def test_the_page_offers_the_filters_and_downloads(self, world: World, posted: Posted) -> None:
        html = world.client_for(world.biller).get(reverse("exports:index")).content.decode()
        for anchor in ('name="from"', 'name="to"', 'name="payer"', 'name="state"'):
            assert anchor in html
        for name in ("claims-csv", "payments-csv", "adjustments-csv"):
            assert f'formaction="{reverse(f"exports:{name}")}"' in html
        claims_page = world.client_for(world.biller).get(reverse("billing:claims")).content
        assert reverse("exports:index").encode() in claims_page


class FhirTests:
    def _bundle(self, response: Any) -> dict[str, Any]:
        assert response.status_code == 200, response.content[:500]
        bundle = json.loads(response.content)
        Bundle.model_validate(bundle)
        return bundle

    def _kinds(self, bundle: dict[str, Any]) -> dict[str, int]:
        kinds: dict[str, int] = {}
        for entry in bundle["entry"]:
            kind = entry["resource"]["resourceType"]
            kinds[kind] = kinds.get(kind, 0) + 1
        return kinds

    def test_the_record_downloads_as_a_valid_bundle(self, world: World, posted: Posted) -> None:
        url = reverse("exports:patient-fhir", args=[world.patient.pk])
        response = world.client_for(world.biller).get(url)
        assert response["Content-Type"] == "application/fhir+json; charset=utf-8"
        assert "attachment;" in response["Content-Disposition"]
        bundle = self._bundle(response)
        assert bundle["type"] == "collection"
        kinds = self._kinds(bundle)
        assert kinds["Patient"] == 1
        assert kinds["Claim"] == Claim.objects.filter(patient=world.patient).count() == 3
        assert kinds["ExplanationOfBenefit"] == 2
        assert kinds["Encounter"] >= 3 and kinds["Condition"] >= 1
        eobs = [
            e["resource"]
            for e in bundle["entry"]
            if e["resource"]["resourceType"] == "ExplanationOfBenefit"
        ]
        reasons = {
            a["reason"]["coding"][0]["code"]
            for eob in eobs
            for item in eob["item"]
            for a in item["adjudication"]
            if "reason" in a
        }
        assert {"45", "2", "97", "M80"} <= reasons
        conditions = [
            e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Condition"
        ]
        assert all(
            c["code"]["coding"][0]["system"] == "http://hl7.org/fhir/sid/icd-10-cm"
            for c in conditions
        )
        assert all(
            "." in c["code"]["coding"][0]["code"] or len(c["code"]["coding"][0]["code"]) == 3
            for c in conditions
        )

    def test_the_coverage_a_spouse_holds_goes_out_with_the_spouse(
        self, world: World, posted: Posted
    ) -> None:
        """Relationship 01: a Coverage whose subscriber is a RelatedPerson; the Medicare claims
        (one naming the coverage, the others billed to its payer) and their payments reference
        it; the commercial claim, with no coverage of its payer, keeps the text."""
        coverage = coverage_set(
            user=world.front_desk,
            patient=world.patient,
            payer=world.medicare,
            member_id="1EG4TE5MK73",
            relationship="01",
            subscriber_first_name="Bert",
            subscriber_last_name="Synthetic",
            subscriber_birth_date=date(1946, 2, 3),
            subscriber_sex="M",
        )
        Claim.objects.filter(pk=posted.paid.pk).update(coverage=coverage)
        url = reverse("exports:patient-fhir", args=[world.patient.pk])
        bundle = self._bundle(world.client_for(world.biller).get(url))
        entries: dict[str, list[dict[str, Any]]] = {}
        for entry in bundle["entry"]:
            entries.setdefault(entry["resource"]["resourceType"], []).append(entry)
        (patient,) = entries["Patient"]
        (person,) = entries["RelatedPerson"]
        (covered,) = entries["Coverage"]
        assert person["resource"]["patient"] == {"reference": patient["fullUrl"]}
        assert person["resource"]["name"] == [
            {"use": "official", "family": "Synthetic", "given": ["Bert"]}
        ]
        assert (person["resource"]["gender"], person["resource"]["birthDate"]) == (
            "male",
            "1946-02-03",
        )
        resource = covered["resource"]
        assert resource["subscriber"] == {"reference": person["fullUrl"]}
        assert resource["beneficiary"] == {"reference": patient["fullUrl"]}
        assert resource["relationship"]["coding"] == [
            {
                "system": "http://terminology.hl7.org/CodeSystem/subscriber-relationship",
                "code": "spouse",
            }
        ]
        assert (resource["status"], resource["subscriberId"], resource["order"]) == (
            "active",
            "1EG4TE5MK73",
            1,
        )
        assert resource["payor"] == [{"display": "Medicare Part B"}]
        insurance = {
            e["resource"]["identifier"][0]["value"]: e["resource"]["insurance"][0]["coverage"]
            for e in entries["Claim"]
        }
        assert insurance == {
            "HR00000001": {"reference": covered["fullUrl"]},
            "HR00000002": {"reference": covered["fullUrl"]},
            "HR00000003": {"display": "Acme Health, member "},
        }
        assert [
            e["resource"]["insurance"][0]["coverage"] for e in entries["ExplanationOfBenefit"]
        ] == [{"reference": covered["fullUrl"]}] * 2

    def test_the_record_is_read_in_a_bounded_number_of_queries(
        self, world: World, posted: Posted
    ) -> None:
        with CaptureQueriesContext(connection) as before:
            patient_fhir(patient=Patient.objects.get(pk=world.patient.pk))
        coverage = Coverage.objects.get(patient=world.patient, payer=world.medicare)
        sent_claim(world, "HR00000004", LINES)
        Claim.objects.filter(pk=sent_claim(world, "HR00000005", LINES).pk).update(
            coverage=coverage
        )
        with CaptureQueriesContext(connection) as after:
            bundle = patient_fhir(patient=Patient.objects.get(pk=world.patient.pk))
        assert len(after.captured_queries) == len(before.captured_queries)
        assert self._kinds(bundle)["Claim"] == 5 and self._kinds(bundle)["Coverage"] == 1

    def test_the_api_answers_the_same_record_and_is_audited(
        self, world: World, posted: Posted
    ) -> None:
        client = world.client_for(world.admin)
        before = AuditEvent.objects.count()
        bundle = self._bundle(client.get(f"/api/patients/{world.patient.pk}/fhir"))
        page = self._bundle(client.get(reverse("exports:patient-fhir", args=[world.patient.pk])))
        assert [e["fullUrl"] for e in bundle["entry"]] == [e["fullUrl"] for e in page["entry"]]
        events = list(AuditEvent.objects.order_by("pk")[before:])
        assert [(e.action, e.patient, e.detail) for e in events] == [
            (AuditAction.VIEW, world.patient, "api FHIR record export"),
            (AuditAction.VIEW, world.patient, "FHIR record export"),
        ]

    def test_only_billers_and_admins_of_the_clinic(self, world: World, posted: Posted) -> None:
        url = reverse("exports:patient-fhir", args=[world.patient.pk])
        api = f"/api/patients/{world.patient.pk}/fhir"
        for user in (world.pt, world.ot, world.ota, world.front_desk):
            assert world.client_for(user).get(url).status_code == 403
            assert world.client_for(user).get(api).status_code == 403
        assert world.client_for(world.outsider).get(url).status_code in (403, 404)
        assert world.client_for(world.outsider).get(api).status_code in (403, 404)
        assert world.client_for(world.biller).get("/api/patients/99999999/fhir").status_code == 404

    def test_a_stored_value_that_cannot_go_out_is_named(
        self, world: World, posted: Posted
    ) -> None:
        Claim.objects.filter(pk=posted.commercial.pk).update(diagnoses=["9!"])
        client = world.client_for(world.biller)
        response = client.get(f"/api/patients/{world.patient.pk}/fhir")
        assert response.status_code == 422
        assert response.json()["detail"][0]["loc"] == ["record", "diagnosis"]
        page = client.get(reverse("exports:patient-fhir", args=[world.patient.pk]))
        assert page.status_code == 422
        assert "diagnosis" in page.content.decode()

    def test_the_patient_page_offers_it_to_billers_and_admins(
        self, world: World, posted: Posted
    ) -> None:
        href = reverse("exports:patient-fhir", args=[world.patient.pk])
        page = reverse("patient-detail", args=[world.patient.pk])
        for user in (world.biller, world.admin):
            assert f'href="{href}"' in world.client_for(user).get(page).content.decode()
        for user in (world.pt, world.front_desk):
            assert href not in world.client_for(user).get(page).content.decode()


@pytest.mark.django_db
class DemoExportTests:
    def test_every_demo_patients_record_exports_and_the_csvs_balance(self) -> None:
        """The demo clinic (claims in each state, a posted 835 with denials): every patient's
        record is a valid bundle, and the claims CSV's paid column sums to the payments'."""
        call_command("load_demo", stdout=StringIO())
        kinds: set[str] = set()
        for patient in Patient.objects.all():
            bundle = patient_fhir(patient=patient)
            Bundle.model_validate(bundle)
            kinds |= {e["resource"]["resourceType"] for e in bundle["entry"]}
        assert kinds == {
            "Patient",
            "Coverage",
            "Condition",
            "Encounter",
            "Procedure",
            "Claim",
            "ExplanationOfBenefit",
        }
        biller = User.objects.get(username="biller")
        client = Client()
        client.force_login(biller)
        rows = _csv(client.get(reverse("exports:claims-csv")))
        assert len(rows) == Claim.objects.count() > 0
        paid = sum((D(r["paid"]) for r in rows), D("0"))
        assert paid == sum((p.paid for p in ClaimPayment.objects.all()), D("0"))
        payments = _csv(client.get(reverse("exports:payments-csv")))
        assert len(payments) == ClaimPayment.objects.count() > 0

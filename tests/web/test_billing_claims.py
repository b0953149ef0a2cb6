"""Claims from signed notes: what the claim carries, the scrub (errors hold, warnings need a
biller's acknowledgement), state changes with their audit, replacement and void."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from handrail.web.billing.claims import (
    claim_acknowledge,
    claim_correct,
    claim_from_visit,
    claim_rescrub,
    claims_from_visits,
)
from handrail.web.billing.models import ChargeEntry, Claim, ClaimEvent, ClaimState
from handrail.web.billing.services import ClaimStateError, change_state
from handrail.web.clinic.models import User
from handrail.web.visits.services import service_line_add, visit_cosign, visit_create, visit_sign
from tests.web.billing_seed import (
    CERTIFIER_NPI,
    NOTE,
    OT_NPI,
    set_up_billing,
    signed_ot_visit,
)
from tests.web.conftest import World

pytestmark = pytest.mark.django_db


class ClaimContentTests:
    def test_it_bills_the_engines_units_and_modifiers_at_the_charge_master(
        self, world: World
    ) -> None:
        set_up_billing(world)
        visit = signed_ot_visit(world, 3, minutes=38)
        claim = claim_from_visit(user=world.biller, visit=visit)
        assert claim.state == ClaimState.READY, claim.hold_reasons
        [line] = claim.lines.all()
        engine = visit.evaluation["claim_lines"][0]
        assert (line.code, line.units, line.modifiers) == ("97535", engine["units"], ["GO"])
        assert line.units == 3  # 38 minutes: 3 units under the 8-minute rule
        assert line.charge == Decimal("285.00") == claim.total_charge  # 3 x 95.00
        assert line.line_control_number == f"{claim.control_number}-1"
        assert claim.diagnoses == ["I69351", "R2681"]
        assert line.diagnosis_pointers == [1, 2]
        assert (claim.rendering.npi, claim.referring_npi) == (OT_NPI, CERTIFIER_NPI)
        assert (claim.frequency, claim.place_of_service) == ("1", "11")
        assert claim.visit_id == visit.pk and line.visit_line is not None

    def test_it_keeps_at_most_12_diagnoses_and_4_pointers(self, world: World) -> None:
        set_up_billing(world)
        codes = [
            "I69.351", "R26.81", "M62.81", "R27.8", "Z74.09", "R53.1", "M25.511",
            "M25.512", "R29.6", "Z91.81", "G81.91", "R41.841", "M54.50",
        ]  # fmt: skip
        world.ot_plan.diagnoses = codes
        world.ot_plan.save()
        claim = claim_from_visit(user=world.biller, visit=signed_ot_visit(world, 3))
        assert len(claim.diagnoses) == 12
        assert claim.diagnoses[0] == "I69351"
        assert claim.lines.get().diagnosis_pointers == [1, 2, 3, 4]
        assert any("first 12" in w["message"] for w in claim.warnings)

    def test_it_names_the_authorization_on_the_claim(self, world: World) -> None:
        from handrail.web.care.services import authorization_create

        set_up_billing(world)
        authorization_create(
            user=world.biller,
            case=world.ot_case,
            payer=world.medicare,
            visits_authorized=12,
            start_date=world.today - timedelta(days=20),
            end_date=world.today + timedelta(days=40),
            number="AUTH-1",
        )
        claim = claim_from_visit(user=world.biller, visit=signed_ot_visit(world, 3))
        assert claim.prior_authorization == "AUTH-1"


class ScrubTests:
    def test_it_holds_a_claim_with_no_charge_and_names_the_field(self, world: World) -> None:
        set_up_billing(world, charges=False)
        claim = claim_from_visit(user=world.biller, visit=signed_ot_visit(world, 3))
        assert claim.state == ClaimState.HELD
        fields = {r["field"] for r in claim.hold_reasons}
        assert "charge" in fields
        assert any("97535" in r["message"] for r in claim.hold_reasons)

    def test_it_holds_a_claim_with_no_rendering_npi(self, world: World) -> None:
        set_up_billing(world)
        User.objects.filter(pk=world.ot.pk).update(npi="")
        claim = claim_from_visit(user=world.biller, visit=signed_ot_visit(world, 3))
        assert claim.state == ClaimState.HELD
        assert "rendering NPI" in {r["field"] for r in claim.hold_reasons}

    def test_it_holds_a_claim_with_a_bad_check_digit(self, world: World) -> None:
        set_up_billing(world)
        User.objects.filter(pk=world.ot.pk).update(npi="1245319598")
        claim = claim_from_visit(user=world.biller, visit=signed_ot_visit(world, 3))
        [reason] = [r for r in claim.hold_reasons if r["field"] == "rendering NPI"]
        assert "check digit" in reason["message"]

    def test_it_holds_a_claim_without_the_referring_provider(self, world: World) -> None:
        set_up_billing(world)
        world.ot_plan.certifier_npi = ""
        world.ot_plan.save()
        claim = claim_from_visit(user=world.biller, visit=signed_ot_visit(world, 3))
        assert "referring provider" in {r["field"] for r in claim.hold_reasons}

    def test_a_payer_that_does_not_need_a_referring_provider_lets_it_pass(
        self, world: World
    ) -> None:
        billing = set_up_billing(world)
        billing.medicare.requires_referring_provider = False
        billing.medicare.save()
        world.ot_plan.certifier_npi = ""
        world.ot_plan.save()
        claim = claim_from_visit(user=world.biller, visit=signed_ot_visit(world, 3))
        assert claim.state == ClaimState.READY, claim.hold_reasons

    def test_an_engine_error_holds_and_a_warning_waits_for_acknowledgement(
        self, world: World
    ) -> None:
        set_up_billing(world)
        visit = signed_ot_visit(world, 3)
        evaluation = dict(visit.evaluation)
        evaluation["findings"] = [
            {"severity": "warning", "rule": "doc.x", "message": "thin note", "fix": "add"},
        ]
        type(visit).objects.filter(pk=visit.pk).update(evaluation=evaluation)
        visit.refresh_from_db()
        claim = claim_from_visit(user=world.biller, visit=visit)
        assert (claim.state, claim.hold_reasons) == (ClaimState.HELD, [])
        assert claim.warnings[0]["message"].startswith("doc.x: thin note")
        claim = claim_acknowledge(user=world.biller, claim=claim)
        assert claim.state == ClaimState.READY
        assert claim.warnings_acknowledged_by == world.biller
        last = claim.events.order_by("pk").last()
        assert last is not None and last.reason.startswith("warnings acknowledged")

        other = signed_ot_visit(world, 4)
        evaluation["findings"] = [
            {"severity": "error", "rule": "edit.mue", "message": "too many units", "fix": ""},
        ]
        type(other).objects.filter(pk=other.pk).update(evaluation=evaluation)
        other.refresh_from_db()
        held = claim_from_visit(user=world.biller, visit=other)
        assert held.state == ClaimState.HELD
        assert held.hold_reasons[0]["message"] == "edit.mue: too many units"
        with pytest.raises(ValidationError) as raised:
            claim_acknowledge(user=world.biller, claim=held)
        assert "hold_reasons" in raised.value.message_dict

    def test_rescrub_releases_a_claim_once_the_cause_is_fixed(self, world: World) -> None:
        set_up_billing(world, charges=False)
        claim = claim_from_visit(user=world.biller, visit=signed_ot_visit(world, 3))
        assert claim.state == ClaimState.HELD
        ChargeEntry.objects.create(
            clinic=world.clinic,
            code="97535",
            charge=Decimal("80"),
            effective_from=world.today - timedelta(days=30),
        )
        claim = claim_rescrub(user=world.biller, claim=claim)
        assert claim.state == ClaimState.READY
        assert claim.total_charge == Decimal("240.00")
        assert claim.hold_reasons == []


class EligibilityTests:
    def test_an_assistants_note_waits_for_the_cosignature_the_payer_requires(
        self, world: World
    ) -> None:
        set_up_billing(world)
        visit = visit_create(user=world.ota, case=world.ot_case, date=world.today - timedelta(3))
        service_line_add(user=world.ota, visit=visit, code="97535", assistant_minutes=30, **NOTE)
        visit = visit_sign(user=world.ota, visit=visit, reason="test")
        made = claims_from_visits(user=world.biller, clinic=world.clinic, through=world.today)
        assert made.claims == []
        assert "co-signature" in made.skipped[0]
        with pytest.raises(ValidationError) as raised:
            claim_from_visit(user=world.biller, visit=visit)
        assert "cosigned_by" in raised.value.message_dict
        visit_cosign(user=world.ot, visit=visit)
        made = claims_from_visits(user=world.biller, clinic=world.clinic, through=world.today)
        [claim] = made.claims
        # An assistant bills under the co-signing therapist.
        assert claim.rendering == world.ot
        assert "CO" in claim.lines.get().modifiers

    def test_a_draft_is_never_billed_and_a_visit_once(self, world: World) -> None:
        set_up_billing(world)
        draft = visit_create(user=world.ot, case=world.ot_case, date=world.today)
        with pytest.raises(ValidationError):
            claim_from_visit(user=world.biller, visit=draft)
        visit = signed_ot_visit(world, 3)
        claim_from_visit(user=world.biller, visit=visit)
        with pytest.raises(ValidationError):
            claim_from_visit(user=world.biller, visit=visit)
        made = claims_from_visits(user=world.biller, clinic=world.clinic, through=world.today)
        assert made.claims == []


class StateTests:
    def test_every_change_is_an_event_and_bad_moves_are_refused(self, world: World) -> None:
        set_up_billing(world)
        claim = claim_from_visit(user=world.biller, visit=signed_ot_visit(world, 3))
        with pytest.raises(ClaimStateError):
            change_state(claim, ClaimState.PAID, by=world.biller, reason="skip ahead")
        change_state(claim, ClaimState.SENT, by=world.biller, reason="sent")
        change_state(claim, ClaimState.DENIED, by=None, reason="835 CO-50")
        change_state(claim, ClaimState.APPEALED, by=world.biller, reason="letter")
        events = list(ClaimEvent.objects.filter(claim=claim).values_list("from_state", "to_state"))
        assert events == [
            ("", "ready"),
            ("ready", "sent"),
            ("sent", "denied"),
            ("denied", "appealed"),
        ]
        assert Claim.objects.get(pk=claim.pk).state == ClaimState.APPEALED

    def test_events_are_append_only(self, world: World) -> None:
        set_up_billing(world)
        claim = claim_from_visit(user=world.biller, visit=signed_ot_visit(world, 3))
        event = claim.events.get()
        event.reason = "rewritten"
        with pytest.raises(ValueError, match="append-only"):
            event.save()
        with pytest.raises(ValueError, match="append-only"):
            event.delete()


class CorrectionTests:
    def _denied(self, world: World) -> Claim:
        set_up_billing(world)
        claim = claim_from_visit(user=world.biller, visit=signed_ot_visit(world, 3))
        change_state(claim, ClaimState.SENT, by=world.biller)
        change_state(claim, ClaimState.DENIED, by=None, reason="835")
        return claim

    def test_a_replacement_names_the_payers_claim_number_and_closes_the_original(
        self, world: World
    ) -> None:
        claim = self._denied(world)
        with pytest.raises(ValidationError) as raised:
            claim_correct(user=world.biller, claim=claim, frequency="7")
        assert "payer_claim_number" in raised.value.message_dict
        new = claim_correct(
            user=world.biller, claim=claim, frequency="7", payer_claim_number="PCN-123"
        )
        assert (new.frequency, new.payer_claim_number, new.replaces_id) == (
            "7",
            "PCN-123",
            claim.pk,
        )
        assert new.state == ClaimState.READY
        assert new.control_number != claim.control_number
        assert Claim.objects.get(pk=claim.pk).state == ClaimState.CLOSED

    def test_a_void_repeats_the_lines(self, world: World) -> None:
        claim = self._denied(world)
        claim.payer_claim_number = "PCN-9"
        claim.save()
        void = claim_correct(user=world.biller, claim=claim, frequency="8")
        assert void.frequency == "8"
        assert [(x.code, x.units, x.charge) for x in void.lines.all()] == [
            (x.code, x.units, x.charge) for x in claim.lines.all()
        ]

    def test_an_unsent_claim_cannot_be_corrected(self, world: World) -> None:
        set_up_billing(world)
        claim = claim_from_visit(user=world.biller, visit=signed_ot_visit(world, 3))
        with pytest.raises(ValidationError) as raised:
            claim_correct(user=world.biller, claim=claim, frequency="7", payer_claim_number="X")
        assert "state" in raised.value.message_dict


def test_notes_older_than_the_timely_filing_year_are_not_claimed(world: World) -> None:
    set_up_billing(world)
    visit = signed_ot_visit(world, 3)
    later = visit.date + timedelta(days=365)
    assert claims_from_visits(user=world.biller, clinic=world.clinic, through=later).claims == []
    [claim] = claims_from_visits(
        user=world.biller, clinic=world.clinic, through=later - timedelta(days=1)
    ).claims
    assert claim.visit_id == visit.pk

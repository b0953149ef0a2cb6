from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from handrail.web.audit.models import AuditAction, AuditEvent
from handrail.web.care.services import GoalInput, plan_of_care_create
from handrail.web.clinic.services import user_create
from handrail.web.visits.models import ServiceLine, TimerSegment, Visit
from handrail.web.visits.services import (
    NoteSignedError,
    SignNeedsReasonError,
    service_line_add,
    service_line_set_minutes,
    service_line_update,
    timer_segment_add,
    visit_add_addendum,
    visit_cosign,
    visit_create,
    visit_evaluate,
    visit_record_dict,
    visit_sign,
    visit_update,
)
from tests.web.conftest import PASSWORD, World

GOOD_NOTE = {
    "baseline": "Needs moderate assistance to don a pullover shirt; left-hand neglect.",
    "task": "Upper-body dressing: pullover shirt seated at edge of bed.",
    "technique": "One-handed dressing technique, affected arm first; verbal and tactile cues.",
    "skilled": "Hemiparesis after stroke needs graded cueing and safety judgment.",
    "performance": "Donned shirt with minimal assistance, 2 verbal cues; carried over sequence.",
}


def _ot_visit(world: World, days_ago: int = 1) -> Visit:
    return visit_create(
        user=world.ot, case=world.ot_case, date=world.today - timedelta(days=days_ago)
    )


class VisitCreateTests:
    def test_it_refuses_a_future_date(self, world: World) -> None:
        with pytest.raises(ValidationError) as caught:
            visit_create(user=world.ot, case=world.ot_case, date=world.today + timedelta(days=1))
        assert list(caught.value.message_dict) == ["date"]
        assert Visit.objects.count() == 0

    def test_it_refuses_a_second_visit_on_the_same_case_and_day(self, world: World) -> None:
        _ot_visit(world)
        with pytest.raises(ValidationError) as caught:
            visit_create(user=world.ota, case=world.ot_case, date=world.today - timedelta(days=1))
        assert "already has a visit" in caught.value.message_dict["date"][0]
        assert Visit.objects.count() == 1

    def test_it_refuses_a_clinician_of_another_discipline(self, world: World) -> None:
        with pytest.raises(ValidationError) as caught:
            visit_create(user=world.pt, case=world.ot_case, date=world.today)
        assert list(caught.value.message_dict) == ["clinician"]

    def test_it_refuses_the_front_desk(self, world: World) -> None:
        with pytest.raises(PermissionDenied):
            visit_create(user=world.front_desk, case=world.ot_case, date=world.today)

    def test_it_refuses_a_case_of_another_clinic(self, world: World) -> None:
        with pytest.raises(ValidationError) as caught:
            visit_create(user=world.outsider, case=world.ot_case, date=world.today)
        assert list(caught.value.message_dict) == ["case"]

    def test_it_refuses_telehealth_when_the_payer_does_not_cover_it(self, world: World) -> None:
        world.medicare.telehealth_allowed = False
        world.medicare.save()
        with pytest.raises(ValidationError) as caught:
            visit_create(user=world.ot, case=world.ot_case, date=world.today, telehealth="home")
        assert list(caught.value.message_dict) == ["telehealth"]

    def test_it_sets_place_of_service_10_for_telehealth_at_home(self, world: World) -> None:
        visit = visit_create(
            user=world.ot, case=world.ot_case, date=world.today, telehealth="home"
        )
        assert visit.place_of_service == "10"


class ServiceLineTests:
    def test_it_adds_a_line_with_its_note(self, world: World) -> None:
        visit = _ot_visit(world)
        line = service_line_add(
            user=world.ot, visit=visit, code="97535", therapist_minutes=25, **GOOD_NOTE
        )
        assert (line.code, line.total_minutes, line.task) == ("97535", 25, GOOD_NOTE["task"])

    def test_it_names_the_field_of_an_unknown_code(self, world: World) -> None:
        visit = _ot_visit(world)
        with pytest.raises(ValidationError) as caught:
            service_line_add(user=world.ot, visit=visit, code="99999", therapist_minutes=10)
        assert list(caught.value.message_dict) == ["code"]

    def test_it_refuses_negative_minutes(self, world: World) -> None:
        visit = _ot_visit(world)
        with pytest.raises(ValidationError) as caught:
            service_line_add(user=world.ot, visit=visit, code="97535", therapist_minutes=-5)
        assert list(caught.value.message_dict) == ["therapist_minutes"]
        assert ServiceLine.objects.count() == 0

    def test_it_refuses_more_than_24_hours_on_a_visit(self, world: World) -> None:
        visit = _ot_visit(world)
        service_line_add(user=world.ot, visit=visit, code="97535", therapist_minutes=1000)
        with pytest.raises(ValidationError) as caught:
            service_line_add(user=world.ot, visit=visit, code="97530", therapist_minutes=441)
        assert "24 hours" in caught.value.message_dict["therapist_minutes"][0]
        assert ServiceLine.objects.count() == 1

    def test_it_sets_minutes_by_hand(self, world: World) -> None:
        visit = _ot_visit(world)
        line = service_line_add(user=world.ot, visit=visit, code="97535", therapist_minutes=10)
        service_line_set_minutes(
            user=world.ot, line=line, therapist_minutes=20, assistant_minutes=8
        )
        line.refresh_from_db()
        assert (line.therapist_minutes, line.assistant_minutes) == (20, 8)


class TimerSegmentTests:
    def _line(self, world: World) -> ServiceLine:
        visit = _ot_visit(world)
        return service_line_add(user=world.ot, visit=visit, code="97535")

    def test_it_recomputes_minutes_from_segments(self, world: World) -> None:
        line = self._line(world)
        start = datetime.combine(line.visit.date, time(14, 0), tzinfo=UTC)  # the visit's day
        timer_segment_add(
            user=world.ot,
            line=line,
            started_at=start,
            ended_at=start + timedelta(minutes=12, seconds=40),
        )
        timer_segment_add(
            user=world.ot,
            line=line,
            started_at=start + timedelta(minutes=20),
            ended_at=start + timedelta(minutes=31),
        )
        line.refresh_from_db()
        assert line.therapist_minutes == 24  # 23 min 40 s rounds to 24

    def test_it_counts_an_assistants_segment_as_assistant_minutes(self, world: World) -> None:
        line = self._line(world)
        start = datetime.combine(line.visit.date, time(14, 0), tzinfo=UTC)  # the visit's day
        timer_segment_add(
            user=world.ota, line=line, started_at=start, ended_at=start + timedelta(minutes=9)
        )
        line.refresh_from_db()
        assert (line.therapist_minutes, line.assistant_minutes) == (0, 9)

    def test_it_refuses_a_negative_segment(self, world: World) -> None:
        line = self._line(world)
        start = datetime.combine(line.visit.date, time(14, 0), tzinfo=UTC)  # the visit's day
        with pytest.raises(ValidationError) as caught:
            timer_segment_add(
                user=world.ot, line=line, started_at=start, ended_at=start - timedelta(minutes=1)
            )
        assert list(caught.value.message_dict) == ["ended_at"]
        assert TimerSegment.objects.count() == 0

    def test_it_refuses_an_overlapping_segment(self, world: World) -> None:
        line = self._line(world)
        other = service_line_add(user=world.ot, visit=line.visit, code="97530")
        start = datetime.combine(line.visit.date, time(14, 0), tzinfo=UTC)  # the visit's day
        timer_segment_add(
            user=world.ot, line=line, started_at=start, ended_at=start + timedelta(minutes=10)
        )
        with pytest.raises(ValidationError) as caught:
            timer_segment_add(
                user=world.ot,
                line=other,
                started_at=start + timedelta(minutes=9),
                ended_at=start + timedelta(minutes=15),
            )
        assert "overlaps the 97535 timer" in caught.value.message_dict["started_at"][0]
        other.refresh_from_db()
        assert (TimerSegment.objects.count(), other.therapist_minutes) == (1, 0)


class VisitRecordTests:
    def test_it_builds_the_engine_record(self, world: World) -> None:
        visit = visit_create(
            user=world.ota,
            case=world.ot_case,
            date=world.today - timedelta(days=1),
            caregiver_present=True,
        )
        service_line_add(
            user=world.ota,
            visit=visit,
            code="97535",
            therapist_minutes=0,
            assistant_minutes=25,
            **GOOD_NOTE,
        )
        record = visit_record_dict(visit=visit)
        assert record == {
            "date": (world.today - timedelta(days=1)).isoformat(),
            "discipline": "OT",
            "lines": [
                {
                    "code": "97535",
                    "minutes": 25,
                    "assistant_minutes": 25,
                    "note": {**GOOD_NOTE, "text": ""},
                }
            ],
            "payer": {"type": "medicare", "unit_rule": "cms", "distinct_modifier": "59"},
            "zip": "62701",
            "telehealth": None,
            "patient_present": True,
            "caregiver_present": True,
            "distinct_services": False,
            "diagnoses": ["I69.351", "R26.81"],
            "threshold": {"accrued_before": "0.00", "medical_necessity_attested": False},
            "counters": {
                "treatment_day": 1,
                "days_since_certification": 17,
                "days_since_first_treatment": 19,
                "plan_certified": True,
            },
            "same_day": [],
        }

    def test_it_counts_the_patients_other_signed_visits_that_day(self, world: World) -> None:
        day = world.today - timedelta(days=1)
        pt_visit = visit_create(user=world.pt, case=world.pt_case, date=day)
        service_line_add(user=world.pt, visit=pt_visit, code="97530", therapist_minutes=15)
        ot_visit = visit_create(user=world.ot, case=world.ot_case, date=day)
        service_line_add(
            user=world.ot, visit=ot_visit, code="97535", therapist_minutes=24, **GOOD_NOTE
        )
        assert visit_record_dict(visit=ot_visit)["same_day"] == []  # a draft may still change
        visit_sign(user=world.pt, visit=pt_visit, reason="No plan yet in this test")
        assert visit_record_dict(visit=ot_visit)["same_day"] == [
            {"code": "97530", "units": 1, "assistant": False}
        ]
        result = visit_evaluate(visit=ot_visit)
        # 97530 (PE 0.60) keeps the day's full-PE unit: both 97535 units at half PE.
        assert [(line["code"], line["unit_amounts"]) for line in result["claim_lines"]] == [
            # Priced in 06102-99 (the clinic's ZIP 62701, built-in tables); alone: 31.10 + 23.33
            ("97535", [23.33, 23.33])
        ]
        assert any(
            step.startswith("Same day, other visits: 97530 x1") for step in result["explanation"]
        )
        assert visit_record_dict(visit=pt_visit)["same_day"] == []  # only the signed others

    def test_it_gives_each_line_the_same_codes_note_of_the_last_signed_visit(
        self, world: World
    ) -> None:
        last = _ot_visit(world, days_ago=3)
        service_line_add(
            user=world.ot, visit=last, code="97535", therapist_minutes=24, **GOOD_NOTE
        )
        visit_sign(user=world.ot, visit=last)
        today = _ot_visit(world, days_ago=1)
        service_line_add(
            user=world.ot, visit=today, code="97535", therapist_minutes=24, **GOOD_NOTE
        )
        service_line_add(user=world.ot, visit=today, code="97530", therapist_minutes=10)
        lines = visit_record_dict(visit=today)["lines"]
        assert lines[0]["previous_note"] == {**GOOD_NOTE, "text": ""}
        assert "previous_note" not in lines[1]  # no 97530 at the last visit
        assert "previous_note" not in visit_record_dict(visit=last)["lines"][0]
        findings = visit_evaluate(visit=today)["findings"]
        assert [
            (f["rule"], f.get("line")) for f in findings if f["rule"].startswith("doc.97535")
        ] == [("doc.97535.repeated-note", 0)]

    def test_it_flags_a_plan_still_uncertified_after_30_days(self, world: World) -> None:
        start = world.today - timedelta(days=35)
        plan_of_care_create(
            user=world.pt,
            case=world.pt_case,
            diagnoses=["R26.81"],
            goals=[GoalInput("Walks 150 feet with a cane", start + timedelta(weeks=8))],
            frequency_per_week=2,
            duration_weeks=8,
            start_date=start,
        )
        visit = visit_create(
            user=world.pt, case=world.pt_case, date=world.today - timedelta(days=1)
        )
        service_line_add(user=world.pt, visit=visit, code="97116", therapist_minutes=15)
        counters = visit_record_dict(visit=visit)["counters"]
        assert (counters["days_since_first_treatment"], counters["plan_certified"]) == (34, False)
        findings = visit_evaluate(visit=visit)["findings"]
        assert [f["severity"] for f in findings if f["rule"] == "doc.poc.certification-late"] == [
            "error"
        ]


class VisitEvaluateTests:
    def test_it_returns_units_and_a_finding_for_a_thin_note(self, world: World) -> None:
        visit = _ot_visit(world)
        service_line_add(
            user=world.ot,
            visit=visit,
            code="97535",
            therapist_minutes=25,
            text="ADL training performed",
        )
        service_line_add(
            user=world.ot, visit=visit, code="97530", therapist_minutes=14, **GOOD_NOTE
        )
        result = visit_evaluate(visit=visit)
        units = {line["code"]: line["units"] for line in result["claim_lines"]}
        assert (result["total_timed_minutes"], result["total_units"], units) == (
            39,
            3,
            {"97535": 2, "97530": 1},
        )
        assert any(
            f["severity"] in ("error", "warning") and f.get("line") == 0
            for f in result["findings"]
        )


class VisitSignTests:
    def _ready(self, world: World) -> Visit:
        visit = _ot_visit(world)
        service_line_add(
            user=world.ot, visit=visit, code="97535", therapist_minutes=25, **GOOD_NOTE
        )
        return visit

    def test_it_signs_locks_and_stores_the_allowed_amount(self, world: World) -> None:
        visit = visit_sign(user=world.ot, visit=self._ready(world))
        visit.refresh_from_db()
        assert (visit.status, visit.signed_by_id) == ("signed", world.ot.pk)
        assert visit.allowed_amount is not None and visit.allowed_amount > Decimal("0")
        assert visit.evaluation is not None and visit.evaluation["total_units"] == 2

    def test_it_refuses_the_biller(self, world: World) -> None:
        with pytest.raises(PermissionDenied):
            visit_sign(user=world.biller, visit=self._ready(world))
        assert Visit.objects.get().status == "draft"

    def test_it_refuses_the_front_desk_and_the_admin(self, world: World) -> None:
        visit = self._ready(world)
        for user in (world.front_desk, world.admin):
            with pytest.raises(PermissionDenied):
                visit_sign(user=user, visit=visit)

    def test_it_refuses_an_assistant_signing_someone_elses_note(self, world: World) -> None:
        with pytest.raises(PermissionDenied):
            visit_sign(user=world.ota, visit=self._ready(world))

    def test_it_locks_the_note_against_changes(self, world: World) -> None:
        visit = visit_sign(user=world.ot, visit=self._ready(world))
        line = visit.lines.get()
        with pytest.raises(ValidationError) as caught:
            service_line_set_minutes(user=world.ot, line=line, therapist_minutes=40)
        assert list(caught.value.message_dict) == ["status"]
        with pytest.raises(ValidationError):
            visit_update(user=world.ot, visit=visit, narrative="changed")

    def test_it_takes_addenda_only_after_signing(self, world: World) -> None:
        visit = self._ready(world)
        with pytest.raises(ValidationError):
            visit_add_addendum(user=world.ot, visit=visit, reason="late entry", text="x")
        visit_sign(user=world.ot, visit=visit)
        addendum = visit_add_addendum(
            user=world.ot, visit=visit, reason="Late entry", text="Caregiver trained on set-up."
        )
        assert (addendum.author_id, addendum.reason) == (world.ot.pk, "Late entry")

    def test_it_flags_an_assistants_note_for_cosign_when_the_payer_requires(
        self, world: World
    ) -> None:
        from handrail.web.visits.selectors import visit_needs_cosign
        from handrail.web.visits.services import visit_cosign

        visit = visit_create(user=world.ota, case=world.ot_case, date=world.today)
        service_line_add(
            user=world.ota, visit=visit, code="97535", assistant_minutes=25, **GOOD_NOTE
        )
        visit_sign(user=world.ota, visit=visit)
        assert visit_needs_cosign(visit=visit) is True
        with pytest.raises(PermissionDenied):
            visit_cosign(user=world.pt, visit=visit)
        visit_cosign(user=world.ot, visit=visit)
        assert visit_needs_cosign(visit=visit) is False


class VisitSignOnceTests:
    """Signing is idempotent and exclusive; every check reads the row as stored, not the
    caller's copy (a page or request that read the note before someone else signed it)."""

    def _ready(self, world: World) -> Visit:
        visit = _ot_visit(world)
        service_line_add(
            user=world.ot, visit=visit, code="97535", therapist_minutes=25, **GOOD_NOTE
        )
        return visit

    def _sign_events(self, visit: Visit) -> list[str]:
        return list(
            AuditEvent.objects.filter(
                action=AuditAction.SIGN, object_type="visit", object_id=str(visit.pk)
            ).values_list("detail", flat=True)
        )

    def test_it_answers_a_second_sign_by_the_signer_with_the_note_and_records_nothing(
        self, world: World
    ) -> None:
        visit = self._ready(world)
        stale = Visit.objects.get(pk=visit.pk)
        first = visit_sign(user=world.ot, visit=visit)
        again = visit_sign(user=world.ot, visit=stale)
        assert (again.pk, again.status, again.signed_at) == (first.pk, "signed", first.signed_at)
        assert (stale.status, stale.signed_at) == ("signed", first.signed_at)
        assert again.evaluation == first.evaluation
        assert self._sign_events(visit) == [""]

    def test_it_refuses_a_note_someone_else_signed_as_a_conflict(self, world: World) -> None:
        other_ot = user_create(
            clinic=world.clinic,
            username="omar",
            password=PASSWORD,
            role="therapist",
            discipline="OT",
        )
        visit = self._ready(world)
        stale = Visit.objects.get(pk=visit.pk)
        visit_sign(user=world.ot, visit=visit)
        with pytest.raises(NoteSignedError) as caught:
            visit_sign(user=other_ot, visit=stale)
        assert caught.value.message_dict["status"][0].startswith("Already signed by Olivia Test")
        stored = Visit.objects.get(pk=visit.pk)
        assert (stored.signed_by_id, len(self._sign_events(visit))) == (world.ot.pk, 1)

    def test_it_keeps_the_signature_when_an_edit_read_the_note_before_the_sign(
        self, world: World
    ) -> None:
        visit = self._ready(world)
        stale = Visit.objects.get(pk=visit.pk)
        line = ServiceLine.objects.get(visit=visit)
        visit_sign(user=world.ot, visit=visit)
        with pytest.raises(ValidationError) as caught:
            visit_update(user=world.ot, visit=stale, narrative="typed before the sign")
        assert list(caught.value.message_dict) == ["status"]
        with pytest.raises(ValidationError):
            service_line_update(user=world.ot, line=line, text="typed before the sign")
        with pytest.raises(ValidationError):
            service_line_set_minutes(user=world.ot, line=line, therapist_minutes=53)
        stored = Visit.objects.get(pk=visit.pk)
        assert (stored.status, stored.signed_by_id, stored.narrative) == (
            "signed",
            world.ot.pk,
            "",
        )
        line.refresh_from_db()
        assert (line.therapist_minutes, line.text) == (25, "")

    def test_it_signs_the_note_as_stored_not_the_callers_copy(self, world: World) -> None:
        visit = self._ready(world)
        stale = Visit.objects.get(pk=visit.pk)
        visit_update(user=world.ot, visit=visit, narrative="Written after the page loaded.")
        service_line_set_minutes(
            user=world.ot, line=ServiceLine.objects.get(visit=visit), therapist_minutes=38
        )
        signed = visit_sign(user=world.ot, visit=stale)
        stored = Visit.objects.get(pk=visit.pk)
        assert stored.narrative == "Written after the page loaded."
        assert signed.evaluation is not None
        assert (signed.evaluation["total_timed_minutes"], signed.evaluation["total_units"]) == (
            38,
            3,
        )
        assert stored.evaluation == signed.evaluation

    def test_it_answers_a_second_cosign_by_the_cosigner_and_refuses_another(
        self, world: World
    ) -> None:
        other_ot = user_create(
            clinic=world.clinic,
            username="omar",
            password=PASSWORD,
            role="therapist",
            discipline="OT",
        )
        visit = visit_create(user=world.ota, case=world.ot_case, date=world.today)
        service_line_add(
            user=world.ota, visit=visit, code="97535", assistant_minutes=25, **GOOD_NOTE
        )
        visit_sign(user=world.ota, visit=visit)
        stale = Visit.objects.get(pk=visit.pk)
        first = visit_cosign(user=world.ot, visit=visit)
        again = visit_cosign(user=world.ot, visit=stale)
        assert (again.cosigned_by_id, again.cosigned_at) == (world.ot.pk, first.cosigned_at)
        with pytest.raises(NoteSignedError) as caught:
            visit_cosign(user=other_ot, visit=stale)
        assert caught.value.message_dict == {"status": ["Already co-signed by Olivia Test, OT."]}
        assert self._sign_events(visit) == ["co-signed", ""]


class VisitSignWithErrorsTests:
    """A note whose evaluation has error findings is signed only with a reason (issue 7)."""

    def _pt_without_plan(self, world: World) -> Visit:
        # The PT case has no plan of care, so its lines point at no diagnosis: dx.missing.
        visit = visit_create(user=world.pt, case=world.pt_case, date=world.today)
        service_line_add(
            user=world.pt, visit=visit, code="97110", therapist_minutes=25, **GOOD_NOTE
        )
        return visit

    def test_it_refuses_without_a_reason_listing_the_errors_and_saves_nothing(
        self, world: World
    ) -> None:
        visit = self._pt_without_plan(world)
        for reason in ("", "   "):
            with pytest.raises(SignNeedsReasonError) as caught:
                visit_sign(user=world.pt, visit=visit, reason=reason)
            assert caught.value.message_dict == {
                "reason": [
                    "This note has 1 error finding (dx.missing); fix them, or sign anyway "
                    "and say why in the reason."
                ]
            }
            assert [f["rule"] for f in caught.value.findings] == ["dx.missing"]
        stored = Visit.objects.get(pk=visit.pk)
        assert (stored.status, stored.evaluation, stored.sign_reason) == ("draft", None, "")
        assert not AuditEvent.objects.filter(action=AuditAction.SIGN).exists()

    def test_it_signs_anyway_with_the_reason_stored_and_audited(self, world: World) -> None:
        visit = self._pt_without_plan(world)
        signed = visit_sign(user=world.pt, visit=visit, reason="  Plan faxed; dx to follow. ")
        stored = Visit.objects.get(pk=visit.pk)
        assert (stored.status, stored.sign_reason) == ("signed", "Plan faxed; dx to follow.")
        assert signed.sign_reason == "Plan faxed; dx to follow."
        event = AuditEvent.objects.get(action=AuditAction.SIGN)
        assert (event.user_id, event.detail) == (
            world.pt.pk,
            "signed with error findings (dx.missing); reason: Plan faxed; dx to follow.",
        )

    def test_it_bounds_the_reason_at_300_characters(self, world: World) -> None:
        visit = self._pt_without_plan(world)
        with pytest.raises(ValidationError) as caught:
            visit_sign(user=world.pt, visit=visit, reason="x" * 301)
        assert caught.value.message_dict == {
            "reason": ["Keep the reason to 300 characters (it has 301)."]
        }
        signed = visit_sign(user=world.pt, visit=visit, reason="x" * 300)
        assert len(signed.sign_reason) == 300

    def test_it_stores_no_reason_for_a_note_without_errors(self, world: World) -> None:
        visit = _ot_visit(world)
        service_line_add(
            user=world.ot, visit=visit, code="97535", therapist_minutes=25, **GOOD_NOTE
        )
        signed = visit_sign(user=world.ot, visit=visit, reason="not needed")
        assert signed.evaluation is not None
        assert not [f for f in signed.evaluation["findings"] if f["severity"] == "error"]
        assert Visit.objects.get(pk=visit.pk).sign_reason == ""
        assert AuditEvent.objects.get(action=AuditAction.SIGN).detail == ""


class TimerAndTypedMinutesTests:
    """Timer runs add to typed minutes; a stray one-second run never wipes them."""

    def test_it_adds_a_timer_run_to_typed_minutes(self, world: World) -> None:
        line = service_line_add(user=world.ot, visit=_ot_visit(world), code="97535")
        service_line_set_minutes(user=world.ot, line=line, therapist_minutes=25)
        start = datetime.combine(line.visit.date, time(14, 0), tzinfo=UTC)  # the visit's day
        timer_segment_add(
            user=world.ot, line=line, started_at=start, ended_at=start + timedelta(seconds=1)
        )
        line.refresh_from_db()
        assert line.therapist_minutes == 25
        timer_segment_add(
            user=world.ot,
            line=line,
            started_at=start + timedelta(minutes=1),
            ended_at=start + timedelta(minutes=9, seconds=40),
        )
        line.refresh_from_db()
        # 1 s + 8 min 40 s of timer = 8 min 41 s -> 9 minutes, on top of the 25 typed
        assert line.therapist_minutes == 34
        service_line_set_minutes(user=world.ot, line=line, therapist_minutes=30)
        timer_segment_add(
            user=world.ot,
            line=line,
            started_at=start + timedelta(minutes=10),
            ended_at=start + timedelta(minutes=12),
        )
        line.refresh_from_db()
        assert line.therapist_minutes == 32


class AddendumAuthorTests:
    def _signed_assistant_note(self, world: World) -> Visit:
        visit = visit_create(
            user=world.ota, case=world.ot_case, date=world.today - timedelta(days=1)
        )
        service_line_add(
            user=world.ota, visit=visit, code="97535", therapist_minutes=0, assistant_minutes=25
        )
        return visit_sign(user=world.ota, visit=visit, reason="Note text follows in an addendum")

    @pytest.mark.parametrize(("role", "allowed"), [("ota", True), ("ot", True), ("pt", False)])
    def test_it_takes_addenda_from_the_author_or_the_discipline(
        self, world: World, role: str, allowed: bool
    ) -> None:
        visit = self._signed_assistant_note(world)
        user = getattr(world, role)
        if allowed:
            addendum = visit_add_addendum(user=user, visit=visit, reason="Late", text="Seen.")
            assert addendum.author_id == user.pk
        else:
            with pytest.raises(PermissionDenied) as caught:
                visit_add_addendum(user=user, visit=visit, reason="Late", text="Seen.")
            assert str(caught.value) == (
                "Only the note's clinician, its co-signer or a OT clinician can write an "
                "addendum to it."
            )
            assert not visit.addenda.exists()

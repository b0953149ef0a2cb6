"""Issue 7: note-text edits are audited once per real change (who, which field, old -> new
where the audit keeps it, when), and a draft edited by someone other than its author shows
those changes on the note page and in the sign confirmation."""

from __future__ import annotations

from datetime import timedelta

from django.urls import reverse
from django.utils import timezone

from handrail.web.audit.models import AuditAction, AuditEvent
from handrail.web.clinic.models import User
from handrail.web.clinic.services import coverage_set, patient_update, user_create
from handrail.web.visits.models import ServiceLine, Visit
from handrail.web.visits.services import (
    service_line_add,
    service_line_change,
    timer_segment_add,
    visit_create,
    visit_sign,
    visit_update,
)
from tests.web.conftest import PASSWORD, World
from tests.web.notes_seed import GOOD_NOTE

HTMX = {"HTTP_HX_REQUEST": "true"}
HEADER = {
    "v-visit_type": "treatment",
    "v-telehealth": "",
    "v-patient_present": "on",
    "v-narrative": "",
}


def _url(name: str, visit: Visit, line: ServiceLine | None = None) -> str:
    kwargs = {"visit_id": visit.pk} | ({"line_id": line.pk} if line is not None else {})
    return reverse(f"notes:{name}", kwargs=kwargs)


def _events_since(before: int) -> list[tuple[str, str, str]]:
    events = AuditEvent.objects.filter(pk__gt=before).order_by("pk").select_related("user")
    return [(e.user.username, e.action, e.detail) for e in events]


def _last_event_id() -> int:
    return AuditEvent.objects.order_by("-pk").values_list("pk", flat=True).first() or 0


def _draft_with_line(world: World) -> tuple[Visit, ServiceLine]:
    visit = visit_create(user=world.ot, case=world.ot_case, date=world.today)
    line = service_line_add(user=world.ot, visit=visit, code="97535", therapist_minutes=10)
    return visit, line


def _second_pt(world: World) -> User:
    return user_create(
        clinic=world.clinic,
        username="peter",
        password=PASSWORD,
        role="therapist",
        discipline="PT",
        first_name="Peter",
        last_name="Test",
    )


class NoteChangeAuditTests:
    def test_it_audits_a_header_change_with_old_and_new_values(self, world: World) -> None:
        visit, _line = _draft_with_line(world)
        client = world.client_for(world.ot)
        before = _last_event_id()
        client.post(_url("header", visit), {**HEADER, "v-version": "1"}, **HTMX)  # unchanged
        assert _events_since(before) == []
        client.post(
            _url("header", visit),
            {**HEADER, "v-telehealth": "home", "v-narrative": "Seen at home", "v-version": "1"},
            **HTMX,
        )
        assert _events_since(before) == [
            (
                "olivia",
                AuditAction.UPDATE,
                "changed narrative (0 -> 12 chars); place_of_service 11 -> 10; "
                "telehealth (none) -> home",
            )
        ]
        visit.refresh_from_db()
        assert visit.version == 2

    def test_it_audits_booleans_as_yes_and_no(self, world: World) -> None:
        visit, _line = _draft_with_line(world)
        before = _last_event_id()
        visit_update(user=world.ot, visit=visit, patient_present=False, caregiver_present=True)
        assert _events_since(before) == [
            (
                "olivia",
                AuditAction.UPDATE,
                "changed caregiver_present no -> yes; patient_present yes -> no",
            )
        ]

    def test_it_audits_minutes_units_and_text_of_a_line_once(self, world: World) -> None:
        visit, line = _draft_with_line(world)
        before = _last_event_id()
        service_line_change(
            user=world.ot,
            line=line,
            note={"task": "Dressing", "text": ""},
            therapist_minutes=15,
            assistant_minutes=0,
            requested_units=1,
        )
        service_line_change(  # the same values again: nothing written, nothing audited
            user=world.ot,
            line=line,
            note={"task": "Dressing", "text": ""},
            therapist_minutes=15,
            assistant_minutes=0,
            requested_units=1,
        )
        assert _events_since(before) == [
            (
                "olivia",
                AuditAction.UPDATE,
                "97535: changed task (0 -> 8 chars); requested units (none) -> 1; "
                "minutes 10+0 -> 15+0",
            )
        ]

    def test_it_does_not_audit_an_unchanged_patient_or_coverage(self, world: World) -> None:
        before = _last_event_id()
        patient_update(user=world.front_desk, patient=world.patient, first_name="Ada")
        coverage_set(
            user=world.front_desk,
            patient=world.patient,
            payer=world.medicare,
            member_id="1EG4TE5MK73",
        )
        assert _events_since(before) == []
        coverage_set(
            user=world.front_desk,
            patient=world.patient,
            payer=world.medicare,
            member_id="1EG4TE5MK74",
        )
        assert _events_since(before) == [
            ("fran", AuditAction.UPDATE, "member_id 1EG4TE5MK73 -> 1EG4TE5MK74")
        ]


class ChangesByOthersTests:
    def test_it_lists_another_clinicians_changes_on_the_authors_draft(self, world: World) -> None:
        visit, line = _draft_with_line(world)
        visit_update(user=world.ot, visit=visit, narrative="Mine")  # the author's own: not listed
        visit_update(user=world.ota, visit=visit, patient_present=False)
        service_line_change(user=world.ota, line=line, therapist_minutes=20, assistant_minutes=0)
        start = timezone.now().replace(second=0, microsecond=0) - timedelta(minutes=30)
        if start.date() != world.today:  # the run must fall on the visit's day
            start = start + timedelta(minutes=30)
        timer_segment_add(
            user=world.ota, line=line, started_at=start, ended_at=start + timedelta(minutes=5)
        )
        html = world.client_for(world.ot).get(_url("note", visit)).content.decode()
        assert 'id="changes-by-others"' in html
        assert "Changed by someone other than Olivia Test, OT:" in html
        listed = html.split('id="changes-by-others"')[1].split("</ul>")[0]
        assert listed.count("<li ") == 3
        assert "<strong>Oscar Test, OTA</strong>" in listed
        assert "changed patient_present yes -&gt; no" in listed
        assert "97535: changed minutes 10+0 -&gt; 20+0" in listed
        assert "97535: timer run of 300 s; minutes 20+5" in listed
        assert "narrative" not in listed
        assert "3 changes to this draft were made by someone other than Olivia Test" in html

    def test_it_shows_the_same_list_to_the_other_editor_and_the_biller(self, world: World) -> None:
        visit, line = _draft_with_line(world)
        service_line_change(user=world.ota, line=line, note={"task": "Shirt"})
        for user in (world.ota, world.biller, world.admin):
            html = world.client_for(user).get(_url("note", visit)).content.decode()
            assert "97535: changed task (0 -&gt; 5 chars)" in html, user

    def test_it_shows_nothing_when_only_the_author_edited(self, world: World) -> None:
        visit, line = _draft_with_line(world)
        service_line_change(user=world.ot, line=line, note={"task": "Shirt"})
        html = world.client_for(world.ot).get(_url("note", visit)).content.decode()
        assert "changes-by-others" not in html
        assert 'data-confirm="Sign and lock this note?' in html

    def test_it_lists_the_changes_in_the_sign_confirmation(self, world: World) -> None:
        peter = _second_pt(world)
        visit = visit_create(user=world.pt, case=world.pt_case, date=world.today)
        line = service_line_add(
            user=world.pt, visit=visit, code="97110", therapist_minutes=25, **GOOD_NOTE
        )
        service_line_change(user=peter, line=line, therapist_minutes=30, assistant_minutes=0)
        asked = world.client_for(world.pt).post(_url("sign", visit))
        assert asked.status_code == 422  # the PT case has no diagnosis: an error finding
        html = asked.content.decode()
        confirm = html.split('id="sign-confirm"')[1].split("</section>")[0]
        assert 'id="sign-changes-by-others"' in confirm
        assert "<strong>Peter Test, PT</strong>" in confirm
        assert "97110: changed minutes 25+0 -&gt; 30+0" in confirm

    def test_it_drops_the_list_once_the_note_is_signed(self, world: World) -> None:
        visit, line = _draft_with_line(world)
        service_line_change(user=world.ota, line=line, note={"task": "Shirt", **GOOD_NOTE})
        visit_sign(user=world.ot, visit=visit, reason="Reviewed the assistant's changes.")
        html = world.client_for(world.ot).get(_url("note", visit)).content.decode()
        assert "changes-by-others" not in html

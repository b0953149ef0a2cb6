"""The visit note page through the Django test client: permissions, the locked note,
timer validation, autosave errors and the live panel."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from django.urls import reverse

from handrail.web.audit.models import AuditAction, AuditEvent
from handrail.web.clinic.services import coverage_set, user_create
from handrail.web.visits.models import ServiceLine, TimerSegment, Visit, VisitStatus
from handrail.web.visits.services import service_line_add, visit_create, visit_sign
from tests.web.conftest import PASSWORD, World
from tests.web.notes_seed import GOOD_NOTE

HTMX = {"HTTP_HX_REQUEST": "true"}
# The line autosave with the live panel it answers with, each lookup read once (was 29-40,
# then 26). Text typed: the session, the user, the visit; the line read under its lock, its
# update and its audit event, inside a savepoint and its release; the panel's four lookups
# (the lines with the previous signed note's, one aggregate of the treatment days and the
# threshold accrual, the coverage, the plan), the day's other signed lines and the payer's
# contract in effect (the expected payment of a contracted payer, handrail.web.billing).
QUERIES_PER_TEXT_AUTOSAVE = 14
# Minutes typed add the line's timer runs and the visit's other minutes (the 24-hour limit).
QUERIES_PER_AUTOSAVE = QUERIES_PER_TEXT_AUTOSAVE + 2


def _visit(world: World) -> Visit:
    return visit_create(user=world.ot, case=world.ot_case, date=world.today)


def _line(world: World, visit: Visit, code: str = "97535", **fields: object) -> ServiceLine:
    return service_line_add(user=world.ot, visit=visit, code=code, **fields)  # type: ignore[arg-type]


def _line_post(line: ServiceLine, minutes: int, **note: str) -> dict[str, str]:
    data = {f"l{line.pk}-therapist_minutes": str(minutes), f"l{line.pk}-assistant_minutes": "0"}
    for name in ("baseline", "task", "technique", "skilled", "performance", "text"):
        data[f"l{line.pk}-{name}"] = note.get(name, "")
    return data


def _url(name: str, visit: Visit, line: ServiceLine | None = None) -> str:
    kwargs = {"visit_id": visit.pk}
    if line is not None:
        kwargs["line_id"] = line.pk
    return reverse(f"notes:{name}", kwargs=kwargs)


class NotePageTests:
    def test_it_shows_the_editable_note_with_timers_to_its_therapist(self, world: World) -> None:
        visit = _visit(world)
        _line(world, visit, therapist_minutes=25)
        response = world.client_for(world.ot).get(_url("note", visit))
        assert response.status_code == 200
        html = response.content.decode()
        assert 'id="timer-97535"' in html
        assert 'id="sign-button"' in html
        assert 'id="panel"' in html
        assert 'id="units-97535" data-units="2"' in html
        assert "handrail/notes.js" in html
        assert "<script>" not in html  # the CSP allows no inline script

    def test_it_hides_note_content_from_the_front_desk(self, world: World) -> None:
        visit = _visit(world)
        _line(world, visit, therapist_minutes=25, **GOOD_NOTE)
        client = world.client_for(world.front_desk)
        for name in ("note", "panel"):
            response = client.get(_url(name, visit))
            assert response.status_code == 403
            assert GOOD_NOTE["baseline"] not in response.content.decode()

    def test_it_shows_the_biller_a_read_only_note_without_a_sign_button(
        self, world: World
    ) -> None:
        visit = _visit(world)
        _line(world, visit, therapist_minutes=25, **GOOD_NOTE)
        response = world.client_for(world.biller).get(_url("note", visit))
        html = response.content.decode()
        assert response.status_code == 200
        assert 'id="sign-button"' not in html
        assert "A biller cannot sign notes." in html
        assert "<textarea" not in html
        assert GOOD_NOTE["skilled"] in html

    def test_it_is_a_404_for_another_clinics_therapist(self, world: World) -> None:
        visit = _visit(world)
        response = world.client_for(world.outsider).get(_url("note", visit))
        assert response.status_code == 404


class NoteSignTests:
    def test_it_refuses_the_biller_and_leaves_the_note_a_draft(self, world: World) -> None:
        visit = _visit(world)
        _line(world, visit, therapist_minutes=25, **GOOD_NOTE)
        response = world.client_for(world.biller).post(_url("sign", visit))
        assert response.status_code == 403
        visit.refresh_from_db()
        assert visit.status == VisitStatus.DRAFT

    def test_it_signs_and_locks_for_the_therapist(self, world: World) -> None:
        visit = _visit(world)
        _line(world, visit, therapist_minutes=25, **GOOD_NOTE)
        client = world.client_for(world.ot)
        response = client.post(_url("sign", visit))
        assert response.status_code == 302
        visit.refresh_from_db()
        assert (visit.status, visit.signed_by) == (VisitStatus.SIGNED, world.ot)
        html = client.get(_url("note", visit)).content.decode()
        assert "Signed · locked" in html
        assert 'id="locked-banner"' in html
        assert 'id="timer-97535"' not in html
        assert 'id="id_reason"' in html  # the addendum form

    def test_it_answers_a_repeated_sign_as_signed_and_another_signer_with_409(
        self, world: World
    ) -> None:
        visit = _visit(world)
        _line(world, visit, therapist_minutes=25, **GOOD_NOTE)
        client = world.client_for(world.ot)
        assert [client.post(_url("sign", visit)).status_code for _ in range(2)] == [302, 302]
        other = user_create(
            clinic=world.clinic,
            username="omar",
            password=PASSWORD,
            role="therapist",
            discipline="OT",
        )
        response = world.client_for(other).post(_url("sign", visit))
        assert response.status_code == 409
        assert "Already signed by Olivia Test, OT on 2026-11-16" in response.content.decode()
        events = AuditEvent.objects.filter(action=AuditAction.SIGN, object_id=str(visit.pk))
        assert list(events.values_list("user_id", flat=True)) == [world.ot.pk]

    def test_it_lists_the_error_findings_and_signs_anyway_with_a_reason(
        self, world: World
    ) -> None:
        visit = visit_create(user=world.pt, case=world.pt_case, date=world.today)
        service_line_add(
            user=world.pt, visit=visit, code="97110", therapist_minutes=25, **GOOD_NOTE
        )
        client = world.client_for(world.pt)
        asked = client.post(_url("sign", visit))
        assert asked.status_code == 422
        html = asked.content.decode()
        assert "Not signed: this note has 1 error finding</h2>" in html
        assert '<li data-rule="dx.missing"><strong>97110</strong> line has no diagnosis' in html
        assert 'id="sign-anyway"' in html and 'id="e-sign-reason"' not in html
        blank = client.post(_url("sign", visit), {"reason": "  "})
        assert blank.status_code == 422
        assert 'id="e-sign-reason"' in blank.content.decode()
        visit.refresh_from_db()
        assert visit.status == VisitStatus.DRAFT
        signed = client.post(_url("sign", visit), {"reason": "Plan faxed; dx to follow."})
        assert signed.status_code == 302
        visit.refresh_from_db()
        assert (visit.status, visit.sign_reason) == ("signed", "Plan faxed; dx to follow.")
        page = client.get(_url("note", visit)).content.decode()
        assert "reason: <em>Plan faxed; dx to follow.</em>" in page

    def test_it_refuses_to_sign_a_note_without_lines_with_a_message(self, world: World) -> None:
        visit = _visit(world)
        response = world.client_for(world.ot).post(_url("sign", visit))
        assert response.status_code == 422
        assert "Add at least one service line before signing." in response.content.decode()

    def test_it_asks_for_a_cosignature_on_an_assistants_note(self, world: World) -> None:
        visit = visit_create(user=world.ota, case=world.ot_case, date=world.today)
        service_line_add(
            user=world.ota, visit=visit, code="97535", assistant_minutes=25, **GOOD_NOTE
        )
        visit_sign(user=world.ota, visit=visit)
        client = world.client_for(world.ot)
        html = client.get(_url("note", visit)).content.decode()
        assert "Needs a therapist's co-signature (payer rule)." in html
        response = client.post(_url("cosign", visit))
        assert response.status_code == 302
        visit.refresh_from_db()
        assert visit.cosigned_by == world.ot


class LockedNoteTests:
    def test_it_rejects_every_edit_of_a_signed_note_with_409_and_a_message(
        self, world: World
    ) -> None:
        visit = _visit(world)
        line = _line(world, visit, therapist_minutes=25, **GOOD_NOTE)
        visit_sign(user=world.ot, visit=visit)
        client = world.client_for(world.ot)
        now = datetime.now(UTC)
        posts = [
            (_url("line-save", visit, line), _line_post(line, 40, **GOOD_NOTE)),
            (_url("header", visit), {"v-visit_type": "treatment", "v-narrative": "changed"}),
            (
                _url("segment-add", visit, line),
                {
                    f"t{line.pk}-started_at": (now - timedelta(minutes=3)).isoformat(),
                    f"t{line.pk}-ended_at": now.isoformat(),
                },
            ),
        ]
        for url, data in posts:
            response = client.post(url, data, **HTMX)  # type: ignore[arg-type]
            assert response.status_code == 409, url
            assert "This note is signed and locked; add an addendum to change it." in (
                response.content.decode()
            )
        response = client.post(_url("line-add", visit), {"code": "97530"})
        assert response.status_code == 409
        line.refresh_from_db()
        assert line.therapist_minutes == 25
        assert not TimerSegment.objects.exists()
        assert visit.lines.count() == 1

    def test_it_adds_an_addendum_with_who_when_and_why(self, world: World) -> None:
        visit = _visit(world)
        _line(world, visit, therapist_minutes=25, **GOOD_NOTE)
        visit_sign(user=world.ot, visit=visit)
        client = world.client_for(world.ot)
        response = client.post(
            _url("addendum", visit), {"reason": "Late entry", "text": "Wife present at end."}
        )
        assert response.status_code == 302
        html = client.get(_url("note", visit)).content.decode()
        assert "<em>Late entry</em>" in html
        assert "Wife present at end." in html

    def test_it_shows_a_missing_addendum_reason_next_to_the_field(self, world: World) -> None:
        visit = _visit(world)
        _line(world, visit, therapist_minutes=25, **GOOD_NOTE)
        visit_sign(user=world.ot, visit=visit)
        response = world.client_for(world.ot).post(
            _url("addendum", visit), {"reason": "", "text": "Something."}
        )
        assert response.status_code == 422
        assert '<p class="field-error" role="alert">This field is required.</p>' in (
            response.content.decode()
        )


class TimerSegmentTests:
    def test_it_adds_a_segment_and_recomputes_the_minutes(self, world: World) -> None:
        visit = _visit(world)
        line = _line(world, visit)
        now = datetime.now(UTC)
        response = world.client_for(world.ot).post(
            _url("segment-add", visit, line),
            {
                f"t{line.pk}-started_at": (now - timedelta(minutes=23)).isoformat(),
                f"t{line.pk}-ended_at": now.isoformat(),
            },
            **HTMX,  # type: ignore[arg-type]
        )
        assert response.status_code == 200
        html = response.content.decode()
        assert f'id="id_l{line.pk}-therapist_minutes" value="23"' in html
        assert '<tr id="units-97535" data-units="2">' in html
        line.refresh_from_db()
        assert line.therapist_minutes == 23

    def test_it_renders_a_segment_that_stops_before_it_starts(self, world: World) -> None:
        visit = _visit(world)
        line = _line(world, visit)
        now = datetime.now(UTC)
        response = world.client_for(world.ot).post(
            _url("segment-add", visit, line),
            {
                f"t{line.pk}-started_at": now.isoformat(),
                f"t{line.pk}-ended_at": (now - timedelta(minutes=5)).isoformat(),
            },
            **HTMX,  # type: ignore[arg-type]
        )
        assert response.status_code == 422
        assert f'id="e-t{line.pk}"' in response.content.decode()
        assert "The timer must stop after it starts." in response.content.decode()
        assert not TimerSegment.objects.exists()

    def test_it_renders_an_overlapping_segment(self, world: World) -> None:
        visit = _visit(world)
        first = _line(world, visit)
        second = _line(world, visit, code="97530")
        now = datetime.now(UTC).replace(microsecond=0)
        client = world.client_for(world.ot)
        client.post(
            _url("segment-add", visit, first),
            {
                f"t{first.pk}-started_at": (now - timedelta(minutes=20)).isoformat(),
                f"t{first.pk}-ended_at": (now - timedelta(minutes=5)).isoformat(),
            },
            **HTMX,  # type: ignore[arg-type]
        )
        response = client.post(
            _url("segment-add", visit, second),
            {
                f"t{second.pk}-started_at": (now - timedelta(minutes=10)).isoformat(),
                f"t{second.pk}-ended_at": now.isoformat(),
            },
            **HTMX,  # type: ignore[arg-type]
        )
        assert response.status_code == 422
        assert "This overlaps the 97535 timer from" in response.content.decode()
        assert TimerSegment.objects.count() == 1

    def test_it_renders_unreadable_times(self, world: World) -> None:
        visit = _visit(world)
        line = _line(world, visit)
        response = world.client_for(world.ot).post(
            _url("segment-add", visit, line),
            {f"t{line.pk}-started_at": "yesterday", f"t{line.pk}-ended_at": ""},
            **HTMX,  # type: ignore[arg-type]
        )
        assert response.status_code == 422
        assert "The timer was not saved: started_at enter a valid date/time." in (
            response.content.decode()
        )


class LineAutosaveTests:
    def test_it_saves_the_note_and_answers_with_the_panel(self, world: World) -> None:
        visit = _visit(world)
        line = _line(world, visit)
        note = {**GOOD_NOTE, "skilled": ""}
        response = world.client_for(world.ot).post(
            _url("line-save", visit, line), _line_post(line, 25, **note), **HTMX
        )
        assert response.status_code == 200
        html = response.content.decode()
        assert f'id="s-l{line.pk}" hx-swap-oob="true"' in html
        assert "Saved " in html
        assert 'data-rule="doc.97535.missing-skilled"' in html
        line.refresh_from_db()
        assert (line.therapist_minutes, line.performance) == (25, GOOD_NOTE["performance"])

    def test_it_shows_minutes_over_a_day_next_to_the_field_and_saves_the_note(
        self, world: World
    ) -> None:
        visit = _visit(world)
        line = _line(world, visit, therapist_minutes=10)
        response = world.client_for(world.ot).post(
            _url("line-save", visit, line), _line_post(line, 1500, task="Dressing"), **HTMX
        )
        assert response.status_code == 422
        html = response.content.decode()
        assert (
            f'<p class="field-error" id="e-l{line.pk}-therapist_minutes" hx-swap-oob="true" '
            'role="alert">At most 1440 minutes (24 hours).</p>'
        ) in html
        assert "except the fields marked in red" in html
        line.refresh_from_db()
        assert (line.therapist_minutes, line.task) == (10, "Dressing")

    def test_it_keeps_the_minutes_when_the_visit_total_passes_a_day_and_saves_the_note(
        self, world: World
    ) -> None:
        visit = _visit(world)
        _line(world, visit, code="97530", therapist_minutes=1000)
        line = _line(world, visit, therapist_minutes=10)
        response = world.client_for(world.ot).post(
            _url("line-save", visit, line), _line_post(line, 500, task="Dressing"), **HTMX
        )
        assert response.status_code == 422
        assert (
            f'id="e-l{line.pk}-therapist_minutes" hx-swap-oob="true" role="alert">'
            "The visit&#x27;s minutes would add up to more than 24 hours.</p>"
        ) in response.content.decode()
        line.refresh_from_db()
        assert (line.therapist_minutes, line.task) == (10, "Dressing")

    def test_it_refuses_the_biller(self, world: World) -> None:
        visit = _visit(world)
        line = _line(world, visit, therapist_minutes=10)
        response = world.client_for(world.biller).post(
            _url("line-save", visit, line), _line_post(line, 30), **HTMX
        )
        assert response.status_code == 403
        line.refresh_from_db()
        assert line.therapist_minutes == 10


class LivePanelTests:
    def test_it_shows_units_modifiers_payment_and_findings(self, world: World) -> None:
        visit = _visit(world)
        _line(world, visit, therapist_minutes=25, **{**GOOD_NOTE, "skilled": ""})
        _line(world, visit, code="97530", therapist_minutes=15)
        response = world.client_for(world.ot).get(_url("panel", visit))
        assert response.status_code == 200
        html = response.content.decode()
        assert '<tr id="units-97535" data-units="2">' in html
        assert '<tr id="units-97530" data-units="1">' in html
        assert '<span class="mod">GO</span>' in html
        assert '<th class="num" id="units-total">3</th>' in html
        assert 'data-rule="doc.97535.missing-skilled"' in html
        assert "97535 note does not state the reason the session needed a skilled" in html
        assert "CMS total-time rule: timed minutes 97535 25 + 97530 15 = 40 minutes" in html
        assert (
            '<tr class="step-row"><td></td><td colspan="4">25 min = 1 full 15-minute unit(s), '
            "10 min left over</td></tr>"
        ) in html
        assert 'id="panel-threshold"' in html
        assert "treatment day 1 of 10" in html
        assert "day 18 of 90" in html

    def test_it_explains_a_note_without_lines_instead_of_failing(self, world: World) -> None:
        visit = _visit(world)
        response = world.client_for(world.ot).get(_url("panel", visit))
        assert response.status_code == 200
        assert "Add at least one service line." in response.content.decode()

    def test_it_explains_a_patient_without_coverage(self, world: World) -> None:
        world.patient.coverages.all().delete()
        visit = _visit(world)
        _line(world, visit, therapist_minutes=25)
        response = world.client_for(world.ot).get(_url("panel", visit))
        assert response.status_code == 200
        assert "The patient has no primary coverage" in response.content.decode()


class PanelPayerTests:
    def test_it_shows_a_commercial_payers_note_without_a_coinsurance(self, world: World) -> None:
        coverage_set(
            user=world.front_desk, patient=world.patient, payer=world.commercial, member_id="ACM-1"
        )
        visit = _visit(world)
        _line(world, visit, therapist_minutes=25)
        for name in ("note", "panel"):
            response = world.client_for(world.ot).get(_url(name, visit))
            assert response.status_code == 200
            html = response.content.decode()
            assert '<tr id="units-97535" data-units="2">' in html  # per-code rule: 25 min = 2
            assert (
                '<span id="no-coinsurance">patient share not estimated '
                "(set by this payer's contract)</span>"
            ) in html
            assert "patient coinsurance" not in html

    def test_it_shows_medicares_coinsurance(self, world: World) -> None:
        visit = _visit(world)
        _line(world, visit, therapist_minutes=25)
        html = world.client_for(world.ot).get(_url("panel", visit)).content.decode()
        assert "patient coinsurance $" in html
        assert 'id="no-coinsurance"' not in html

    def test_it_shows_a_signed_note_whose_stored_answer_lacks_figures(self, world: World) -> None:
        visit = _visit(world)
        _line(world, visit, therapist_minutes=25)
        visit_sign(user=world.ot, visit=visit, reason="Note text follows in an addendum")
        # An answer stored by another version: numbers missing, None or not numbers.
        Visit.objects.filter(pk=visit.pk).update(
            evaluation={
                "claim_lines": [{"code": "97535", "units": None, "amount": "n/a"}],
                "payment": {"allowed": None, "coinsurance": None},
                "threshold": {"applies": True, "year": 2026, "amount": None},
                "findings": [{"line": 7}],
                "explanation": None,
            }
        )
        for name in ("note", "panel"):
            response = world.client_for(world.ot).get(_url(name, visit))
            assert response.status_code == 200
            html = response.content.decode()
            assert '<tr id="units-97535" data-units="0">' in html
            assert 'id="panel-threshold"' not in html
            assert "Allowed amount" not in html


class PanelEditsTests:
    def test_it_shows_an_ncci_pair_until_distinct_services_are_attested(
        self, world: World
    ) -> None:
        visit = _visit(world)
        _line(world, visit, code="97530", therapist_minutes=25)
        _line(world, visit, code="97140", therapist_minutes=15)
        client = world.client_for(world.ot)
        html = client.get(_url("panel", visit)).content.decode()
        assert 'data-rule="ncci.ptp.needs-distinct"' in html
        assert "97530 pairs with 97140 (NCCI modifier indicator 1)" in html
        response = client.post(
            _url("header", visit),
            {"v-visit_type": "treatment", "v-patient_present": "on", "v-distinct_services": "on"},
            **HTMX,  # type: ignore[arg-type]
        )
        assert response.status_code == 200
        html = response.content.decode()
        assert 'data-rule="ncci.ptp.needs-distinct"' not in html
        assert '<span class="mod">59</span>' in html
        visit.refresh_from_db()
        assert visit.distinct_services is True

    def test_it_refuses_telehealth_a_payer_does_not_cover_next_to_the_field(
        self, world: World
    ) -> None:
        world.medicare.telehealth_allowed = False
        world.medicare.save()
        visit = _visit(world)
        response = world.client_for(world.ot).post(
            _url("header", visit),
            {"v-visit_type": "treatment", "v-telehealth": "home"},
            **HTMX,  # type: ignore[arg-type]
        )
        assert response.status_code == 422
        assert (
            '<p class="field-error" id="e-v-telehealth" hx-swap-oob="true" role="alert">'
            "Medicare Part B does not cover telehealth visits.</p>"
        ) in response.content.decode()
        visit.refresh_from_db()
        assert visit.telehealth == ""


class LineAddTests:
    def test_it_adds_a_code_and_returns_to_the_note(self, world: World) -> None:
        visit = _visit(world)
        response = world.client_for(world.ot).post(_url("line-add", visit), {"code": "97535"})
        assert response.status_code == 302
        assert response["Location"] == _url("note", visit)
        assert list(visit.lines.values_list("code", flat=True)) == ["97535"]

    def test_it_shows_an_unknown_code_next_to_the_field(self, world: World) -> None:
        visit = _visit(world)
        response = world.client_for(world.ot).post(_url("line-add", visit), {"code": "99999"})
        assert response.status_code == 422
        html = response.content.decode()
        assert '<p class="field-error" role="alert">' in html
        assert "99999" in html
        assert not visit.lines.exists()

    def test_it_refuses_a_code_already_on_the_note(self, world: World) -> None:
        visit = _visit(world)
        _line(world, visit, therapist_minutes=10)
        response = world.client_for(world.ot).post(_url("line-add", visit), {"code": "97535"})
        assert response.status_code == 422
        assert "97535 is already on this note; change its minutes." in response.content.decode()
        assert visit.lines.count() == 1


class AutosaveTimerRaceTests:
    def test_it_keeps_timer_minutes_when_an_older_autosave_arrives(self, world: World) -> None:
        visit = _visit(world)
        line = _line(world, visit)
        client = world.client_for(world.ot)
        now = datetime.now(UTC)
        client.post(
            _url("segment-add", visit, line),
            {
                f"t{line.pk}-started_at": (now - timedelta(minutes=12)).isoformat(),
                f"t{line.pk}-ended_at": now.isoformat(),
            },
            **HTMX,  # type: ignore[arg-type]
        )
        # The page still showed 0 minutes when this autosave left the browser.
        stale = {
            **_line_post(line, 0, task="Dressing"),
            f"l{line.pk}-therapist_minutes_was": "0",
            f"l{line.pk}-assistant_minutes_was": "0",
        }
        response = client.post(_url("line-save", visit, line), stale, **HTMX)
        assert response.status_code == 200
        line.refresh_from_db()
        assert (line.therapist_minutes, line.task) == (12, "Dressing")


class OneSigningPageTests:
    """/visits/<id>/note/ is the one place to sign, co-sign and add addenda; the old
    /visits/<id>/ page redirects there and its form endpoints are gone."""

    def test_it_redirects_the_old_visit_page_to_the_note(self, world: World) -> None:
        visit = _visit(world)
        response = world.client_for(world.ot).get(f"/visits/{visit.pk}/")
        assert (response.status_code, response["Location"]) == (301, f"/visits/{visit.pk}/note/")
        assert reverse("visit-detail", args=[visit.pk]) == f"/visits/{visit.pk}/"

    def test_it_has_no_old_sign_cosign_or_addendum_endpoints(self, world: World) -> None:
        visit = _visit(world)
        _line(world, visit, therapist_minutes=25, **GOOD_NOTE)
        client = world.client_for(world.ot)
        for old in ("sign", "cosign", "addenda"):
            response = client.post(f"/visits/{visit.pk}/{old}/", {"reason": "x", "text": "y"})
            assert (old, response.status_code) == (old, 404)
        visit.refresh_from_db()
        assert (visit.status, visit.addenda.count()) == (VisitStatus.DRAFT, 0)

    def test_it_walks_an_assistants_note_from_draft_to_cosigned_addendum(
        self, world: World
    ) -> None:
        visit = visit_create(user=world.ota, case=world.ot_case, date=world.today)
        service_line_add(
            user=world.ota, visit=visit, code="97535", assistant_minutes=25, **GOOD_NOTE
        )
        ota, ot = world.client_for(world.ota), world.client_for(world.ot)
        note = _url("note", visit)
        # Draft: the assistant may sign; the co-sign button and addenda are not there yet.
        html = ota.get(note).content.decode()
        assert f'action="{_url("sign", visit)}"' in html
        assert _url("cosign", visit) not in html and 'id="addenda"' not in html
        assert ota.post(_url("sign", visit))["Location"] == note
        # Signed: the OT therapist sees the co-sign button and the addendum form.
        html = ot.get(note).content.decode()
        assert 'id="sign-form"' not in html
        assert f'action="{_url("cosign", visit)}"' in html
        assert f'action="{_url("addendum", visit)}"' in html
        assert ot.post(_url("cosign", visit))["Location"] == note
        # Co-signed: no more co-sign button; addenda still possible for both clinicians.
        html = ot.get(note).content.decode()
        assert "Co-signed by <strong>Olivia Test, OT</strong>" in html
        assert _url("cosign", visit) not in html
        assert f'action="{_url("addendum", visit)}"' in html
        response = ota.post(
            _url("addendum", visit), {"reason": "Late entry", "text": "Tolerated."}
        )
        assert response["Location"] == note
        visit.refresh_from_db()
        assert (visit.signed_by, visit.cosigned_by) == (world.ota, world.ot)
        assert [(a.author, a.reason) for a in visit.addenda.all()] == [(world.ota, "Late entry")]
        html = ot.get(note).content.decode()
        assert "<em>Late entry</em>" in html and "Tolerated." in html


def _line_form(line: ServiceLine, minutes: str, **note: str) -> dict[str, str]:
    """The autosave as the page sends it: the minutes typed, the minutes shown and the
    line's version."""
    data = _line_post(line, 0, **note)
    data[f"l{line.pk}-therapist_minutes"] = minutes
    data[f"l{line.pk}-therapist_minutes_was"] = str(line.therapist_minutes)
    data[f"l{line.pk}-assistant_minutes_was"] = str(line.assistant_minutes)
    data[f"l{line.pk}-version"] = str(line.version)
    return data


class LineFieldByFieldTests:
    def test_it_shows_a_decimal_beside_minutes_and_saves_the_other_fields(
        self, world: World
    ) -> None:
        visit = _visit(world)
        line = _line(world, visit, therapist_minutes=10)
        for typed, message in (
            (
                "22.5",
                "“22.5” is not a whole number of minutes; type whole minutes such as 22 or 23.",
            ),
            ("-5", "Minutes are 0 or more."),
            ("1441", "At most 1440 minutes (24 hours)."),
            ("99999999999999999999", "At most 1440 minutes (24 hours)."),
            (
                "abc",
                "“abc” is not a whole number of minutes; type whole minutes such as 22 or 23.",
            ),
        ):
            line.refresh_from_db()
            response = world.client_for(world.ot).post(
                _url("line-save", visit, line),
                _line_form(line, typed, task=f"Dressing {typed}"),
                **HTMX,
            )
            assert response.status_code == 422
            html = response.content.decode()
            assert (
                f'id="e-l{line.pk}-therapist_minutes" hx-swap-oob="true" role="alert">'
                f"{message}</p>"
            ) in html.replace("&#x27;", "'")
            assert "except the fields marked in red" in html
            line.refresh_from_db()
            assert (line.therapist_minutes, line.task) == (10, f"Dressing {typed}")
            assert f'name="l{line.pk}-version" value="{line.version}"' in html

    def test_it_refuses_a_note_over_its_limit_beside_it_and_saves_the_rest(
        self, world: World
    ) -> None:
        visit = _visit(world)
        line = _line(world, visit, therapist_minutes=10)
        response = world.client_for(world.ot).post(
            _url("line-save", visit, line),
            _line_form(line, "25", task="x" * 5001, performance="Did it"),
            **HTMX,
        )
        assert response.status_code == 422
        assert (
            f'id="e-l{line.pk}-task" hx-swap-oob="true" role="alert">5001 characters; the limit '
            "is 5000. Shorten it to save this field (the other fields are saved).</p>"
        ) in response.content.decode()
        line.refresh_from_db()
        assert (line.therapist_minutes, line.task, line.performance) == (25, "", "Did it")

    def test_it_counts_note_limits_instead_of_cutting_them(self, world: World) -> None:
        visit = _visit(world)
        line = _line(world, visit)
        html = world.client_for(world.ot).get(_url("note", visit)).content.decode()
        assert " maxlength=" not in html
        assert f'data-maxlength="5000" id="id_l{line.pk}-task"' in html
        assert f'id="n-id_l{line.pk}-task"' in html

    def test_it_refuses_unknown_fields_and_saves_nothing(self, world: World) -> None:
        visit = _visit(world)
        line = _line(world, visit, therapist_minutes=10)
        data = _line_form(line, "25", task="Dressing")
        data[f"l{line.pk}-assistant_minute"] = "20"
        response = world.client_for(world.ot).post(_url("line-save", visit, line), data, **HTMX)
        assert response.status_code == 422
        assert f"Unknown field(s): l{line.pk}-assistant_minute" in response.content.decode()
        line.refresh_from_db()
        assert (line.therapist_minutes, line.task) == (10, "")

    def test_it_refuses_a_post_with_no_field_and_blanks_nothing(self, world: World) -> None:
        """An empty post (not from the page) left every note field and box empty: 302 with
        the header's narrative and attestation and the line's note text wiped."""
        visit = visit_create(
            user=world.ot,
            case=world.ot_case,
            date=world.today,
            narrative="Tolerated well.",
            medical_necessity_attested=True,
        )
        line = _line(world, visit, therapist_minutes=25, task="Dressing")
        client = world.client_for(world.ot)
        for url in (_url("header", visit), _url("line-save", visit, line)):
            for headers in ({}, HTMX):
                response = client.post(url, {}, **headers)  # type: ignore[arg-type]
                if headers:
                    assert response.status_code == 422
                    assert "No field was sent; reload the page" in response.content.decode()
                else:
                    assert response.status_code == 302
                    page = client.get(response["Location"]).content.decode()
                    assert "No field was sent; reload the page" in page
        visit.refresh_from_db()
        line.refresh_from_db()
        assert (visit.narrative, visit.medical_necessity_attested, visit.version) == (
            "Tolerated well.",
            True,
            1,
        )
        assert (line.therapist_minutes, line.task, line.version) == (25, "Dressing", 1)

    def test_a_line_of_another_note_is_not_found_through_this_notes_address(
        self, world: World
    ) -> None:
        """The line's address names its note: a line id from another note is a 404, and
        that other note's line is left as it was."""
        visit = _visit(world)
        _line(world, visit, therapist_minutes=10)
        other_visit = visit_create(
            user=world.ot, case=world.ot_case, date=world.today - timedelta(days=1)
        )
        other_line = _line(world, other_visit, therapist_minutes=10)
        response = world.client_for(world.ot).post(
            _url("line-save", visit, other_line),
            _line_form(other_line, "25", task="Through the wrong note"),
            **HTMX,
        )
        assert response.status_code == 404
        other_line.refresh_from_db()
        assert (other_line.therapist_minutes, other_line.task, other_line.version) == (10, "", 1)


class StaleEditTests:
    def test_it_answers_409_naming_who_changed_the_line_and_offers_a_reload(
        self, world: World
    ) -> None:
        visit = _visit(world)
        line = _line(world, visit, therapist_minutes=10)
        opened = _line_form(line, "10", task="Mine")
        pt_ot = user_create(
            clinic=world.clinic,
            username="tara",
            password=PASSWORD,
            role="therapist",
            discipline="OT",
            first_name="Tara",
            last_name="Second",
        )
        first = world.client_for(pt_ot).post(
            _url("line-save", visit, line), _line_form(line, "10", task="Theirs"), **HTMX
        )
        assert first.status_code == 200
        response = world.client_for(world.ot).post(_url("line-save", visit, line), opened, **HTMX)
        assert response.status_code == 409
        html = response.content.decode()
        assert f"{pt_ot} changed 97535 at " in html.replace("&#x27;", "'")
        assert "after you opened it. Reload the note to see their change" in html
        assert (
            f'<a href="/visits/{visit.pk}/note/" class="reload-link">Reload the note</a>' in html
        )
        assert f'id="state-l{line.pk}"' not in html  # the page keeps the old version
        line.refresh_from_db()
        assert (line.task, line.version, line.updated_by) == ("Theirs", 2, pt_ot)

    def test_it_answers_409_for_an_older_header(self, world: World) -> None:
        visit = _visit(world)
        client = world.client_for(world.ot)
        header = {"v-visit_type": "treatment", "v-telehealth": "", "v-patient_present": "on"}
        ok = client.post(
            _url("header", visit), {**header, "v-narrative": "A", "v-version": "1"}, **HTMX
        )
        assert ok.status_code == 200
        assert 'name="v-version" value="2"' in ok.content.decode()
        stale = client.post(
            _url("header", visit), {**header, "v-narrative": "B", "v-version": "1"}, **HTMX
        )
        assert stale.status_code == 409
        visit.refresh_from_db()
        assert (visit.narrative, visit.version) == ("A", 2)

    def test_it_saves_a_line_in_a_bounded_number_of_queries(
        self, world: World, django_assert_num_queries: Any
    ) -> None:
        visit = _visit(world)
        line = _line(world, visit, therapist_minutes=10)
        client = world.client_for(world.ot)
        client.get(_url("panel", visit))  # the engine's tables loaded once per process
        data = _line_form(line, "25", task="Dressing")
        with django_assert_num_queries(QUERIES_PER_AUTOSAVE):
            response = client.post(_url("line-save", visit, line), data, **HTMX)
        assert response.status_code == 200
        line.refresh_from_db()
        data = _line_form(line, "25", task="Dressing, then undressing")
        with django_assert_num_queries(QUERIES_PER_TEXT_AUTOSAVE):
            response = client.post(_url("line-save", visit, line), data, **HTMX)
        assert response.status_code == 200
        assert "Saved " in response.content.decode()

    def test_it_saves_a_line_in_as_many_queries_after_a_long_history(
        self, world: World, django_assert_num_queries: Any
    ) -> None:
        """Signed visits before the note (a previous note to compare, a year's accrual, a
        same-day note of another discipline) do not add queries to the autosave."""
        for days_ago in range(15, 3, -1):
            earlier = visit_create(
                user=world.ot, case=world.ot_case, date=world.today - timedelta(days=days_ago)
            )
            _line(world, earlier, therapist_minutes=30, **GOOD_NOTE)
            _line(world, earlier, code="97530", therapist_minutes=15, **GOOD_NOTE)
            visit_sign(user=world.ot, visit=earlier, reason="Synthetic test note.")
        pt_today = visit_create(user=world.pt, case=world.pt_case, date=world.today)
        service_line_add(user=world.pt, visit=pt_today, code="97110", therapist_minutes=30)
        visit_sign(user=world.pt, visit=pt_today, reason="Synthetic test note.")
        visit = _visit(world)
        line = _line(world, visit, therapist_minutes=10)
        _line(world, visit, code="97530", therapist_minutes=10)
        client = world.client_for(world.ot)
        client.get(_url("panel", visit))
        with django_assert_num_queries(QUERIES_PER_AUTOSAVE):
            response = client.post(
                _url("line-save", visit, line), _line_form(line, "25", **GOOD_NOTE), **HTMX
            )
        assert response.status_code == 200
        html = response.content.decode()
        assert "Saved " in html
        # The previous signed note was read: the same text copied forward is flagged.
        assert 'data-rule="doc.97535.repeated-note"' in html


class PlaceOfServiceTests:
    def test_it_follows_the_setting_both_ways(self, world: World) -> None:
        visit = _visit(world)
        client = world.client_for(world.ot)
        header = {"v-visit_type": "treatment", "v-patient_present": "on"}
        for setting, pos in (("home", "10"), ("", "11"), ("other", "02"), ("", "11")):
            response = client.post(
                _url("header", visit), {**header, "v-telehealth": setting}, **HTMX
            )
            assert response.status_code == 200
            assert f'<span class="static-value" id="pos" hx-swap-oob="true">{pos}</span>' in (
                response.content.decode()
            )
            visit.refresh_from_db()
            assert (visit.telehealth, visit.place_of_service) == (setting, pos)


class NoteTextAuditTests:
    def test_it_audits_only_the_fields_that_changed(self, world: World) -> None:
        visit = _visit(world)
        line = _line(world, visit, therapist_minutes=10, task="Dressing")
        client = world.client_for(world.ot)
        before = AuditEvent.objects.count()
        client.post(
            _url("line-save", visit, line),
            _line_form(line, "10", task="Dressing", performance="Did it"),
            **HTMX,
        )
        line.refresh_from_db()
        client.post(  # nothing changed: nothing written, nothing audited
            _url("line-save", visit, line),
            _line_form(line, "10", task="Dressing", performance="Did it"),
            **HTMX,
        )
        events = list(AuditEvent.objects.order_by("pk")[before:])
        assert [(e.user, e.action, e.detail) for e in events] == [
            (world.ot, AuditAction.UPDATE, "97535: changed performance (0 -> 6 chars)")
        ]
        assert line.version == 2

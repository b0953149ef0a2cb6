"""Programs: building, issuing during and outside a visit, versions, roles and isolation."""

from __future__ import annotations

import json

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from pypdf import PdfReader

from handrail.web.audit.models import AuditEvent
from handrail.web.messaging.services import consent_record
from handrail.web.portal.services import link_create, links_revoke
from handrail.web.programs.models import LibraryEntry, Program, ProgramItem, ProgramVersion
from handrail.web.programs.services import (
    ItemInput,
    item_input,
    library_entry_copy,
    library_entry_create,
    program_create,
    program_issue,
    program_item_add,
    program_item_move,
    program_item_update,
    template_from_program,
)
from handrail.web.visits.models import ServiceLine, Visit
from handrail.web.visits.services import visit_create
from tests.web.conftest import World


def first_of_kind(kind: str, code: str) -> LibraryEntry:
    return LibraryEntry.objects.filter(clinic__isnull=True, kind=kind, billing_code=code).first()


def ot_program(world: World, *entries: LibraryEntry) -> Program:
    return program_create(
        user=world.ot,
        case=world.ot_case,
        title="ADLs after CVA",
        items=[ItemInput(entry_id=e.pk, dose={}) for e in entries],
    )


def visit(world: World) -> Visit:
    return visit_create(user=world.ot, case=world.ot_case, date=world.today)


@pytest.fixture
def self_care() -> LibraryEntry:
    return first_of_kind("self_care", "97535")


@pytest.fixture
def exercise() -> LibraryEntry:
    return first_of_kind("exercise", "97110")


class ProgramBuildTests:
    def test_it_makes_a_draft_with_the_entries_default_doses(
        self, world: World, self_care: LibraryEntry
    ) -> None:
        program = ot_program(world, self_care)
        item = program.items.get()
        assert program.status == "draft"
        assert item.dose_tuple() == self_care.dose_tuple()

    def test_it_refuses_500_sets_naming_the_field_and_saves_nothing(
        self, world: World, self_care: LibraryEntry, exercise: LibraryEntry
    ) -> None:
        with pytest.raises(ValidationError) as caught:
            program_create(
                user=world.ot,
                case=world.ot_case,
                title="Bad",
                items=[
                    ItemInput(entry_id=self_care.pk, dose={}),
                    ItemInput(entry_id=exercise.pk, dose={"sets": 500, "reps": 10}),
                ],
            )
        assert "items[1].sets" in caught.value.message_dict
        assert "500 is out of range" in caught.value.message_dict["items[1].sets"][0]
        assert not Program.objects.exists()

    def test_it_refuses_a_dose_of_zero_and_an_unknown_entry(
        self, world: World, exercise: LibraryEntry
    ) -> None:
        program = ot_program(world)
        with pytest.raises(ValidationError) as zero:
            program_item_add(
                user=world.ot,
                program=program,
                item=ItemInput(entry_id=exercise.pk, dose={"reps": 0}),
            )
        assert "item.reps" in zero.value.message_dict
        with pytest.raises(ValidationError) as unknown:
            program_item_add(
                user=world.ot, program=program, item=ItemInput(entry_id=999999, dose={})
            )
        assert "item.entry_id" in unknown.value.message_dict
        assert not program.items.exists()

    def test_it_refuses_unknown_item_fields(self) -> None:
        with pytest.raises(ValidationError) as caught:
            item_input({"entry_id": 1, "colour": "red"})
        assert "item.colour" in caught.value.message_dict

    def test_it_hides_another_clinics_entries(self, world: World) -> None:
        theirs = library_entry_copy(user=world.outsider, entry=first_of_kind("exercise", "97110"))
        program = ot_program(world)
        with pytest.raises(ValidationError):
            program_item_add(
                user=world.ot, program=program, item=ItemInput(entry_id=theirs.pk, dose={})
            )

    def test_only_clinicians_of_the_cases_discipline_build(
        self, world: World, self_care: LibraryEntry
    ) -> None:
        for user in (world.biller, world.front_desk, world.admin, world.pt):
            with pytest.raises(PermissionDenied):
                program_create(user=user, case=world.ot_case, title="No")
        program = program_create(user=world.ota, case=world.ot_case, title="By the OTA")
        assert program.created_by == world.ota

    def test_it_moves_items_up_and_down(
        self, world: World, self_care: LibraryEntry, exercise: LibraryEntry
    ) -> None:
        program = ot_program(world, self_care, exercise)
        second = program.items.get(entry=exercise)
        program_item_move(user=world.ot, item=second, offset=-1)
        assert list(program.items.values_list("entry_id", flat=True)) == [
            exercise.pk,
            self_care.pk,
        ]


class ProgramIssueTests:
    def test_issuing_at_a_visit_puts_97535_on_the_note_with_task_and_technique(
        self, world: World, self_care: LibraryEntry, exercise: LibraryEntry
    ) -> None:
        program = ot_program(world, self_care, exercise)
        note = visit(world)
        version = program_issue(
            user=world.ot,
            program=program,
            visit=note,
            teaching_methods=["demonstration", "return_demonstration"],
            minutes={"97535": 12, "97110": 8},
        )
        lines = {line.code: line for line in ServiceLine.objects.filter(visit=note)}
        assert set(lines) == {"97535", "97110"}
        assert version.billable and version.billing_code == "97535"
        assert self_care.title in version.billing_reason  # titles, not entry keys
        assert self_care.key not in version.billing_reason
        assert self_care.title in lines["97535"].task
        assert exercise.title not in lines["97535"].task  # exercise is never 97535
        assert exercise.title in lines["97110"].task
        assert lines["97535"].technique == "Taught by demonstration, return demonstration."
        assert lines["97535"].therapist_minutes == 12
        assert lines["97535"].performance == ""  # the teach-back is the therapist's to write

    def test_outside_a_visit_it_is_not_billable_and_waits_to_be_taught(
        self, world: World, self_care: LibraryEntry
    ) -> None:
        program = ot_program(world, self_care)
        version = program_issue(user=world.ot, program=program)
        program.refresh_from_db()
        assert not version.billable
        assert "Issued outside a visit" in version.billing_reason
        assert program.needs_teaching
        # Taught at the next visit: billed then, and off the worklist.
        taught = program_issue(
            user=world.ot, program=program, visit=visit(world), teaching_methods=["verbal"]
        )
        program.refresh_from_db()
        assert taught.billable and not program.needs_teaching

    def test_a_revision_makes_version_2_with_its_diff(
        self, world: World, self_care: LibraryEntry, exercise: LibraryEntry
    ) -> None:
        program = ot_program(world, self_care)
        program_issue(
            user=world.ot, program=program, visit=visit(world), teaching_methods=["verbal"]
        )
        program_item_add(
            user=world.ot, program=program, item=ItemInput(entry_id=exercise.pk, dose={})
        )
        second = program_issue(user=world.ot, program=program)
        assert second.number == 2
        assert [c["change"] for c in second.changes] == ["added"]
        assert second.changes[0]["title"] == exercise.title

    def test_a_reorder_alone_is_not_new_instruction(
        self, world: World, self_care: LibraryEntry, exercise: LibraryEntry
    ) -> None:
        program = ot_program(world, self_care, exercise)
        note = visit(world)
        program_issue(user=world.ot, program=program, visit=note, teaching_methods=["verbal"])
        program_item_move(user=world.ot, item=program.items.get(entry=exercise), offset=-1)
        again = program_issue(user=world.ot, program=program, visit=note)
        assert not again.is_new_instruction and not again.billable
        assert [c["change"] for c in again.changes] == ["moved"]

    def test_a_refused_note_line_saves_no_version(
        self, world: World, self_care: LibraryEntry
    ) -> None:
        program = ot_program(world, self_care)
        note = visit(world)
        with pytest.raises(ValidationError) as caught:
            program_issue(
                user=world.ot,
                program=program,
                visit=note,
                teaching_methods=["verbal"],
                minutes={"97535": 500},
            )
        assert "minutes.97535" in caught.value.message_dict
        assert not ProgramVersion.objects.exists()
        assert not ServiceLine.objects.exists()

    def test_it_extends_a_line_already_on_the_note(
        self, world: World, self_care: LibraryEntry
    ) -> None:
        from handrail.web.visits.services import service_line_add

        note = visit(world)
        service_line_add(user=world.ot, visit=note, code="97535", therapist_minutes=10, task="Tub")
        program = ot_program(world, self_care)
        program_issue(
            user=world.ot,
            program=program,
            visit=note,
            teaching_methods=["verbal"],
            minutes={"97535": 5},
        )
        line = ServiceLine.objects.get(visit=note)
        assert line.therapist_minutes == 15
        assert line.task.startswith("Tub\nHome program instruction")

    def test_versions_are_never_rewritten(self, world: World, self_care: LibraryEntry) -> None:
        program = ot_program(world, self_care)
        first = program_issue(user=world.ot, program=program)
        program_item_update(
            user=world.ot, item=program.items.get(), data={"notes": "Use the long sponge"}
        )
        program_issue(user=world.ot, program=program)
        first.refresh_from_db()
        assert first.items[0]["notes"] == ""


class ProgramPageTests:
    def test_the_builder_adds_doses_and_reorders_through_the_pages(
        self, world: World, self_care: LibraryEntry, exercise: LibraryEntry
    ) -> None:
        client = world.client_for(world.ot)
        response = client.post(
            reverse("programs:create", args=[world.ot_case.pk]), {"title": "Home ADLs"}
        )
        program = Program.objects.get()
        assert response["Location"] == reverse("programs:builder", args=[program.pk])
        for e in (self_care, exercise):
            client.post(reverse("programs:item-add", args=[program.pk]), {"entry_id": e.pk})
        item = program.items.get(entry=exercise)
        bad = client.post(
            reverse("programs:item-update", args=[program.pk, item.pk]),
            {"sets": "500", "reps": "10", "notes": "", "section": ""},
            follow=True,
        )
        assert "Sets must be from 1 to 10; 500 is out of range." in bad.content.decode()
        client.post(
            reverse("programs:item-update", args=[program.pk, item.pk]),
            {"sets": "2", "reps": "12", "notes": "Slowly", "section": "Morning"},
        )
        item.refresh_from_db()
        assert (item.sets, item.reps, item.notes, item.section.title) == (
            2,
            12,
            "Slowly",
            "Morning",
        )
        reorder = client.post(
            reverse("programs:reorder", args=[program.pk]),
            json.dumps({"order": [item.pk, program.items.get(entry=self_care).pk]}),
            content_type="application/json",
        )
        assert reorder.status_code == 200
        assert program.items.order_by("position").first() == item
        refused = client.post(
            reverse("programs:reorder", args=[program.pk]),
            json.dumps({"order": [item.pk], "extra": 1}),
            content_type="application/json",
        )
        assert refused.status_code == 400

    def test_the_builder_search_finds_entries_by_words_and_filters(self, world: World) -> None:
        program = ot_program(world)
        client = world.client_for(world.ot)
        page = client.get(
            reverse("programs:builder", args=[program.pk]), {"q": "tub bench", "kind": "self_care"}
        ).content.decode()
        assert "{#" not in page and "{% comment" not in page
        results = page.split('id="results"')[1].split("</ul>")[0]
        assert "Getting in and out of the tub with a transfer bench" in results
        assert "Bridge</a>" not in results
        page = client.get(reverse("programs:library"), {"code": "97112"}).content.decode()
        results = page.split('id="results"')[1].split("</ul>")[0]
        assert "<code>97112</code>" in results and "<code>97110</code>" not in results
        page = client.get(reverse("programs:library"), {"region": "hand"}).content.decode()
        results = page.split('id="results"')[1].split("</ul>")[0]
        hand = LibraryEntry.objects.filter(clinic__isnull=True, regions__icontains='"hand"')
        assert all(e.title in results for e in hand.order_by("title")[:50] if "hand" in e.regions)

    def test_issue_page_says_why_outside_a_visit_and_bills_at_one(
        self, world: World, self_care: LibraryEntry
    ) -> None:
        program = ot_program(world, self_care)
        note = visit(world)
        client = world.client_for(world.ot)
        page = client.get(reverse("programs:issue", args=[program.pk])).content.decode()
        assert "sent but not billable" in page
        page = client.get(
            reverse("programs:issue", args=[program.pk]), {"visit_id": note.pk}
        ).content.decode()
        assert "Billable" in page and "minutes_97535" in page
        response = client.post(
            reverse("programs:issue", args=[program.pk]),
            {
                "visit_id": note.pk,
                "teaching_methods": ["demonstration", "written_handout"],
                "minutes_97535": "10",
            },
        )
        assert response.status_code == 302
        note_page = client.get(reverse("notes:note", args=[note.pk])).content.decode()
        assert "97535" in note_page and "Home program instruction" in note_page
        versions = client.get(reverse("programs:versions", args=[program.pk])).content.decode()
        assert "Version 1" in versions and "Billed 97535" in versions

    def test_issuing_says_when_the_patient_has_no_way_to_open_the_program(
        self, world: World, self_care: LibraryEntry
    ) -> None:
        program = ot_program(world, self_care)
        client = world.client_for(world.ot)
        issue = reverse("programs:issue", args=[program.pk])
        hint = "The patient has no link to this program yet"
        page = client.post(issue, {}, follow=True).content.decode()
        assert "Issued version 1" in page and hint in page
        link_create(program=program, by=world.ot)
        page = client.post(issue, {}, follow=True).content.decode()
        assert "Issued version 2" in page and hint not in page
        links_revoke(program=program, by=world.ot)
        consent_record(
            patient=world.patient,
            address="ada@example.test",
            how="verbally at the visit",
            recorded_by=world.ot,
        )
        page = client.post(issue, {}, follow=True).content.decode()
        assert "Issued version 3" in page and hint not in page  # the email carries one

    def test_issuing_after_someone_else_did_since_the_page_opened_issues_nothing(
        self, world: World, self_care: LibraryEntry
    ) -> None:
        """Two people pressing Issue at once made two versions with nothing changed between
        them (the patient emailed twice): the page sends the version it showed."""
        program = ot_program(world, self_care)
        issue = reverse("programs:issue", args=[program.pk])
        page = world.client_for(world.ot).get(issue).content.decode()
        assert '<input type="hidden" name="version" value="0">' in page
        assert world.client_for(world.ota).post(issue, {"version": "0"}).status_code == 302
        response = world.client_for(world.ot).post(issue, {"version": "0"})
        assert response.status_code == 400
        assert (
            "version: Oscar Test, OTA issued version 1 after you opened this page; look at it "
            "(Versions) before issuing again."
        ) in response.content.decode()
        assert list(program.versions.values_list("number", flat=True)) == [1]
        # The refusal shows the page as it is now: issuing again on purpose works.
        assert '<input type="hidden" name="version" value="1">' in response.content.decode()
        assert world.client_for(world.ot).post(issue, {"version": "1"}).status_code == 302
        assert list(program.versions.order_by("number").values_list("number", flat=True)) == [
            1,
            2,
        ]
        junk = world.client_for(world.ot).post(issue, {"version": "two"})
        assert junk.status_code == 400
        assert "version: Reload the page and issue again." in junk.content.decode()

    def test_views_are_audited_and_front_desk_sees_nothing(
        self, world: World, self_care: LibraryEntry
    ) -> None:
        program = ot_program(world, self_care)
        world.client_for(world.biller).get(reverse("programs:builder", args=[program.pk]))
        assert AuditEvent.objects.filter(
            user=world.biller, action="view", object_type="program", patient=world.patient
        ).exists()
        assert (
            world.client_for(world.front_desk)
            .get(reverse("programs:builder", args=[program.pk]))
            .status_code
            == 403
        )
        assert (
            world.client_for(world.outsider)
            .get(reverse("programs:builder", args=[program.pk]))
            .status_code
            == 404
        )
        # A biller reads but does not change it.
        response = world.client_for(world.biller).post(
            reverse("programs:item-add", args=[program.pk]), {"entry_id": self_care.pk}
        )
        assert response.status_code == 403

    def test_the_handout_and_the_blank_template_are_pdfs_with_the_items(
        self, world: World, self_care: LibraryEntry, exercise: LibraryEntry
    ) -> None:
        import io

        program = ot_program(world, self_care, exercise)
        program_issue(user=world.ot, program=program)
        client = world.client_for(world.ot)
        pdf = client.get(reverse("programs:handout", args=[program.pk]))
        text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.content)).pages)
        assert world.patient.first_name in text
        assert self_care.title in text and exercise.title in text
        template = template_from_program(user=world.ot, program=program, title="CVA ADLs")
        blank = client.get(reverse("programs:template-handout", args=[template.pk]))
        text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(blank.content)).pages)
        assert "Name:" in text and world.patient.first_name not in text
        started = client.post(
            reverse("programs:create", args=[world.ot_case.pk]),
            {"title": "", "template": template.pk},
        )
        assert started.status_code == 302
        assert Program.objects.get(title="CVA ADLs").items.count() == 2

    def test_untaught_worklist_lists_programs_sent_outside_a_visit(
        self, world: World, self_care: LibraryEntry
    ) -> None:
        program = ot_program(world, self_care)
        program_issue(user=world.ot, program=program)
        page = world.client_for(world.ot).get(reverse("programs:untaught")).content.decode()
        assert program.title in page


class LibraryEntryTests:
    def test_a_clinic_entry_refuses_a_bad_code_for_its_kind(self, world: World) -> None:
        with pytest.raises(ValidationError) as caught:
            library_entry_create(
                user=world.ot,
                data={
                    "title": "Heel slides",
                    "kind": "exercise",
                    "billing_code": "97535",
                    "regions": ["knee"],
                    "steps": ["Slide"],
                    "reps": 10,
                },
            )
        assert "billing_code" in caught.value.message_dict

    def test_copying_a_builtin_makes_an_editable_clinic_entry(self, world: World) -> None:
        builtin = first_of_kind("exercise", "97110")
        response = world.client_for(world.pt).post(
            reverse("programs:entry-copy", args=[builtin.pk])
        )
        copy = LibraryEntry.objects.get(copied_from=builtin)
        assert response["Location"] == reverse("programs:entry-edit", args=[copy.pk])
        assert copy.clinic_id == world.clinic.pk and copy.steps == builtin.steps
        edit = world.client_for(world.pt).get(reverse("programs:entry-edit", args=[builtin.pk]))
        assert edit.status_code == 302  # built-ins are never edited in place

    def test_the_entry_form_shows_errors_and_saves_nothing(self, world: World) -> None:
        response = world.client_for(world.ot).post(
            reverse("programs:entry-create"),
            {
                "title": "Mine",
                "kind": "exercise",
                "billing_code": "97110",
                "steps": "Go",
                "regions": ["knee"],
                "sets": "500",
                "reps": "10",
            },
        )
        assert response.status_code == 400
        assert "sets: Sets must be from 1 to 10" in response.content.decode()
        assert not LibraryEntry.objects.filter(title="Mine").exists()

    def test_favourites_show_on_the_library_page(self, world: World) -> None:
        builtin = first_of_kind("exercise", "97110")
        client = world.client_for(world.ot)
        client.post(reverse("programs:entry-favourite", args=[builtin.pk]))
        page = client.get(reverse("programs:library")).content.decode()
        assert builtin.title in page.split('id="favourites"')[1]


def test_items_are_unique_per_program(world: World, self_care: LibraryEntry) -> None:
    program = ot_program(world, self_care)
    with pytest.raises(ValidationError):
        program_item_add(
            user=world.ot, program=program, item=ItemInput(entry_id=self_care.pk, dose={})
        )
    assert ProgramItem.objects.count() == 1

"""The read audit (issue 10), derived from the URLconf: every page and API operation is either
audited by `audit_read` or listed below with why its answer carries no patient data (or is a
change, which its service audits as create/update/sign). A new page that is neither fails
`test_it_classifies_every_url`. Each audited one is then read as every role of the clinic:
a successful answer records exactly one VIEW event naming the user, the clinic, the patient
(for an object) and what was read; a refused one records none."""

from __future__ import annotations

import csv
import html
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.db import connection
from django.test import RequestFactory, override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone
from ninja.operation import PathView

from handrail.web.audit.models import AuditAction, AuditEvent
from handrail.web.audit.reads import MARKER, PAGE_TOKEN, _covered, page_token
from handrail.web.care.models import Authorization
from handrail.web.care.services import authorization_create
from handrail.web.clinic.models import User
from handrail.web.clinic.services import user_create
from handrail.web.portal.selectors import flagged_programs
from handrail.web.programs.models import LibraryEntry, Program, ProgramVersion
from handrail.web.programs.services import ItemInput, program_create, program_issue
from handrail.web.visits.models import Visit
from handrail.web.visits.services import service_line_add, visit_create
from handrail.web.worklists.views import KINDS
from tests.web.billing_seed import bare_claim
from tests.web.conftest import PASSWORD, World

# Answers with no patient data: sign-in, the clinic's own settings, the code reference,
# probes, and the API's schema.
NO_PATIENT_DATA = {
    "home": "a redirect to the patient list",
    "login": "the sign-in form",
    "logout": "signs out",
    "password-change": "the user's own password",
    "visit-detail": "a redirect to the note page",
    "clinic_admin:staff-list": "staff accounts",
    "clinic_admin:staff-create": "staff accounts",
    "clinic_admin:staff-edit": "staff accounts",
    "clinic_admin:staff-active": "staff accounts",
    "clinic_admin:staff-password": "staff accounts",
    "clinic_admin:staff-unlock": "staff accounts",
    "clinic_admin:payer-list": "payers",
    "clinic_admin:payer-create": "payers",
    "clinic_admin:payer-edit": "payers",
    "clinic_admin:payer-delete": "payers",
    "unsubscribe": "public page for an email's recipient (no staff user); shows no record",
    "ops:data-status": "loaded official data releases",
    "ops:code-index": "the code reference",
    "ops:code": "the code reference",
    "ops:healthz": "probe",
    "ops:readyz": "probe",
    "ops:metrics": "probe",
    "api:openapi-json": "the API's schema",
    "api:api-root": "the API's documentation",
    "two-factor": "the user's own second factor",
    "two-factor-verify": "the sign-in code step",
    "two-factor-recovery": "the user's own recovery codes",
    "passkeys": "the user's own passkeys",
    "passkey-remove": "the user's own passkey (the removal is audited)",
    "passkey-register-begin": "a WebAuthn challenge for the user's own new passkey",
    "passkey-register-complete": "the user's own new passkey (the addition is audited)",
    "passkey-auth-begin": "a WebAuthn challenge at the sign-in code step",
    "passkey-auth-complete": "the sign-in code step (the use is audited)",
    "passkey-messages": "the passkey script's fixed messages",
    "clinic_admin:staff-two-factor-reset": "staff accounts (the reset is audited)",
    "programs:library": "the exercise library (no patient)",
    "programs:entry": "a library entry (no patient)",
    "programs:entry-create": "a library entry (no patient)",
    "programs:entry-edit": "a library entry (no patient)",
    "programs:entry-copy": "a library entry (no patient)",
    "programs:entry-favourite": "the user's favourite entries",
    "programs:media-upload": "a library entry's pictures (no patient)",
    "programs:media-file": "a library entry's pictures (no patient)",
    "programs:media-delete": "a library entry's pictures (no patient)",
    "programs:templates": "the clinic's program templates (no patient)",
    "programs:template-delete": "the clinic's program templates (no patient)",
    "programs:template-handout": "a blank template handout (no patient)",
    "api:library_list:GET": "the exercise library (no patient)",
    "remittances:patterns": "counts of anonymous denial reports (no patient)",
    # The pattern hub's endpoints, for other clinics' servers with an enrolment key: codes
    # and fixes in, counts out; the schema refuses any other field (handrail.web.patternhub).
    "api:hub_reports_post:POST": "an anonymous denial report from another server (no patient)",
    "api:hub_patterns_get:GET": "counts of anonymous denial reports (no patient)",
    "remittances:list": "posted 835 files: totals and trace numbers (posting audits each claim)",
    # The patient's own link: no staff user; each request is logged in the portal's access
    # log with the link as the actor (handrail.web.portal).
    "portal:program": "the patient's own link",
    "portal:print": "the patient's own link",
    "portal:handout": "the patient's own link",
    "portal:media": "the patient's own link",
    "portal:reminders": "the patient's own link",
    "billing:settings": "the clinic's billing identity, payers and clinicians' NPIs",
    "billing:charges": "the charge master",
    "billing:payer": "a payer's ids and contracts",
    "billing:contract-add": "a payer's contracts",
    "billing:contract-rate-add": "a payer's contract rates",
    "billing:clinician": "a clinician's NPI",
    "billing:batches": "batches: payer, counts and totals",
    "exports:index": "the exports' filters (each download is audited)",
    "api:payers_list:GET": "the clinic's payers",
}
# Reads that record their VIEW events in the view itself: the 837P file names many patients,
# so its download records one VIEW event per patient in it rather than one for the batch.
SELF_AUDITED = {
    "billing:batch-download",
    "api:claims_batch_x12:GET",
}
# Known gaps: pages that answer with patient data and record no VIEW event. Empty: every one
# is audited. A page that has to be added here says why, and is still found by name.
NOT_YET_AUDITED: set[str] = set()
# Changes: their services write a create/update/sign event naming the fields changed; the
# answer echoes what the user just sent (or redirects).
CHANGES = {
    "patient-create",
    "coverage-set",
    "api:patients_coverage_set:POST",
    "case-discharge",
    "authorization-end",
    "plan-certify",
    "notes:header",
    "notes:line-add",
    "notes:line-save",
    "notes:line-delete",
    "notes:segment-add",
    "notes:timer-start",
    "notes:timer-stop",
    "notes:sign",
    "notes:cosign",
    "notes:addendum",
    "messaging:retry",
    "api:visits_create:POST",
    "api:visits_update:PATCH",
    "api:visits_sign:POST",
    "api:visits_cosign:POST",
    "api:visits_addendum:POST",
    "api:lines_create:POST",
    "api:lines_update:PATCH",
    "api:lines_delete:DELETE",
    "api:segments_create:POST",
    "api:timers_start:POST",
    "api:timers_stop:POST",
    "api:cases_discharge:POST",
    "api:authorizations_create:POST",
    "api:authorizations_update:PATCH",
    "api:authorizations_end:POST",
    "programs:create",
    "programs:template-from",
    "programs:item-add",
    "programs:item-update",
    "programs:item-remove",
    "programs:item-move",
    "programs:reorder",
    "programs:section-add",
    "programs:issue",
    "portal:link-create",
    "portal:links-revoke",
    "portal:note-add",
    "portal:reminders-set",
    "portal:consent",
    "api:programs_create:POST",
    "api:programs_item_add:POST",
    "api:programs_item_update:PATCH",
    "api:programs_issue:POST",
    "api:remittances_post:POST",
    "remittances:denial-correct",
    "remittances:denial-appeal",
    "remittances:denial-report",
    "billing:claims-make",
    "billing:claim-acknowledge",
    "billing:claim-rescrub",
    "billing:claim-close",
    "billing:claim-correct",
    "billing:batch-export",
    "api:claims_batch_create:POST",
}


@dataclass(frozen=True)
class Endpoint:
    key: str  # the URL's name; for API operations "<name>:<method>"
    name: str
    method: str
    audited: str | None  # what the decorator records, or None
    kwargs: tuple[str, ...]


def _patterns(
    patterns: list[URLPattern | URLResolver], namespace: str = ""
) -> Iterator[URLPattern]:
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            yield from _patterns(pattern.url_patterns, inner)
        else:
            pattern.full_name = f"{namespace}{pattern.name}"  # type: ignore[attr-defined]
            yield pattern


def _path_view(callback: Any) -> PathView | None:
    """The API path of a ninja URL (its view is a closure over it)."""
    for cell in getattr(callback, "__closure__", None) or ():
        if isinstance(cell.cell_contents, PathView):
            return cell.cell_contents
    return None


def _endpoints() -> list[Endpoint]:
    found = []
    for pattern in _patterns(get_resolver().url_patterns):
        name = pattern.full_name  # type: ignore[attr-defined]
        kwargs = tuple(pattern.pattern.regex.groupindex)
        path_view = _path_view(pattern.callback)
        if path_view is None:
            audited = getattr(pattern.callback, MARKER, None)
            found.append(Endpoint(name, name, "GET", audited, kwargs))
            continue
        for operation in path_view.operations:  # every operation on the API path
            for method in operation.methods:
                key = f"api:{operation.view_func.__name__}:{method}"
                audited = getattr(operation.run, MARKER, None)
                found.append(Endpoint(key, name, method, audited, kwargs))
    return list({e.key: e for e in found}.values())


ENDPOINTS = _endpoints()
AUDITED = [e for e in ENDPOINTS if e.audited]


def test_it_classifies_every_url() -> None:
    unclassified = [
        e.key
        for e in ENDPOINTS
        if not e.audited
        and e.key not in CHANGES
        and e.key not in NOT_YET_AUDITED
        and e.key not in SELF_AUDITED
        and e.key not in NO_PATIENT_DATA
        and e.name not in NO_PATIENT_DATA
    ]
    assert unclassified == [], (
        "Pages or endpoints that may answer with patient data: decorate them with "
        "@audit_read (API: @decorate_view(audit_read(...))), or list them here with why not."
    )
    both = [
        e.key
        for e in AUDITED
        if e.key in CHANGES
        or e.key in NOT_YET_AUDITED
        or e.key in SELF_AUDITED
        or e.name in NO_PATIENT_DATA
    ]
    assert both == []


def _roles(world: World) -> list[User]:
    return [world.admin, world.pt, world.ot, world.ota, world.biller, world.front_desk]


@dataclass(frozen=True)
class Seeded:
    draft: Visit
    authorization: Authorization
    program: Program


def _flagged_program(world: World) -> Program:
    """An OT home program issued 8 days ago with nothing logged since: on the flags
    worklist (no activity for 7 days)."""
    entry = LibraryEntry.objects.filter(clinic__isnull=True, kind="self_care").order_by("key")[0]
    program = program_create(
        user=world.ot,
        case=world.ot_case,
        title="Dressing at home",
        items=[ItemInput(entry_id=entry.pk, dose={})],
    )
    program_issue(user=world.ot, program=program)
    ProgramVersion.objects.filter(program=program).update(
        issued_at=timezone.now() - timedelta(days=8)
    )
    return program


def seed_worklists(world: World) -> Seeded:
    """A draft OT note with a line, an authorization and a home program on the flags
    worklist: one of every object a URL names and a row on every list (kept small: every
    audited endpoint is read by every role)."""
    draft = visit_create(user=world.ot, case=world.ot_case, date=world.today)
    service_line_add(user=world.ot, visit=draft, code="97535", therapist_minutes=25)
    authorization = authorization_create(
        user=world.biller,
        case=world.ot_case,
        payer=world.medicare,
        visits_authorized=12,
        units_authorized=30,
        start_date=world.today - timedelta(days=20),
        end_date=world.today + timedelta(days=40),
        number="AUTH-77120",
    )
    return Seeded(draft, authorization, _flagged_program(world))


def _ids(world: World, seeded: Seeded) -> dict[str, Any]:
    line = seeded.draft.lines.first()
    assert line is not None
    return {
        "patient_id": world.patient.pk,
        "visit_id": seeded.draft.pk,
        "line_id": line.pk,
        "case_id": world.ot_case.pk,
        "plan_id": world.ot_plan.pk,
        "authorization_id": seeded.authorization.pk,
        "program_id": seeded.program.pk,
        "claim_id": bare_claim(world, seeded.draft).pk,
    }


def _urls(endpoint: Endpoint, ids: dict[str, Any]) -> list[str]:
    if endpoint.kwargs == ("kind",):
        return [reverse(endpoint.name, kwargs={"kind": kind}) for kind in KINDS]
    return [reverse(endpoint.name, kwargs={name: ids[name] for name in endpoint.kwargs})]


def _views() -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=AuditAction.VIEW).order_by("pk"))


@pytest.mark.parametrize("endpoint", AUDITED, ids=[e.key for e in AUDITED])
def test_it_records_one_view_per_answer_for_every_role(world: World, endpoint: Endpoint) -> None:
    seeded = seed_worklists(world)
    ids = _ids(world, seeded)
    answered = 0
    for url in _urls(endpoint, ids):
        for user in _roles(world):
            client = world.client_for(user)
            before = AuditEvent.objects.count()
            if endpoint.method == "GET":
                response = client.get(url)
            else:
                response = client.generic(endpoint.method, url, "{}", "application/json")
            new = list(AuditEvent.objects.order_by("pk")[before:])
            if not 200 <= response.status_code < 300:
                assert response.status_code in (403, 404), (url, user, response.status_code)
                assert new == [], (url, user)
                continue
            answered += 1
            assert len(new) == 1, (url, user, [(e.action, e.detail) for e in new])
            event = new[0]
            assert (event.action, event.user, event.clinic) == (
                AuditAction.VIEW,
                user,
                world.clinic,
            )
            if endpoint.kwargs and endpoint.kwargs != ("kind",):
                assert event.patient == world.patient, url
                assert event.detail == endpoint.audited
            else:
                assert (event.patient, event.object_type) == (None, "list")
                assert event.detail.startswith(str(endpoint.audited))
    assert answered, f"no role could read {endpoint.key}"


def test_it_records_nothing_for_another_clinics_reader(world: World) -> None:
    seeded = seed_worklists(world)
    ids = _ids(world, seeded)
    client = world.client_for(world.outsider)
    before = AuditEvent.objects.count()
    for endpoint in AUDITED:
        if endpoint.kwargs and endpoint.kwargs != ("kind",):
            for url in _urls(endpoint, ids):
                assert client.get(url).status_code in (403, 404, 405), url
    assert AuditEvent.objects.count() == before


def test_it_names_the_search_of_a_list(world: World) -> None:
    world.client_for(world.front_desk).get(reverse("patient-list"), {"q": "Synth"})
    event = AuditEvent.objects.latest("pk")
    assert (event.object_type, event.object_id, event.detail) == (
        "list",
        "patient list",
        "patient list (q=Synth)",
    )


def test_it_costs_a_constant_number_of_queries(world: World) -> None:
    """One lookup of the object's patient and one insert, whatever the page."""
    seeded = seed_worklists(world)
    client = world.client_for(world.ot)
    url = reverse("notes:panel", kwargs={"visit_id": seeded.draft.pk})
    client.get(url)
    with CaptureQueriesContext(connection) as queries:
        client.get(url)
    audit = [q["sql"] for q in queries.captured_queries if "audit_auditevent" in q["sql"]]
    assert len(audit) == 1


def test_the_seed_puts_its_program_on_the_flags_worklist(world: World) -> None:
    """The flags page is read with a row on it, not only as an empty list."""
    seeded = seed_worklists(world)
    flagged = flagged_programs(user=world.ot, today=timezone.localdate())
    assert [flag.program for flag in flagged] == [seeded.program]
    page = world.client_for(world.ot).get(reverse("portal:flags")).content.decode()
    assert seeded.program.title in page


POLL = {"HTTP_HX_REQUEST": "true", "HTTP_HX_TRIGGER": "timer-poll"}


def _poll_url(page: str) -> str:
    found = re.search(r'id="timer-poll"[^>]*hx-get="([^"]+)"', page)
    assert found is not None, "the note page has no timer poll"
    return html.unescape(found.group(1))


class NotePagePollTests:
    """The note page asks for its timers every 10 s: one event per page view, not per poll."""

    def test_a_page_view_and_its_polls_record_one_event(self, world: World) -> None:
        visit = visit_create(user=world.ot, case=world.ot_case, date=world.today)
        client = world.client_for(world.ot)
        before = AuditEvent.objects.count()
        page = client.get(reverse("notes:note", args=[visit.pk]))
        poll = _poll_url(page.content.decode())
        for _ in range(30):  # five minutes of polling
            assert client.get(poll, **POLL).status_code == 200
        events = list(AuditEvent.objects.order_by("pk")[before:])
        assert [(e.action, e.detail, e.object_id) for e in events] == [
            (AuditAction.VIEW, "note", str(visit.pk))
        ]
        # Each view of the page is one event (a reload, another tab).
        client.get(reverse("notes:note", args=[visit.pk]))
        assert AuditEvent.objects.count() == before + 2

    def test_the_timers_asked_without_the_pages_token_are_recorded(self, world: World) -> None:
        visit = visit_create(user=world.ot, case=world.ot_case, date=world.today)
        client = world.client_for(world.ot)
        url = reverse("notes:timers", args=[visit.pk])
        before = AuditEvent.objects.count()
        for _ in range(3):
            assert client.get(url, **POLL).status_code == 200
        details = list(AuditEvent.objects.order_by("pk")[before:].values_list("detail", flat=True))
        assert details == ["note timers"] * 3

    def test_a_token_covers_only_its_user_and_note(self, world: World) -> None:
        mine = visit_create(user=world.ot, case=world.ot_case, date=world.today)
        other = visit_create(
            user=world.ot, case=world.ot_case, date=world.today - timedelta(days=1)
        )
        page = world.client_for(world.ot).get(reverse("notes:note", args=[mine.pk]))
        poll = _poll_url(page.content.decode())
        token = poll.split(f"{PAGE_TOKEN}=", 1)[1]
        tries = [
            # the same token on another note of the same patient
            (world.ot, f"{reverse('notes:timers', args=[other.pk])}?{PAGE_TOKEN}={token}"),
            # another user of the clinic replaying the page's URL
            (world.admin, poll),
            # a tampered token
            (world.ot, f"{reverse('notes:timers', args=[mine.pk])}?{PAGE_TOKEN}={token}x"),
        ]
        for user, url in tries:
            before = AuditEvent.objects.count()
            assert world.client_for(user).get(url, **POLL).status_code == 200, url
            assert AuditEvent.objects.count() == before + 1, (user, url)

    @override_settings(SESSION_ABSOLUTE_HOURS=1)
    def test_a_token_expires_with_the_longest_session(self, world: World) -> None:
        visit = visit_create(user=world.ot, case=world.ot_case, date=world.today)
        ids = {"visit_id": visit.pk}
        request = RequestFactory().get("/", {PAGE_TOKEN: page_token(user=world.ot, url_ids=ids)})
        request.user = world.ot
        assert _covered(request, ids)
        with time_machine.travel(timezone.now() + timedelta(minutes=61)):
            assert not _covered(request, ids)


class AccessHistoryExportTests:
    def test_it_exports_who_saw_or_changed_what_to_admins(self, world: World) -> None:
        world.client_for(world.biller).get(reverse("patient-detail", args=[world.patient.pk]))
        url = reverse("patient-audit-export", args=[world.patient.pk])
        response = world.client_for(world.admin).get(url)
        assert response.status_code == 200
        assert response["Content-Type"] == "text/csv; charset=utf-8"
        assert "attachment;" in response["Content-Disposition"]
        rows = list(csv.reader(io.StringIO(response.content.decode())))
        assert rows[0] == [
            "when_utc",
            "user",
            "username",
            "action",
            "record",
            "record_id",
            "detail",
        ]
        actions = [(row[2], row[3], row[4], row[6]) for row in rows[1:]]
        assert ("fran", "create", "patient", "") in actions
        assert ("bill", "view", "patient", "patient page") in actions
        assert all(row[0].endswith("+00:00") for row in rows[1:])
        export = AuditEvent.objects.latest("pk")  # the export itself is audited
        assert (export.user, export.patient, export.detail) == (
            world.admin,
            world.patient,
            "access history export",
        )

    def test_it_refuses_everyone_but_the_clinics_admins(self, world: World) -> None:
        url = reverse("patient-audit-export", args=[world.patient.pk])
        for user in (world.pt, world.ot, world.ota, world.biller, world.front_desk):
            assert world.client_for(user).get(url).status_code == 403, user
        assert world.client_for(world.outsider).get(url).status_code in (403, 404)

    def test_it_writes_formula_like_cells_as_text(self, world: World) -> None:
        """CSV injection (OWASP): a name a spreadsheet would run is written as text."""
        mallory = user_create(
            clinic=world.clinic,
            username="mallory",
            password=PASSWORD,
            role="biller",
            first_name="=HYPERLINK(1)",
            last_name="x",
        )
        world.client_for(mallory).get(reverse("patient-detail", args=[world.patient.pk]))
        url = reverse("patient-audit-export", args=[world.patient.pk])
        rows = list(csv.reader(io.StringIO(world.client_for(world.admin).get(url).text)))
        assert ["'=HYPERLINK(1) x", "mallory"] in [row[1:3] for row in rows]

    def test_it_is_linked_from_the_patient_page_and_the_log(self, world: World) -> None:
        client = world.client_for(world.admin)
        href = reverse("patient-audit-export", args=[world.patient.pk])
        for page in ("patient-detail", "patient-audit"):
            html = client.get(reverse(page, args=[world.patient.pk])).content.decode()
            assert f'href="{href}"' in html, page
        html = world.client_for(world.biller).get(
            reverse("patient-detail", args=[world.patient.pk])
        )
        assert href not in html.content.decode()

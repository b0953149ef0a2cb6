"""The whole matrix, as a new clinic walks it: every URL pattern of the URLconf (each API
operation by its method) is asked as every role of the clinic (admin, biller, PT, OT, SLP
therapists, OT and PT assistants, front desk), another clinic's therapist and a signed-out
visitor, with real objects of the matrix world (tests/web/matrix_world.py): patients on every
payer type and none, cases of every discipline, notes of every visit type (draft, signed,
awaiting co-signature, telehealth), a claim in every state, the batch, a denial, programs, a
patient link. A URL pattern the walk does not know how to fill fails `test_it_covers_every_url`.

No answer is a 5xx; every status is one the page may give; a role that may not see a page
gets 403/404 (or the sign-in page), never its data: another clinic's user and a signed-out
visitor never see this clinic's patients, the front desk never sees a note's clinical text.
POSTs with an empty body and with junk (overflowing numbers, impossible dates, NUL bytes,
malformed JSON) answer 4xx or the form again with a message, and save nothing.

The world is built once per module (load_demo plus the additions, about 10 s) and each test
runs in a savepoint inside it."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
import time_machine
from django.conf import settings as django_settings
from django.db import connection, transaction
from django.test import Client, override_settings
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from ninja.operation import PathView

from handrail.web.worklists.views import KINDS
from tests.web.conftest import TEST_NOW, _force_full_login
from tests.web.matrix_world import CLINICAL_MARKERS, MatrixWorld, build_matrix_world

# --- the URLconf -----------------------------------------------------------------------


@dataclass(frozen=True)
class Endpoint:
    key: str  # the URL's name; for an API operation "<name>:<METHOD>"
    name: str
    methods: tuple[str, ...]  # what the walk sends
    kwargs: tuple[str, ...]
    api: bool


def _patterns(
    patterns: list[URLPattern | URLResolver], namespace: str = ""
) -> Iterator[tuple[str, URLPattern]]:
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            yield from _patterns(pattern.url_patterns, inner)
        else:
            yield f"{namespace}{pattern.name}", pattern


def _path_view(callback: Any) -> PathView | None:
    for cell in getattr(callback, "__closure__", None) or ():
        if isinstance(cell.cell_contents, PathView):
            return cell.cell_contents
    return None


def _endpoints() -> list[Endpoint]:
    found: dict[str, Endpoint] = {}
    for name, pattern in _patterns(get_resolver().url_patterns):
        kwargs = tuple(pattern.pattern.regex.groupindex)
        path_view = _path_view(pattern.callback)
        if path_view is None:
            # A page (the API's schema too): GET it, and POST to it (a page that takes no
            # POST answers 405). The schema answers any method with itself: read once.
            methods = ("GET",) if name == "api:openapi-json" else ("GET", "POST")
            found[name] = Endpoint(name, name, methods, kwargs, False)
            continue
        for operation in path_view.operations:
            for method in operation.methods:
                key = f"api:{operation.view_func.__name__}:{method}"
                found[key] = Endpoint(key, name, (method,), kwargs, True)
    return list(found.values())


ENDPOINTS = _endpoints()

# --- the world, once per module ----------------------------------------------------------


@pytest.fixture(scope="module")
def matrix(
    django_db_setup: None,
    django_db_blocker: Any,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[MatrixWorld]:
    media = tmp_path_factory.mktemp("matrix-media")
    with (
        django_db_blocker.unblock(),
        override_settings(MEDIA_ROOT=str(media)),
        time_machine.travel(TEST_NOW, tick=True),
        transaction.atomic(),  # rolled back at the module's end
    ):
        world = build_matrix_world()
        for role in ROLES:
            client = Client()
            _force_full_login(client, world.users[role])
            SESSIONS[role] = client.cookies[django_settings.SESSION_COOKIE_NAME].value
        yield world
        transaction.set_rollback(True)
        SESSIONS.clear()


@pytest.fixture
def world(matrix: MatrixWorld, db: None, settings: Any, tmp_path: Path) -> Iterator[MatrixWorld]:
    settings.MEDIA_ROOT = str(tmp_path)
    # Thousands of expected 403s and 404s: their log lines (with tracebacks) are most of the
    # walk's time. A 5xx is found from its status, not from the log.
    quiet = [logging.getLogger(name) for name in ("django.request", "handrail.request")]
    levels = [logger.level for logger in quiet]
    for logger in quiet:
        logger.setLevel(logging.CRITICAL)
    yield matrix
    for logger, level in zip(quiet, levels, strict=True):
        logger.setLevel(level)


# --- who asks ------------------------------------------------------------------------------

ROLES = ("admin", "biller", "pt", "ot", "slp", "ota", "pta", "front_desk", "outsider")
ANONYMOUS = "anonymous"


# Each role's session, signed in once for the module (its row outlives every test's
# savepoint). Each test starts from these cookies: a request that cycled or ended a session
# in an earlier test, rolled back since, must not leave a role signed out.
SESSIONS: dict[str, str] = {}


def _clients(world: MatrixWorld) -> dict[str, Client]:
    clients = {}
    for role in ROLES:
        client = Client(raise_request_exception=False)
        client.cookies[django_settings.SESSION_COOKIE_NAME] = SESSIONS[role]
        clients[role] = client
    clients[ANONYMOUS] = Client(raise_request_exception=False)
    return clients


# --- what each URL is filled with ---------------------------------------------------------

Target = tuple[str, dict[str, Any]]  # a label and the URL's kwargs


def _first_line(visit_id: int) -> int | None:
    from handrail.web.visits.models import ServiceLine

    return ServiceLine.objects.filter(visit_id=visit_id).values_list("pk", flat=True).first()


def _first_item(program_id: int) -> int | None:
    from handrail.web.programs.models import ProgramItem

    return (
        ProgramItem.objects.filter(program_id=program_id)
        .order_by("pk")
        .values_list("pk", flat=True)
        .first()
    )


def _targets(world: MatrixWorld, endpoint: Endpoint) -> list[Target]:
    names = set(endpoint.kwargs)
    if not names:
        return [("-", {})]
    if "visit_id" in names:
        out = []
        for label, visit in world.visits.items():
            kwargs: dict[str, Any] = {"visit_id": visit.pk}
            if "line_id" in names:
                line = _first_line(visit.pk)
                if line is None:
                    continue
                kwargs["line_id"] = line
            out.append((f"visit {label}", kwargs))
        return out
    if "line_number" in names:
        claim_id, line_number = world.denial
        paid = world.claims["paid"]
        return [
            ("denied line", {"claim_id": claim_id, "line_number": line_number}),
            ("paid line", {"claim_id": paid.pk, "line_number": 1}),
            ("no such line", {"claim_id": claim_id, "line_number": 99}),
        ]
    if "claim_id" in names:
        return [(f"claim {label}", {"claim_id": c.pk}) for label, c in world.claims.items()]
    if "item_id" in names:
        out = []
        for label, program in world.programs.items():
            item = _first_item(program.pk)
            if item is not None:
                out.append((f"program {label}", {"program_id": program.pk, "item_id": item}))
        return out
    if "program_id" in names:
        return [(f"program {label}", {"program_id": p.pk}) for label, p in world.programs.items()]
    if "case_id" in names:
        return [(f"case {label}", {"case_id": c.pk}) for label, c in world.cases.items()]
    if "patient_id" in names:
        return [(f"patient {label}", {"patient_id": p.pk}) for label, p in world.patients.items()]
    if names == {"payer_id", "contract_id"}:
        return [
            ("contract", {"payer_id": world.contract.payer_id, "contract_id": world.contract.pk})
        ]
    if "payer_id" in names:
        return [(f"payer {label}", {"payer_id": p.pk}) for label, p in world.payers.items()]
    if names == {"token", "media_id"}:
        return [
            ("link's picture", {"token": world.token, "media_id": world.media.pk}),
            ("bad token", {"token": "not-a-token", "media_id": world.media.pk}),
        ]
    if names == {"token"} and endpoint.name == "unsubscribe":
        return [("email", {"token": world.unsubscribe}), ("bad token", {"token": "not-a-token"})]
    if names == {"token"}:
        return [("link", {"token": world.token}), ("bad token", {"token": "not-a-token"})]
    if names == {"kind"}:
        return [(f"list {kind}", {"kind": kind}) for kind in (*KINDS, "no-such-list")]
    if names == {"code"}:
        return [(f"code {code}", {"code": code}) for code in ("97535", "92526", "ZZ999")]
    single: dict[str, Callable[[MatrixWorld], list[Target]]] = {
        "plan_id": lambda w: [("plan", {"plan_id": w.plan.pk})],
        "authorization_id": lambda w: [
            ("authorization", {"authorization_id": w.authorization.pk})
        ],
        "staff_id": lambda w: [
            (f"staff {role}", {"staff_id": w.users[role].pk}) for role in ("pta", "outsider")
        ],
        "batch_id": lambda w: [(f"batch {b.payer.type}", {"batch_id": b.pk}) for b in w.batches],
        "message_id": lambda w: [("message", {"message_id": w.message.pk})],
        "entry_id": lambda w: [
            ("built-in entry", {"entry_id": w.entry.pk}),
            ("clinic entry", {"entry_id": w.clinic_entry.pk}),
        ],
        "media_id": lambda w: [("picture", {"media_id": w.media.pk})],
        "template_id": lambda w: [("template", {"template_id": w.template.pk})],
        "passkey_id": lambda w: [("biller's passkey", {"passkey_id": w.passkey.pk})],
    }
    (name,) = names
    return single[name](world)


# --- what may come back -------------------------------------------------------------------

# Public pages: a signed-out visitor may get them (the patient's link, sign-in, probes).
PUBLIC = {
    "login",
    "portal:program",
    "portal:print",
    "portal:handout",
    "portal:media",
    "portal:reminders",
    "unsubscribe",
    "passkey-messages",  # the passkey script's fixed messages (a JavaScript catalog)
    "ops:healthz",
    "ops:readyz",
    "ops:metrics",
    "api:openapi-json",
    "api:api-root",
}
GET_STATUSES = {200, 301, 302, 403, 404, 405}
# The API answers a request it cannot act on with 4xx naming the field.
API_STATUSES = {200, 201, 204, 400, 401, 403, 404, 405, 409, 422}
POST_STATUSES = {200, 302, 400, 403, 404, 405, 409, 422}


@dataclass
class Walk:
    world: MatrixWorld
    clients: dict[str, Client]
    wrong: list[tuple[str, ...]]

    def check(self, endpoint: Endpoint, role: str, url: str, method: str, response: Any) -> None:
        status = response.status_code
        allowed = (
            API_STATUSES if endpoint.api else GET_STATUSES if method == "GET" else (POST_STATUSES)
        )
        if status >= 500 or status not in allowed:
            self.wrong.append((method, url, role, str(status)))
            return
        if status != 200 or not hasattr(response, "content"):
            return
        body = response.content.decode(errors="replace")
        if role in ("outsider", ANONYMOUS):
            leaked = [name for name in self.world.patient_names if name in body]
            if leaked and endpoint.name not in PUBLIC - {"login"}:
                self.wrong.append((method, url, role, f"shows patients {leaked[:3]}"))
        if role == ANONYMOUS and endpoint.name not in PUBLIC:
            self.wrong.append((method, url, role, "answers a signed-out visitor"))
        if role == "front_desk":
            shown = [marker for marker in CLINICAL_MARKERS if marker in body]
            if shown:
                self.wrong.append((method, url, role, f"shows clinical text {shown}"))


def _roles_for(index: int, label: str) -> tuple[str, ...]:
    """Every role on the first object of a URL. On the others (a 5xx that only another
    payer, discipline or visit type reaches is what they are for): the biller, who reads
    every page of the clinic, the clinician of the object's discipline (the author's
    editable page) and the front desk for the leak check."""
    if index == 0:
        return (*ROLES, ANONYMOUS)
    clinician = next(
        (role for word, role in (("SLP", "slp"), ("PT", "pt"), ("OT", "ot")) if word in label),
        "admin",
    )
    return ("biller", clinician, "front_desk")


def _url(endpoint: Endpoint, kwargs: dict[str, Any]) -> str:
    return reverse(endpoint.name, kwargs=kwargs)


def _uncovered(world: MatrixWorld, endpoints: list[Endpoint]) -> list[str]:
    uncovered = []
    for endpoint in endpoints:
        try:
            targets = _targets(world, endpoint)
        except (KeyError, ValueError) as error:
            uncovered.append(f"{endpoint.key} {endpoint.kwargs}: {error!r}")
            continue
        if not targets:
            uncovered.append(f"{endpoint.key} {endpoint.kwargs}: no object")
    return uncovered


def test_it_covers_every_url(world: MatrixWorld) -> None:
    """A new URL pattern whose arguments the walk cannot fill fails here, named."""
    clients = _clients(world)
    signed_in = {role: clients[role].get("/patients/").status_code for role in ROLES}
    assert signed_in == dict.fromkeys(ROLES, 200)
    assert len(ENDPOINTS) > 150  # the whole URLconf, API operations one by one
    uncovered = _uncovered(world, ENDPOINTS)
    assert uncovered == [], "URL patterns the matrix does not fill:\n" + "\n".join(uncovered)


def test_it_names_a_url_pattern_it_cannot_fill(world: MatrixWorld) -> None:
    gadget = Endpoint("gadgets:gadget", "gadgets:gadget", ("GET",), ("gadget_id",), False)
    assert _uncovered(world, [gadget]) == ["gadgets:gadget ('gadget_id',): KeyError('gadget_id')"]


@pytest.mark.parametrize(
    "endpoint",
    [e for e in ENDPOINTS if e.methods[0] == "GET"],
    ids=lambda e: e.key,
)
def test_it_reads_every_page_as_every_role_without_a_5xx_or_a_leak(
    world: MatrixWorld, endpoint: Endpoint
) -> None:
    walk = Walk(world, _clients(world), [])
    for index, (label, kwargs) in enumerate(_targets(world, endpoint)):
        url = _url(endpoint, kwargs)
        for role in _roles_for(index, label):
            response = walk.clients[role].get(url)
            walk.check(endpoint, role, url, "GET", response)
    assert walk.wrong == [], "\n".join(" ".join(w) for w in walk.wrong)


# --- POSTs with nothing and with junk -----------------------------------------------------

# Every field name the app's forms and views read, so each form meets its own fields junk.
_FIELD_NAMES = (
    "active address argument assistant_minutes assistant_minutes_was at baseline billing_code "
    "birth_date caption caregiver_present certified_on certifier_name certifier_npi charge city "
    "closed_on code comment consent credit cues date day days_per_week description diagnoses "
    "difficulty direction discharge_reason discipline distinct_services duration_weeks "
    "effective effective_from effective_to electronic_id email end_date ended_at ended_on "
    "entry_id file filing_indicator first_name fix frequency frequency_per_week from goals "
    "group_npi hold_seconds how item_ids items kind last_name legal_name medical_necessity "
    "medical_necessity_attested member_id minutes next notes npi number offset opened_on order "
    "pain_after pain_before password password_confirm patient_present payer "
    "payer_claim_number percent performance phone position rate reason referring_provider "
    "regions release reps requested_units role save_anyway section sets sex skilled start_date "
    "started_at state steps summary task taxonomy teaching_methods technique telehealth "
    "template text therapist_minutes therapist_minutes_was through time_zone times_per_day "
    "title to token unit_rule units units_authorized username version visit_id visit_type "
    "visits_authorized weekdays withdraw zip zip_code"
)
FIELDS = _FIELD_NAMES.split()
# Numbers no column holds; an impossible date with a NUL byte and markup (PostgreSQL refuses
# NUL in text: a field that reaches the database unchecked answers 500 there).
JUNK_VALUES = ("99999999999999999999999", "2026-02-31\x00<b>x</b>")


def _bodies(endpoint: Endpoint) -> list[tuple[str, str, str]]:
    """(label, content type, body) of each request the walk sends."""
    if endpoint.api:
        return [
            ("empty", "application/json", ""),
            ("malformed JSON", "application/json", '{"date": '),
            ("a JSON list", "application/json", "[1, 2]"),
            *(
                (
                    f"junk {value[:8]!r}",
                    "application/json",
                    json.dumps(dict.fromkeys(FIELDS, value)),
                )
                for value in JUNK_VALUES
            ),
        ]
    form = "application/x-www-form-urlencoded"
    return [
        ("empty", form, ""),
        *(
            (f"junk {value[:8]!r}", form, urlencode(dict.fromkeys(FIELDS, value)))
            for value in JUNK_VALUES
        ),
    ]


# Rows a refused request may still write: the audit log, sessions, sign-in counters and the
# patient link's access log (a refused visit to the link is recorded).
UNCOUNTED = {
    "audit_auditevent",
    "django_session",
    "clinic_signincounter",
    "portal_linkaccess",
    "portal_linkcounter",
    "ops_workerheartbeat",
    "django_tasks_database_dbtaskresult",
}
# Rows whose content is compared too (an empty POST must not blank a saved field).
COMPARED = (
    "clinic_user",
    "clinic_patient",
    "clinic_coverage",
    "clinic_payer",
    "care_case",
    "care_planofcare",
    "care_authorization",
    "visits_visit",
    "visits_serviceline",
    "billing_claim",
    "billing_payerbilling",
    "billing_clinicbilling",
    "programs_program",
    "programs_programitem",
    "programs_libraryentry",
    "portal_patientlink",
    "portal_reminderplan",
    "messaging_message",
)
# A link used (even for a refused post) records when; a sign-in, when.
IGNORED_COLUMNS = {"last_login", "session_epoch", "last_used_at"}


def _tables() -> list[str]:
    from django.apps import apps

    return sorted(m._meta.db_table for m in apps.get_models() if m._meta.db_table not in UNCOUNTED)


TABLES = _tables()


def _fingerprint() -> dict[str, object]:
    quote = connection.ops.quote_name
    sql = " UNION ALL ".join(f"SELECT '{t}', COUNT(*) FROM {quote(t)}" for t in TABLES)
    with connection.cursor() as cursor:
        cursor.execute(sql)
        state: dict[str, object] = dict(cursor.fetchall())
        for table in COMPARED:
            cursor.execute(f"SELECT * FROM {quote(table)} ORDER BY id")
            columns = [c[0] for c in cursor.description]
            keep = [i for i, c in enumerate(columns) if c not in IGNORED_COLUMNS]
            state[f"{table}*"] = hash(tuple(tuple(row[i] for i in keep) for row in cursor))
    return state


def _changed(before: dict[str, object], after: dict[str, object]) -> list[str]:
    return sorted(key for key in before if before[key] != after[key])


# Requests that an empty (or any text) POST completes, and who may make them: the change is
# the page's whole purpose (sign, delete a line, start a timer, toggle a favourite, revoke
# the patient's links, issue...), or the field is free text that junk is a valid value of.
WRITERS = {"admin", "biller", "pt", "ot", "slp", "ota", "pta"}
CLINICIANS = {"pt", "ot", "slp", "ota", "pta"}
BODYLESS: dict[str, set[str]] = {
    "logout": set(ROLES),
    # The enrolment page keeps the secret its QR code shows (an unconfirmed device) before
    # the code is checked.
    "two-factor": set(ROLES),
    "notes:sign": CLINICIANS,
    "notes:addendum": CLINICIANS,  # why and what: free text
    "notes:line-delete": CLINICIANS,
    "notes:timer-start": CLINICIANS,
    "notes:timer-stop": CLINICIANS,
    "api:visits_sign:POST": CLINICIANS,
    "api:visits_addendum:POST": CLINICIANS,
    "api:lines_delete:DELETE": CLINICIANS,
    "api:timers_start:POST": CLINICIANS,
    "api:timers_stop:POST": CLINICIANS,
    "clinic_admin:staff-active": {"admin"},  # the switch flips
    "billing:claim-rescrub": {"admin", "biller"},
    "billing:claim-close": {"admin", "biller"},  # the reason is free text
    "remittances:denial-correct": {"admin", "biller"},  # a corrected claim from the line
    "remittances:denial-appeal": {"admin", "biller"},  # the argument is free text
    # A built-in entry is every clinic's: another clinic's therapist copies or stars it too.
    "programs:entry-copy": WRITERS - {"biller"} | {"outsider"},
    "programs:entry-favourite": WRITERS | {"outsider"},
    "programs:media-delete": WRITERS - {"biller"},
    "programs:template-delete": WRITERS - {"biller"},
    "programs:template-from": CLINICIANS | {"admin"},  # the title is free text
    "programs:section-add": CLINICIANS,  # the section's title is free text
    "programs:item-remove": CLINICIANS,
    "programs:issue": CLINICIANS,  # issued outside a visit
    "portal:link-create": CLINICIANS,
    "portal:links-revoke": CLINICIANS,
    "portal:note-add": CLINICIANS,  # free text
    "portal:reminders-set": CLINICIANS,  # no day ticked: reminders off
    "portal:reminders": {*ROLES, ANONYMOUS},  # the patient's own form, the same
    "unsubscribe": {*ROLES, ANONYMOUS},  # the email's one-click unsubscribe: its purpose
}


HTMX = {"HTTP_HX_REQUEST": "true"}


def _post_plan(
    targets: list[Target], endpoint: Endpoint
) -> Iterator[tuple[Target, str, int, dict[str, str]]]:
    """(target, role, how many of the bodies, headers): every role with an empty body on the
    first object, an admin and a therapist with every junk body, and two more objects
    (another payer, discipline or visit type) with an empty body. The note page's own
    requests (htmx: answered with the live panel, not a redirect) are sent as it sends them
    too, by the therapist and the biller."""
    first = targets[0]
    for role in (*ROLES, ANONYMOUS):
        yield first, role, len(_bodies(endpoint)) if role in ("admin", "slp") else 1, {}
    step = max(1, len(targets) // 2)
    for target in targets[step::step][:2]:
        for role in ("biller", "slp"):
            yield target, role, 1, {}
    if endpoint.name.startswith("notes:"):
        for target in targets[::step][:3]:
            for role in ("slp", "biller"):
                yield target, role, len(_bodies(endpoint)), HTMX


@pytest.mark.parametrize(
    "endpoint",
    [e for e in ENDPOINTS if "POST" in e.methods or e.api and e.methods[0] != "GET"],
    ids=lambda e: e.key,
)
def test_it_refuses_empty_and_junk_posts_with_a_message_and_saves_nothing(
    world: MatrixWorld, endpoint: Endpoint
) -> None:
    walk = Walk(world, _clients(world), [])
    method = "POST" if "POST" in endpoint.methods else endpoint.methods[0]
    targets = _targets(world, endpoint)
    first_url = _url(endpoint, targets[0][1])
    if not endpoint.api and walk.clients["admin"].post(first_url).status_code == 405:
        return  # a page that takes no POST
    # Each request runs in a savepoint rolled back after it: every one starts from here.
    before = _fingerprint()
    for (_label, kwargs), role, count, headers in _post_plan(targets, endpoint):
        url = _url(endpoint, kwargs)
        for label, content_type, body in _bodies(endpoint)[:count]:
            with transaction.atomic():
                client = walk.clients[role]
                response = client.generic(method, url, body, content_type, **headers)
                after = _fingerprint()
                transaction.set_rollback(True)
            status = response.status_code
            if status >= 500 or status not in (API_STATUSES if endpoint.api else POST_STATUSES):
                walk.wrong.append((method, url, role, label, str(status)))
                continue
            changed = _changed(before, after)
            if changed and role not in BODYLESS.get(endpoint.key, set()):
                walk.wrong.append((method, url, role, label, str(status), f"saved {changed}"))
            if 400 <= status < 500 and not response.content.strip():
                walk.wrong.append((method, url, role, label, str(status), "no message"))
    assert walk.wrong == [], "\n".join(" ".join(w) for w in walk.wrong)


# --- pages asked with junk in the query ------------------------------------------------

QUERY_NAMES = (
    "page cosign_page q state status bucket payer from to through date visit_id kind code "
    "region equipment next"
)
JUNK_QUERIES = (
    dict.fromkeys(QUERY_NAMES.split(), "abc"),
    dict.fromkeys(QUERY_NAMES.split(), "-1"),
    dict.fromkeys(QUERY_NAMES.split(), "99999999999999999999999"),
    dict.fromkeys(QUERY_NAMES.split(), "2026-02-31"),
)


@pytest.mark.parametrize(
    "endpoint",
    [e for e in ENDPOINTS if e.methods[0] == "GET"],
    ids=lambda e: e.key,
)
def test_it_reads_every_page_with_junk_in_its_query_without_a_5xx(
    world: MatrixWorld, endpoint: Endpoint
) -> None:
    """Filters, pages and searches read from the query: junk there is ignored or refused
    (4xx with a message), never a 5xx, by a role that reads the page."""
    walk = Walk(world, _clients(world), [])
    _label, kwargs = _targets(world, endpoint)[0]
    url = _url(endpoint, kwargs)
    for role in ("biller", "slp"):  # the biller reads every page an admin does
        for query in JUNK_QUERIES:
            response = walk.clients[role].get(url, query)
            status = response.status_code
            allowed = API_STATUSES if endpoint.api else GET_STATUSES | {400, 422}
            if status >= 500 or status not in allowed:
                walk.wrong.append(("GET", url, role, str(query["page"]), str(status)))
            elif status != 405 and 400 <= status < 500 and not response.content.strip():
                # (405: a GET of a page that only takes POSTs, which no link makes.)
                walk.wrong.append(("GET", url, role, str(query["page"]), "no message"))
    assert walk.wrong == [], "\n".join(" ".join(w) for w in walk.wrong)

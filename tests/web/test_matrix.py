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
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import time_machine
from django.db import connection, transaction
from django.test import Client, override_settings
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from ninja.operation import PathView

from handrail.web.clinic.models import User
from handrail.web.worklists.views import KINDS
from tests.web.conftest import TEST_NOW
from tests.web.matrix_world import CLINICAL_MARKER, MatrixWorld, build_matrix_world

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
            # A page: GET it, and POST to it (a page that takes no POST answers 405).
            api = name.startswith("api:")
            found[name] = Endpoint(name, name, ("GET", "POST"), kwargs, api)
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
    ):
        with transaction.atomic():
            world = build_matrix_world()
            yield world
            transaction.set_rollback(True)


@pytest.fixture
def world(matrix: MatrixWorld, db: None, settings: Any, tmp_path: Path) -> MatrixWorld:
    settings.MEDIA_ROOT = str(tmp_path)
    return matrix


# --- who asks ------------------------------------------------------------------------------

ROLES = ("admin", "biller", "pt", "ot", "slp", "ota", "pta", "front_desk", "outsider")
ANONYMOUS = "anonymous"


def _clients(world: MatrixWorld) -> dict[str, Client]:
    clients = {}
    for role in ROLES:
        client = Client(raise_request_exception=False)
        client.force_login(world.users[role])
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
    if names == {"token"}:
        return [("link", {"token": world.token}), ("bad token", {"token": "not-a-token"})]
    if names == {"kind"}:
        return [(f"list {kind}", {"kind": kind}) for kind in (*KINDS, "no-such-list")]
    if names == {"code"}:
        return [(f"code {code}", {"code": code}) for code in ("97535", "92526", "ZZ999")]
    single: dict[str, Callable[[MatrixWorld], list[Target]]] = {
        "plan_id": lambda w: [("plan", {"plan_id": w.plan.pk})],
        "authorization_id": lambda w: [("authorization", {"authorization_id": w.authorization.pk})],
        "staff_id": lambda w: [
            (f"staff {role}", {"staff_id": w.users[role].pk}) for role in ("pta", "outsider")
        ],
        "batch_id": lambda w: [("batch", {"batch_id": w.batch.pk})],
        "message_id": lambda w: [("message", {"message_id": w.message.pk})],
        "entry_id": lambda w: [
            ("built-in entry", {"entry_id": w.entry.pk}),
            ("clinic entry", {"entry_id": w.clinic_entry.pk}),
        ],
        "media_id": lambda w: [("picture", {"media_id": w.media.pk})],
        "template_id": lambda w: [("template", {"template_id": w.template.pk})],
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
        allowed = API_STATUSES if endpoint.api else GET_STATUSES if method == "GET" else (
            POST_STATUSES
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
        if role == "front_desk" and CLINICAL_MARKER in body:
            self.wrong.append((method, url, role, "shows a note's clinical text"))


def _roles_for(index: int) -> tuple[str, ...]:
    """Every role on the first object of a URL; on the others the roles that read
    everything (a 5xx that only another payer, discipline or visit type reaches is what
    they are for), and the front desk for the leak check."""
    if index == 0:
        return (*ROLES, ANONYMOUS)
    return ("admin", "biller", "pt", "ot", "slp", "front_desk")


def _url(endpoint: Endpoint, kwargs: dict[str, Any]) -> str:
    return reverse(endpoint.name, kwargs=kwargs)


def test_it_covers_every_url(world: MatrixWorld) -> None:
    """A new URL pattern whose arguments the walk cannot fill fails here, named."""
    uncovered = []
    for endpoint in ENDPOINTS:
        try:
            targets = _targets(world, endpoint)
        except (KeyError, ValueError) as error:
            uncovered.append(f"{endpoint.key} {endpoint.kwargs}: {error!r}")
            continue
        if not targets:
            uncovered.append(f"{endpoint.key} {endpoint.kwargs}: no object")
    assert uncovered == [], "URL patterns the matrix does not fill:\n" + "\n".join(uncovered)


@pytest.mark.parametrize(
    "endpoint",
    [e for e in ENDPOINTS if e.methods[0] == "GET"],
    ids=lambda e: e.key,
)
def test_it_reads_every_page_as_every_role_without_a_5xx_or_a_leak(
    world: MatrixWorld, endpoint: Endpoint
) -> None:
    walk = Walk(world, _clients(world), [])
    for index, (_label, kwargs) in enumerate(_targets(world, endpoint)):
        url = _url(endpoint, kwargs)
        for role in _roles_for(index):
            response = walk.clients[role].get(url)
            walk.check(endpoint, role, url, "GET", response)
    assert walk.wrong == [], "\n".join(" ".join(w) for w in walk.wrong)

"""Shared personas for the web tests (after healthchecks' alice/bob/charlie): two clinics,
every role in clinic A, a therapist in clinic B, and one patient with a PT and an OT case."""

from __future__ import annotations

import importlib
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
import time_machine
from django.conf import settings
from django.core.handlers.wsgi import WSGIHandler
from django.db import connection, transaction
from django.test import Client
from django.utils import timezone
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from handrail.web import append_only
from handrail.web.audit.models import AuditEvent
from handrail.web.care.models import Case, PlanOfCare
from handrail.web.care.services import GoalInput, case_create, plan_of_care_create
from handrail.web.clinic import two_factor
from handrail.web.clinic.models import Clinic, Patient, Payer, User
from handrail.web.clinic.services import (
    clinic_create,
    coverage_set,
    patient_create,
    payer_create,
    user_create,
)

PASSWORD = "correct horse battery staple"

# Every web test runs on this day, not the wall clock's: visits are dated relative to "today",
# and the engine prices only dates its fee schedules, conversion factors and thresholds cover
# (2026 is the last year), so a run in 2027 would otherwise fail for want of data. The clock
# ticks from here, so timers and sessions still see time pass.
TEST_NOW = datetime(2026, 11, 16, 15, 0, tzinfo=UTC)  # a Monday, in the data's last year


# Held by the live server while it answers a request, on SQLite (below).
LIVE_REQUEST = threading.Lock()


@pytest.fixture(scope="session", autouse=True)
def _one_live_server_request_at_a_time() -> Iterator[None]:
    """On the in-memory SQLite test database, the live server's request threads share the
    test's one connection (Django hands it to them: nothing else can see the database), and
    two requests at once on one connection break each other's transactions ("cannot start a
    transaction within a transaction", or an atomic block left broken that fails every later
    test of the worker). So there the live server answers one request at a time; on
    PostgreSQL every thread has its own connection and the requests run in parallel."""
    if not settings.DATABASES["default"]["ENGINE"].endswith("sqlite3"):
        yield
        return
    answer = WSGIHandler.__call__

    def one_at_a_time(handler: WSGIHandler, environ: Any, start_response: Any) -> Any:
        with LIVE_REQUEST:
            return answer(handler, environ, start_response)

    patch = pytest.MonkeyPatch()
    patch.setattr(WSGIHandler, "__call__", one_at_a_time)
    yield
    patch.undo()


@pytest.fixture(autouse=True)
def _live_server_requests_answered() -> Iterator[None]:
    """A test ends only once the live server has answered what its browser asked (the page
    is closed by then: it is torn down first), so no request of one test still holds the
    shared connection when the next test starts."""
    yield
    with LIVE_REQUEST:
        pass


@pytest.fixture(autouse=True)
def _fixed_today() -> Iterator[None]:
    with time_machine.travel(TEST_NOW, tick=True):
        yield


_force_login = Client.force_login


def _force_full_login(self: Client, user: Any, backend: str | None = None) -> None:
    """`force_login` stands for a finished sign-in: the password *and* the second factor
    (two-factor sign-in is required of admins and billers). The sign-in steps themselves
    are tested through the real pages (test_two_factor, the browser test)."""
    _force_login(self, user, backend)
    session = self.session
    session[two_factor.SESSION_KEY] = two_factor.VERIFIED
    session.save()


@pytest.fixture(autouse=True)
def _force_login_is_a_full_sign_in(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(Client, "force_login", _force_full_login)


def totp_device(user: User) -> TOTPDevice:
    """A confirmed authenticator for `user`, as the enrolment page leaves it."""
    return TOTPDevice.objects.create(user=user, name=two_factor.AUTHENTICATOR, confirmed=True)


def totp_code(device: TOTPDevice, *, steps_ahead: int = 0) -> str:
    """The code the user's app shows now (RFC 6238, django-otp's own implementation).
    `steps_ahead=1`: the next 30-second step's, for a second sign-in within one step (a
    code is accepted once; the device allows one step of clock drift)."""
    device.refresh_from_db()
    app = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    app.time = time.time() + steps_ahead * device.step
    return f"{app.token():0{device.digits}d}"


def sign_in(client: Client, username: str, password: str = PASSWORD, **code: int) -> Any:
    """Sign in through the real pages: the password, then, for an enrolled user, the code
    from their authenticator. The last response."""
    response = client.post("/login/", {"username": username, "password": password})
    assert response.status_code == 302, response.content
    device = TOTPDevice.objects.filter(user__username=username, confirmed=True).first()
    if device is not None:
        token = totp_code(device, **code)
        response = client.post("/account/two-factor/verify/", {"token": token})
        assert response.status_code == 302, response.content
    return response


# The migration that makes the audit table append-only (its triggers' SQL, per database).
APPEND_ONLY = importlib.import_module("handrail.web.audit.migrations.0004_append_only_triggers")


# The other append-only tables (their migrations' triggers), children before parents.
LEDGERS: tuple[tuple[str, str], ...] = (
    *importlib.import_module(
        "handrail.web.remittances.migrations.0003_append_only_postings"
    ).TABLES[::-1],
    *importlib.import_module(
        "handrail.web.billing.migrations.0002_append_only_claim_events"
    ).TABLES,
)


def append_only_triggers(*, install: bool) -> None:
    """Install (or remove) the append-only triggers of the audit table and the ledgers, as
    their migrations do."""
    audit_install, audit_remove = APPEND_ONLY.STATEMENTS[connection.vendor]
    with connection.cursor() as cursor:
        append_only.apply(cursor.execute, connection.vendor, LEDGERS, install=install)
        for statement in audit_install if install else audit_remove:
            cursor.execute(statement)


@pytest.fixture(autouse=True)
def _audit_rows_cleared(request: pytest.FixtureRequest) -> Iterator[None]:
    """A transactional test (live server, races) ends by emptying every table, which the
    triggers of the append-only tables (audit, claim events, posted remittances) refuse.
    Before that flush, this empties those tables with the triggers lifted for those
    statements, then puts them back: the tests keep the production schema, and only test
    teardown ever deletes those rows."""
    marker = request.node.get_closest_marker("django_db")
    transactional = bool(marker and marker.kwargs.get("transaction")) or bool(
        {"transactional_db", "live_server"} & set(request.fixturenames)
    )
    if not transactional:
        yield
        return
    # Set up after the database helper, so torn down before its flush.
    request.getfixturevalue("_django_db_helper")
    yield
    with transaction.atomic():
        append_only_triggers(install=False)
        AuditEvent.objects.all().delete()
        with connection.cursor() as cursor:
            for table, _what in LEDGERS:
                cursor.execute(f"DELETE FROM {connection.ops.quote_name(table)}")
        append_only_triggers(install=True)


@dataclass
class World:
    clinic: Clinic
    other_clinic: Clinic
    medicare: Payer
    commercial: Payer
    admin: User
    pt: User
    ot: User
    ota: User
    biller: User
    front_desk: User
    outsider: User
    patient: Patient
    other_patient: Patient
    pt_case: Case
    ot_case: Case
    ot_plan: PlanOfCare
    today: date

    def client_for(self, user: User) -> Client:
        client = Client()
        client.force_login(user)
        return client


def _user(clinic: Clinic, username: str, role: str, discipline: str = "") -> User:
    return user_create(
        clinic=clinic,
        username=username,
        password=PASSWORD,
        role=role,
        discipline=discipline,
        first_name=username.capitalize(),
        last_name="Test",
    )


@pytest.fixture
def world(db: None) -> World:
    today = timezone.localdate()
    clinic = clinic_create(name="Riverside Rehab", zip="62701")
    other = clinic_create(name="Hilltop Therapy", zip="60601")
    medicare = payer_create(
        clinic=clinic, name="Medicare Part B", type="medicare", assistant_cosign_required=True
    )
    commercial = payer_create(
        clinic=clinic, name="Acme Health", type="commercial", unit_rule="per-code"
    )
    admin = _user(clinic, "admin", "admin")
    pt = _user(clinic, "paula", "therapist", "PT")
    ot = _user(clinic, "olivia", "therapist", "OT")
    ota = _user(clinic, "oscar", "assistant", "OT")
    biller = _user(clinic, "bill", "biller")
    front_desk = _user(clinic, "fran", "front_desk")
    outsider = _user(other, "otto", "therapist", "OT")
    patient = patient_create(
        user=front_desk,
        first_name="Ada",
        last_name="Synthetic",
        birth_date=date(1948, 5, 2),
        zip="62701",
    )
    coverage_set(user=front_desk, patient=patient, payer=medicare, member_id="1EG4TE5MK73")
    other_patient = patient_create(
        user=outsider, first_name="Bob", last_name="Elsewhere", birth_date=date(1950, 1, 1)
    )
    start = today - timedelta(days=20)
    pt_case = case_create(user=pt, patient=patient, discipline="PT", title="Gait", opened_on=start)
    ot_case = case_create(
        user=ot, patient=patient, discipline="OT", title="Right CVA ADLs", opened_on=start
    )
    ot_plan = plan_of_care_create(
        user=ot,
        case=ot_case,
        diagnoses=["I69.351", "R26.81"],
        goals=[GoalInput("Dons a pullover shirt with set-up only", start + timedelta(weeks=6))],
        frequency_per_week=2,
        duration_weeks=8,
        start_date=start,
        certified_on=start + timedelta(days=2),
        certifier_name="Dr. Synthetic",
    )
    return World(
        clinic=clinic,
        other_clinic=other,
        medicare=medicare,
        commercial=commercial,
        admin=admin,
        pt=pt,
        ot=ot,
        ota=ota,
        biller=biller,
        front_desk=front_desk,
        outsider=outsider,
        patient=patient,
        other_patient=other_patient,
        pt_case=pt_case,
        ot_case=ot_case,
        ot_plan=ot_plan,
        today=today,
    )

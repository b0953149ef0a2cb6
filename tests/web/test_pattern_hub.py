"""The denial-pattern hub (issue 9) with the real thing: the hub is Django's live server, and
the sender is this codebase in the test process, posting to it over real HTTP. Both share the
test database (their tables are apart: patternhub.* on the hub, remittances.Hub* on the
sender)."""

from __future__ import annotations

import json
import socket
import urllib.error
import urllib.request
import uuid
from datetime import timedelta
from io import StringIO
from pathlib import Path
from typing import Any
from typing import Any as SettingsWrapper  # pytest-django's settings fixture

import django_rq
import pytest
import schemathesis
import time_machine
from django.core.management import call_command
from django.core.management.base import CommandError
from django.core.wsgi import get_wsgi_application
from django.utils import timezone
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from schemathesis.checks import ignored_auth

from handrail.claims.patterns import clinic_key
from handrail.web.billing.models import Claim, ClinicBilling
from handrail.web.ops.schedule import periodic_enqueue, periodic_enqueue_rq
from handrail.web.patternhub.models import Enrolment, HubReport
from handrail.web.patternhub.services import enrolment_create, enrolment_revoke
from handrail.web.remittances import hub
from handrail.web.remittances.models import (
    DenialReport,
    HubDelivery,
    HubDeliveryStatus,
    HubPatternCache,
)
from handrail.web.visits.models import Visit
from tests.web.conftest import World
from tests.web.remittance_seed import (
    LineSpec,
    adjustment,
    claim_payment,
    paid_line,
    remittance_text,
    sent_claim,
    set_up_billing,
    signed_visit,
)
from tests.web.test_api import keep_db_connection  # noqa: F401 (a fixture)
from tests.web.test_deploy import _manage, _production_env
from tests.web.test_worker import (
    ON_RQ,
    _empty_queues,  # noqa: F401 (autouse: RQ queues start empty)
    run_worker_once,
)

SYNC_TASK = "handrail.web.remittances.tasks.sync_pattern_hub"
LINES = (LineSpec("97535", ("GO",), 2, "150.00"), LineSpec("97530", ("GO",), 1, "125.00"))
REPORT = {
    "code": "97530",
    "modifiers": ["GO"],
    "payer_kind": "medicare",
    "group": "CO",
    "reason": "97",
    "remarks": ["N20"],
    "fix": "added_distinct_modifier",
}


def _report(**changes: Any) -> dict[str, Any]:
    return {"report_id": uuid.uuid4().hex * 2, **REPORT, **changes}


def _call(
    url: str, key: str | None, body: Any = None, *, raw: bytes | None = None
) -> tuple[int, Any, dict[str, str]]:
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    request = urllib.request.Request(url, data=data, method="POST" if data else "GET")
    if key is not None:
        request.add_header("Authorization", f"Bearer {key}")
    request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return answer.status, json.loads(answer.read()), dict(answer.headers)
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read()), dict(error.headers)


def _closed_port_url() -> str:
    """The address of a port nobody listens on: a hub that is down."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


@pytest.fixture
def hub_url(live_server: Any) -> str:
    return str(live_server.url)


def _post(hub_url: str, key: str | None, body: Any) -> tuple[int, Any]:
    status, answer, _ = _call(f"{hub_url}/api/hub/reports", key, body)
    return status, answer


def _patterns(hub_url: str, key: str) -> list[dict[str, Any]]:
    status, answer, _ = _call(f"{hub_url}/api/hub/patterns", key)
    assert status == 200, answer
    return list(answer["patterns"])


def _sender(settings: SettingsWrapper, url: str, key: str) -> None:
    settings.PATTERN_HUB_URL = url
    settings.PATTERN_HUB_KEY = key


def _local_report(**changes: Any) -> DenialReport:
    """A report made on the sending server (another clinic of it, or an earlier line)."""
    fields = {**REPORT, **changes}
    return DenialReport.objects.create(
        clinic_key=clinic_key(b"s" * 32, uuid.uuid4().hex),
        line_key=uuid.uuid4().hex * 2,
        **fields,
    )


def _send(report: DenialReport) -> str:
    delivery = hub.hub_delivery_queue(report=report)
    assert delivery is not None
    return hub.hub_delivery_send(delivery_id=delivery.pk)


@pytest.fixture
def denied(world: World) -> Claim:
    """A claim of a signed OT visit (Medicare), its 97530 line denied CO-97 with N20."""
    set_up_billing(world)
    visit = signed_visit(world)
    Visit.objects.filter(pk=visit.pk).update(evaluation=dict(visit.evaluation or {}))
    claim = sent_claim(world, "RT00000001", LINES, visit=visit)
    first, second = claim.lines.order_by("number")
    payment = claim_payment(
        claim,
        [
            paid_line(first, "96.00", adjustment("CO", "45", "30.00"),
                      adjustment("PR", "2", "24.00"), allowed="120.00"),
            paid_line(second, "0.00", adjustment("CO", "97", "125.00"), remarks=("N20",)),
        ],
    )  # fmt: skip
    text = remittance_text([payment], paid_on=world.today - timedelta(days=45))
    response = world.client_for(world.biller).post(
        "/api/remittances", data=text, content_type="text/plain"
    )
    assert response.status_code == 200, response.content
    return claim


def _worklist(world: World) -> str:
    response = world.client_for(world.biller).get("/remittances/denials/")
    assert response.status_code == 200
    return str(response.content.decode())


class HubEndToEndTests:
    def test_five_reports_from_three_clinics_reach_the_worklist_through_the_hub(
        self, world: World, denied: Claim, hub_url: str, settings: SettingsWrapper
    ) -> None:
        keys = [enrolment_create(label=f"Clinic server {n}")[1] for n in "ABC"]
        # Clinic A's biller reports the line on the page; the worker sends it to the hub.
        _sender(settings, hub_url, keys[0])
        response = world.client_for(world.biller).post(
            f"/remittances/denials/{denied.pk}/2/report/", {"fix": "added_distinct_modifier"}
        )
        assert response.status_code == 302
        delivery = HubDelivery.objects.get()
        assert delivery.status == HubDeliveryStatus.WAITING  # queued, not sent in the request
        assert HubReport.objects.count() == 0
        assert run_worker_once() == 1
        delivery.refresh_from_db()
        assert (delivery.status, delivery.attempts, delivery.last_error) == ("sent", 1, "")
        assert "sent to the hub" in _worklist(world)
        # One more from A, two from B, one from C: 5 reports from 3 clinics.
        for key, count in ((keys[0], 1), (keys[1], 2), (keys[2], 1)):
            _sender(settings, hub_url, key)
            assert [_send(_local_report()) for _ in range(count)] == ["sent"] * count
        assert HubReport.objects.count() == 5
        assert hub.hub_patterns_fetch() == 1
        [pattern] = HubPatternCache.objects.get(hub_url=hub_url).patterns
        assert pattern == {
            "code": "97530", "payer_kind": "medicare", "reason": "CO-97", "reports": 5,
            "clinics": 3, "modifiers": [["GO", 5]], "remarks": [["N20", 5]],
            "fixes": [["added_distinct_modifier", 5]],
        }  # fmt: skip
        html = _worklist(world)
        assert "5 reports from 3 clinics for 97530 (medicare, CO-97)." in html
        assert "Most often fixed by: added_distinct_modifier (5)." in html
        assert 'data-hub="available"' in html
        assert "Figures from the pattern hub as of 2026-11-16" in html
        patterns_page = world.client_for(world.biller).get("/remittances/patterns/")
        assert "<td>CO-97</td>" in patterns_page.content.decode()

    def test_the_hub_keeps_no_clinic_or_patient_data(
        self, world: World, denied: Claim, hub_url: str, settings: SettingsWrapper
    ) -> None:
        enrolment, key = enrolment_create(label="Riverside server")
        _sender(settings, hub_url, key)
        world.client_for(world.biller).post(
            f"/remittances/denials/{denied.pk}/2/report/", {"fix": "added_distinct_modifier"}
        )
        run_worker_once()
        columns = {f.column for f in HubReport._meta.get_fields()}
        assert columns == {
            "id", "clinic_key", "report_id", "code", "modifiers", "payer_kind", "group",
            "reason", "remarks", "fix", "received_on",
        }  # fmt: skip
        assert {f.column for f in Enrolment._meta.get_fields()} == {
            "id", "label", "key_hash", "created_at", "revoked_at", "window_started_at",
            "window_hits",
        }  # fmt: skip
        [row] = HubReport.objects.values()
        stored = json.dumps(row, default=str) + json.dumps(
            list(Enrolment.objects.values()), default=str
        )
        npi = ClinicBilling.objects.get(clinic=world.clinic).group_npi
        for secret in (npi, world.clinic.name, "Synthetic", "Ada", "RT00000001", key):
            assert secret not in stored
        assert row["clinic_key"] != clinic_key(b"x" * 16, npi)
        assert len(row["clinic_key"]) == len(row["report_id"]) == 64
        assert enrolment.key_hash != key and len(enrolment.key_hash) == 64


class HubThresholdTests:
    @pytest.mark.parametrize(
        ("per_clinic", "shown"),
        [((2, 1, 1), False), ((3, 2), False), ((2, 2, 1), True)],
        ids=["4 reports from 3 clinics", "5 reports from 2 clinics", "5 from 3"],
    )
    def test_aggregates_show_from_five_reports_of_three_clinics(
        self, db: None, hub_url: str, per_clinic: tuple[int, ...], shown: bool
    ) -> None:
        keys = [enrolment_create(label=f"server {n}")[1] for n in range(len(per_clinic))]
        for key, count in zip(keys, per_clinic, strict=True):
            for _ in range(count):
                assert _post(hub_url, key, _report())[0] == 201
        patterns = _patterns(hub_url, keys[0])
        assert len(patterns) == (1 if shown else 0)
        if shown:
            assert (patterns[0]["reports"], patterns[0]["clinics"]) == (5, 3)
            assert patterns[0]["fixes"] == [{"value": "added_distinct_modifier", "count": 5}]


class HubRefusalTests:
    @pytest.mark.parametrize("key", [None, "hrk_" + "x" * 43, "not-a-key"])
    def test_a_missing_or_wrong_key_is_401_and_nothing_is_stored(
        self, db: None, hub_url: str, key: str | None
    ) -> None:
        enrolment_create(label="server")
        status, answer = _post(hub_url, key, _report())
        assert (status, answer["detail"]) == (401, "Unauthorized")
        assert HubReport.objects.count() == 0

    def test_a_revoked_key_is_403_and_nothing_is_stored(self, db: None, hub_url: str) -> None:
        enrolment, key = enrolment_create(label="server")
        assert _post(hub_url, key, _report())[0] == 201
        enrolment_revoke(enrolment_id=enrolment.pk)
        status, answer = _post(hub_url, key, _report())
        assert (status, answer["detail"]) == (
            403, "This enrolment was revoked by the hub's admin."
        )  # fmt: skip
        assert _call(f"{hub_url}/api/hub/patterns", key)[0] == 403
        assert HubReport.objects.count() == 1  # the one sent before: it still counts

    @pytest.mark.parametrize(
        ("body", "detail"),
        [
            (
                {**_report(), "patient_name": "Ada Synthetic"},
                "patient_name: unknown field; a report has only report_id, code, modifiers, "
                "payer_kind, group, reason, remarks, fix (never patient data)",
            ),
            ({**_report(), "claim": {"npi": "1234567893"}}, "claim: unknown field"),
            ({"patient_dob": "1948-05-02"}, "patient_dob: unknown field"),
            (_report(code="9753"), "code: String should match pattern '^[0-9A-Z]{5}$'"),
            (_report(payer_kind="martian"), "payer_kind: one of medicare, medicare_advantage"),
            (_report(fix="called the patient"), "fix: one of added_distinct_modifier"),
            (_report(modifiers=["GO", "59", "KX", "XU", "GP"]), "modifiers: List should have"),
            (_report(remarks="N20"), "remarks: Input should be a valid list"),
            ({k: v for k, v in _report().items() if k != "reason"}, "reason: required"),
            (_report(report_id="x" * 64), "report_id: String should match pattern"),
            ([_report()], "body: send one report as a JSON object"),
        ],
    )
    def test_bad_reports_are_400_naming_the_field_and_nothing_is_stored(
        self, db: None, hub_url: str, body: Any, detail: str
    ) -> None:
        _, key = enrolment_create(label="server")
        status, answer = _post(hub_url, key, body)
        assert status == 400
        assert answer["detail"].startswith(detail), answer
        assert HubReport.objects.count() == 0

    def test_a_body_past_4096_bytes_is_413(self, db: None, hub_url: str) -> None:
        _, key = enrolment_create(label="server")
        status, answer, _ = _call(f"{hub_url}/api/hub/reports", key, raw=b" " * 4097)
        assert (status, answer["detail"]) == (413, "body: at most 4,096 bytes")
        assert HubReport.objects.count() == 0

    def test_past_the_rate_limit_it_is_429_with_retry_after(
        self, db: None, hub_url: str, settings: SettingsWrapper
    ) -> None:
        settings.PATTERN_HUB_RATE_LIMIT = 2
        _, key = enrolment_create(label="server")
        _, other = enrolment_create(label="other server")
        assert [_post(hub_url, key, _report())[0] for _ in range(2)] == [201, 201]
        status, answer, headers = _call(f"{hub_url}/api/hub/reports", key, _report())
        assert (status, answer["detail"]) == (
            429, "More than 2 requests this hour; try again later."
        )  # fmt: skip
        assert 3500 < int(headers["Retry-After"]) <= 3600
        assert _post(hub_url, other, _report())[0] == 201  # per enrolment
        assert HubReport.objects.count() == 3


class HubIdempotenceTests:
    def test_the_same_report_twice_is_counted_once(self, db: None, hub_url: str) -> None:
        _, key = enrolment_create(label="server")
        body = _report()
        first, again = _post(hub_url, key, body), _post(hub_url, key, body)
        assert first == (201, {"report_id": body["report_id"], "stored": True})
        assert again == (200, {"report_id": body["report_id"], "stored": False})
        assert HubReport.objects.count() == 1

    def test_a_send_the_worker_lost_track_of_is_sent_again_and_counted_once(
        self, db: None, hub_url: str, settings: SettingsWrapper
    ) -> None:
        _, key = enrolment_create(label="server")
        _sender(settings, hub_url, key)
        report = _local_report()
        delivery = hub.hub_delivery_queue(report=report)
        assert delivery is not None
        # The hub got it, but the worker stopped before it marked the row sent.
        assert _post(hub_url, key, hub._payload(report))[0] == 201
        started = timezone.now()
        HubDelivery.objects.filter(pk=delivery.pk).update(
            status=HubDeliveryStatus.SENDING, attempts=1, sending_started_at=started
        )
        later = started + hub.STALE_SENDING + timedelta(seconds=1)
        assert hub.hub_deliveries_send_due(now=later) == {"stale": 1, "sent": 1}
        delivery.refresh_from_db()
        assert (delivery.status, delivery.attempts) == ("sent", 2)
        assert HubReport.objects.count() == 1


class HubDownTests:
    def test_a_report_waits_while_the_hub_is_down_and_is_delivered_once_later(
        self, db: None, hub_url: str, settings: SettingsWrapper
    ) -> None:
        _, key = enrolment_create(label="server")
        _sender(settings, _closed_port_url(), key)
        now = timezone.now()
        report = _local_report()
        delivery = hub.hub_delivery_queue(report=report, now=now)
        assert delivery is not None
        assert hub.hub_delivery_send(delivery_id=delivery.pk, now=now) == "retry"
        delivery.refresh_from_db()
        assert (delivery.status, delivery.attempts) == ("waiting", 1)
        assert delivery.next_attempt_at == now + timedelta(seconds=30)
        assert delivery.last_error.startswith("Attempt 1: the hub is unreachable: ")
        # Not due yet: the sweep leaves it; a second failure doubles the wait.
        assert hub.hub_deliveries_send_due(now=now + timedelta(seconds=10)) == {"stale": 0}
        second = now + timedelta(seconds=31)
        assert hub.hub_deliveries_send_due(now=second) == {"stale": 0, "retry": 1}
        delivery.refresh_from_db()
        assert (delivery.attempts, delivery.next_attempt_at) == (2, second + timedelta(minutes=1))
        # The hub is back: the next sweep delivers it, once.
        settings.PATTERN_HUB_URL = hub_url
        third = second + timedelta(minutes=2)
        assert hub.hub_deliveries_send_due(now=third) == {"stale": 0, "sent": 1}
        assert hub.hub_deliveries_send_due(now=third + timedelta(hours=2)) == {"stale": 0}
        assert hub.hub_delivery_send(delivery_id=delivery.pk, now=third) == "skipped"
        assert HubReport.objects.filter(report_id=report.line_key).count() == 1
        assert HubReport.objects.count() == 1

    def test_the_worker_tries_again_when_due_and_delivers_once_the_hub_is_back(
        self, db: None, hub_url: str, settings: SettingsWrapper
    ) -> None:
        _, key = enrolment_create(label="server")
        _sender(settings, _closed_port_url(), key)
        hub.hub_delivery_queue(report=_local_report())  # its task is queued on commit
        assert run_worker_once() == 1
        delivery = HubDelivery.objects.get()
        assert (delivery.status, delivery.attempts) == ("waiting", 1)
        assert run_worker_once() == 0  # the next try is put off 30 s
        settings.PATTERN_HUB_URL = hub_url
        with time_machine.travel(delivery.next_attempt_at + timedelta(seconds=1), tick=True):
            assert run_worker_once() == 1
        delivery.refresh_from_db()
        assert (delivery.status, delivery.attempts, delivery.last_error) == ("sent", 2, "")
        assert HubReport.objects.count() == 1

    def test_the_worker_sends_what_a_lost_task_left_and_fetches_on_its_schedule(
        self, db: None, hub_url: str, settings: SettingsWrapper
    ) -> None:
        settings.WORKER_PERIODIC_TASKS = {SYNC_TASK: 300}
        _, key = enrolment_create(label="server")
        _sender(settings, hub_url, key)
        delivery = HubDelivery.objects.create(
            report=_local_report(), next_attempt_at=timezone.now()
        )
        if ON_RQ:
            connection = django_rq.get_connection("default")
            assert periodic_enqueue_rq(connection, queue_names=["*"]) == [SYNC_TASK]
        else:
            assert periodic_enqueue(queue_names=["*"]) == [SYNC_TASK]
        assert run_worker_once() == 1
        delivery.refresh_from_db()
        assert delivery.status == "sent"
        cache = HubPatternCache.objects.get(hub_url=hub_url)
        assert (cache.patterns, cache.last_error) == ([], "")
        assert cache.fetched_at is not None

    def test_the_worklist_says_the_hub_is_unavailable_and_shows_local_figures(
        self, world: World, denied: Claim, settings: SettingsWrapper
    ) -> None:
        _sender(settings, _closed_port_url(), "hrk_" + "k" * 43)
        assert hub.hub_sync() == {"stale": 0, "fetch_failed": 1}
        for index in range(4):  # 4 from 2 clinics of this server, and the biller's: 3 clinics
            DenialReport.objects.create(
                clinic_key=clinic_key(b"k" * 32, f"clinic {index % 2}"),
                line_key=uuid.uuid4().hex * 2, **REPORT,
            )  # fmt: skip
        world.client_for(world.biller).post(
            f"/remittances/denials/{denied.pk}/2/report/", {"fix": "added_distinct_modifier"}
        )
        html = _worklist(world)
        assert 'data-hub="unavailable"' in html
        assert "The hub&#x27;s figures are unavailable (the hub is unreachable: " in html
        assert "shown: this server&#x27;s own reports." in html
        assert "5 reports from 3 clinics for 97530 (medicare, CO-97)." in html
        assert "waiting to be sent to the hub" in html
        assert world.client_for(world.biller).get("/remittances/patterns/").status_code == 200

    def test_figures_fetched_earlier_stay_with_their_time_when_the_hub_goes_down(
        self, world: World, denied: Claim, hub_url: str, settings: SettingsWrapper
    ) -> None:
        _, key = enrolment_create(label="server")
        _sender(settings, hub_url, key)
        assert hub.hub_patterns_fetch() == 0
        cache = HubPatternCache.objects.get()
        cache.patterns = [
            {"code": "97530", "payer_kind": "medicare", "reason": "CO-97", "reports": 7,
             "clinics": 4, "modifiers": [["GO", 7]], "remarks": [], "fixes": [["added_kx", 6]]}
        ]  # fmt: skip
        cache.save()
        live = settings.PATTERN_HUB_URL
        settings.PATTERN_HUB_URL = _closed_port_url()
        HubPatternCache.objects.filter(pk=cache.pk).update(hub_url=settings.PATTERN_HUB_URL)
        assert hub.hub_patterns_fetch(now=timezone.now() + timedelta(minutes=5)) is None
        html = _worklist(world)
        assert 'data-hub="available"' in html
        assert "7 reports from 4 clinics for 97530 (medicare, CO-97)." in html
        assert "The last fetch, at 2026-11-16 15:0" in html
        assert "failed: the hub is unreachable" in html
        assert live != settings.PATTERN_HUB_URL

    def test_unreadable_stored_figures_fall_back_to_local_ones(
        self, world: World, denied: Claim, settings: SettingsWrapper
    ) -> None:
        _sender(settings, "https://hub.example.org", "hrk_" + "k" * 43)
        HubPatternCache.objects.create(
            hub_url="https://hub.example.org", patterns=[{"code": "97530"}],
            fetched_at=timezone.now(),
        )  # fmt: skip
        html = _worklist(world)
        assert "The hub&#x27;s figures are unavailable (the stored figures are unreadable)" in html

    def test_a_revoked_key_fails_the_delivery_with_the_reason_until_retried(
        self, world: World, denied: Claim, hub_url: str, settings: SettingsWrapper
    ) -> None:
        enrolment, key = enrolment_create(label="server")
        enrolment_revoke(enrolment_id=enrolment.pk)
        _sender(settings, hub_url, key)
        world.client_for(world.biller).post(
            f"/remittances/denials/{denied.pk}/2/report/", {"fix": "added_kx"}
        )
        run_worker_once()
        delivery = HubDelivery.objects.get()
        assert (delivery.status, delivery.last_error) == (
            "failed",
            "the hub answered 403: This enrolment was revoked by the hub's admin.",
        )
        assert (
            "not sent: the hub answered 403: This enrolment was revoked by the hub&#x27;s admin. "
            "A clinic admin can queue it again" in _worklist(world)
        )
        _, new_key = enrolment_create(label="server, new key")
        settings.PATTERN_HUB_KEY = new_key
        out = StringIO()
        call_command("pattern_hub", "retry", stdout=out)
        assert out.getvalue() == "Queued again: 1\n"
        run_worker_once()
        delivery.refresh_from_db()
        assert delivery.status == "sent"
        assert HubReport.objects.count() == 1


class HubOffTests:
    def test_without_a_hub_nothing_is_queued_and_the_page_is_as_before(
        self, world: World, denied: Claim
    ) -> None:
        world.client_for(world.biller).post(
            f"/remittances/denials/{denied.pk}/2/report/", {"fix": "added_kx"}
        )
        assert DenialReport.objects.count() == 1
        assert HubDelivery.objects.count() == 0
        html = _worklist(world)
        assert "hub-note" not in html
        assert "Reported anonymously (added kx)." in html
        assert hub.hub_sync() == {}
        assert HubPatternCache.objects.count() == 0


class PatternHubCommandTests:
    def test_it_enrols_shows_the_key_once_lists_and_revokes(self, db: None) -> None:
        out = StringIO()
        call_command("pattern_hub", "enrol", "Riverside Rehab server", stdout=out)
        lines = out.getvalue().splitlines()
        enrolment = Enrolment.objects.get()
        assert (
            lines[0] == f"Enrolment #{enrolment.pk} (Riverside Rehab server). Its key, shown once:"
        )
        key = lines[1]
        assert key.startswith("hrk_") and len(key) == 47
        assert enrolment.key_hash not in out.getvalue() and key not in enrolment.key_hash
        listed = StringIO()
        call_command("pattern_hub", "list", stdout=listed)
        assert listed.getvalue() == (
            f"#{enrolment.pk}\tRiverside Rehab server\tenrolled 2026-11-16\tactive\t0 report(s)\n"
        )
        call_command("pattern_hub", "revoke", str(enrolment.pk), stdout=StringIO())
        enrolment.refresh_from_db()
        assert enrolment.revoked_at is not None
        with pytest.raises(CommandError, match="No enrolment #999."):
            call_command("pattern_hub", "revoke", "999")
        with pytest.raises(CommandError, match="Name the enrolment"):
            call_command("pattern_hub", "enrol", "  ")

    def test_the_sender_commands_need_a_hub(self, db: None) -> None:
        with pytest.raises(CommandError, match="No hub is configured: set PATTERN_HUB_URL"):
            call_command("pattern_hub", "status")


class HubSettingsTests:
    @pytest.mark.parametrize(
        ("env", "line"),
        [
            (
                {"PATTERN_HUB_URL": "ftp://hub.example.org", "PATTERN_HUB_KEY": "hrk_x"},
                "PATTERN_HUB_URL='ftp://hub.example.org': write the hub's address, e.g. "
                "https://hub.example.org",
            ),
            (
                {"PATTERN_HUB_URL": "http://hub.example.org", "PATTERN_HUB_KEY": "hrk_x"},
                "PATTERN_HUB_URL='http://hub.example.org': use https:// (http:// only for a "
                "hub on this machine)",
            ),
            (
                {"PATTERN_HUB_URL": "https://hub.example.org/api", "PATTERN_HUB_KEY": "hrk_x"},
                "PATTERN_HUB_URL='https://hub.example.org/api': the server's address only, "
                "no path; write the hub's address, e.g. https://hub.example.org",
            ),
            (
                {"PATTERN_HUB_URL": "https://hub.example.org"},
                "PATTERN_HUB_URL is set but PATTERN_HUB_KEY (or PATTERN_HUB_KEY_FILE) is not a "
                "hub key (hrk_...): ask the hub's admin for one (manage.py pattern_hub enrol on "
                "the hub)",
            ),
            (
                {"PATTERN_HUB_KEY": "hrk_x"},
                "PATTERN_HUB_KEY is set without PATTERN_HUB_URL: set both",
            ),
        ],
    )
    def test_a_bad_hub_setting_stops_manage_py_with_one_line(
        self, tmp_path: Path, env: dict[str, str], line: str
    ) -> None:
        environment = _production_env(tmp_path, **env)
        for name in {"PATTERN_HUB_URL", "PATTERN_HUB_KEY", "PATTERN_HUB_KEY_FILE"} - set(env):
            environment.pop(name, None)
        result = _manage(environment, "check")
        assert (result.returncode, result.stdout) == (2, "")
        assert result.stderr == f"Configuration error: {line}\n"

    def test_a_good_hub_setting_passes_the_deploy_check(self, tmp_path: Path) -> None:
        env = _production_env(
            tmp_path, PATTERN_HUB_URL="https://hub.example.org/", PATTERN_HUB_KEY="hrk_" + "k" * 43
        )
        result = _manage(env, "check", "--deploy", "--fail-level", "WARNING")
        assert result.returncode == 0, result.stderr
        code = "from django.conf import settings as s; "
        code += f"print(s.PATTERN_HUB_URL, s.WORKER_PERIODIC_TASKS[{SYNC_TASK!r}])"
        shown = _manage(env, "shell", "--no-imports", "-c", code)
        assert shown.stdout == "https://hub.example.org 300\n", shown.stderr


# The hub's endpoints against their OpenAPI schema, with a valid key (the run in test_api
# covers them without one: 401s), so generated reports reach the service: every answer must
# be documented and match its schema, never a 5xx.
hub_schema = schemathesis.openapi.from_wsgi("/api/openapi.json", get_wsgi_application()).include(
    path_regex="/hub/"
)


@pytest.fixture
def hub_key(db: None, settings: SettingsWrapper) -> str:
    settings.PATTERN_HUB_RATE_LIMIT = 100_000
    return enrolment_create(label="schemathesis server")[1]


@hub_schema.parametrize()
@hypothesis_settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@pytest.mark.usefixtures("keep_db_connection")
def test_hub_api_matches_its_schema(case: Any, hub_key: str) -> None:
    case.call_and_validate(
        headers={"Authorization": f"Bearer {hub_key}"}, excluded_checks=[ignored_auth]
    )

"""Data-scale benchmark (issue #10 "Fast at the clinic's real size"): the clinic's pages at
5,000 patients and 50,000 signed visits, as a ratio to the demo clinic in the same run.

    make benchmark-data-scale
    .venv/bin/python benchmarks/data_scale.py [--patients 5000] [--visits 50000]
        [--database-url postgresql://postgres@127.0.0.1:5432/handrail_scale]

Steps:
1. A fresh database (SQLite in benchmarks/out/ by default, or the PostgreSQL database named
   by --database-url, which is emptied first) is migrated and the synthetic demo clinic is
   loaded through the services (`load_demo`); on PostgreSQL, VACUUM ANALYZE then and after
   step 3, as autovacuum would in a live database.
2. The demo clinic's pages are timed in-process with Django's test client: the worklists
   (all lists, then each list) as the biller, the patient list, the page of the demo patient
   with the longest history and the note page of their latest visit. Each page is requested
   --repeat times (default 7) after one warm-up request; the best time is reported (the
   median too, in the JSON) with the number of SQL queries one request makes.
   A copy of the demo clinic's database is kept for step 4 (SQLite's backup API; on
   PostgreSQL a database made from it as a template).
3. The same clinic then grows by --patients synthetic patients (default 5,000) and
   --visits signed visits (default 50,000), bulk-inserted: cases over the last two years
   (most discharged, about 8% in treatment now), certified plans, a progress report every
   10th visit, authorizations for the commercial payer's patients (one in five), signed
   visits whose lines and stored evaluation are copied from the demo's signed notes, and
   assistant notes (12% of OT treatment notes), one in six of them never co-signed.
4. The same pages are timed again in the grown clinic (the demo patient's page and note, and
   the page and latest note of the grown clinic's patient with the longest history), paired
   with the demo clinic's: two fresh processes, one on the demo copy and one on the grown
   database, answer the requests in turn (demo, grown, grown, demo, ...), so both clinics are
   timed in the same minutes under the same load on the machine, each by a process that has
   only served pages. Step 2's figures, taken before the clinic grew in the process that
   grows it, are printed and kept in the JSON to compare.

"x demo" is the median, over the rounds, of the grown clinic's request time over the demo
clinic's request of the same round (target: within 2x): each round's two requests run back to
back, so the ratio cancels load that comes and goes on a shared machine. It is given for the
wall time and for the page server's CPU time (which, with SQLite, includes the database's
work; with PostgreSQL it leaves the server's work out); the best times are shown beside it.
Results are printed and written to benchmarks/out/data-scale.json. Not part of CI.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import secrets
import sqlite3
import statistics
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

HERE = Path(__file__).resolve().parent
OUT_DIR = HERE / "out"
TARGET_RATIO = 2.0
SEED = 20261205


@dataclass(frozen=True, slots=True)
class Timing:
    clinic: str  # "demo" | "grown"
    page: str
    url: str
    best_ms: float
    median_ms: float
    queries: int
    status: int
    ratio: float | None = None
    # The best request's CPU time of this process (with SQLite, the database's work too):
    # unlike the wall time, barely moved by other work on a shared machine. With
    # PostgreSQL it leaves out the server's work.
    cpu_ms: float = 0.0
    cpu_ratio: float | None = None


SQLITE_PATH = OUT_DIR / "data-scale.sqlite3"
SQLITE_DEMO_PATH = OUT_DIR / "data-scale-demo.sqlite3"


def _setup_django(database_url: str | None, *, fresh: bool = True) -> None:
    """Django on the given database (default: the SQLite file in benchmarks/out/, deleted
    first with its demo copy when `fresh`)."""
    os.environ.setdefault("SECRET_KEY", secrets.token_urlsafe(50))
    os.environ["DJANGO_SETTINGS_MODULE"] = "handrail.web.settings"
    OUT_DIR.mkdir(exist_ok=True)
    if database_url:
        os.environ["DATABASE_URL"] = database_url
    else:
        if fresh:
            for path in (SQLITE_PATH, SQLITE_DEMO_PATH):
                for suffix in ("", "-wal", "-shm"):
                    Path(f"{path}{suffix}").unlink(missing_ok=True)
        os.environ["DATABASE_URL"] = f"sqlite:///{SQLITE_PATH}"
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    os.environ.setdefault("ALLOWED_HOSTS", "testserver,127.0.0.1,localhost")
    import django

    django.setup()


def _reset_database() -> None:
    from django.core.management import call_command
    from django.db import connection

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public;")
    call_command("migrate", verbosity=0, interactive=False)


def _refresh_statistics() -> None:
    """On PostgreSQL, VACUUM ANALYZE after a bulk load, as autovacuum soon does in a live
    database: without it the planner reads freshly inserted tables as empty (and plans
    accordingly) and no index-only scan is possible. SQLite keeps no statistics unless
    asked (Handrail does not run ANALYZE), so it is measured as it is."""
    from django.db import connection

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")


def _count_queries(client: Any, url: str) -> tuple[int, int]:
    """(SQL queries, status) of one request, after a warm-up request (template compilation,
    caches)."""
    from django.db import connection

    client.get(url)
    queries: list[str] = []

    def count(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        queries.append(sql)
        return execute(sql, params, many, context)

    # An execute wrapper, not CaptureQueriesContext: the client's request_started signal
    # resets the connection's query log in the middle of the context.
    with connection.execute_wrapper(count):
        response = client.get(url)
    return len(queries), response.status_code


def _time_once(client: Any, url: str) -> tuple[float, float]:
    """(wall ms, this process's CPU ms) of one request."""
    start, start_cpu = time.perf_counter(), time.process_time()
    client.get(url)
    return (time.perf_counter() - start) * 1000, (time.process_time() - start_cpu) * 1000


def _time_page(client: Any, url: str, repeat: int) -> tuple[float, float, int, int, float]:
    queries, status = _count_queries(client, url)
    times, cpu = zip(*(_time_once(client, url) for _ in range(repeat)), strict=True)
    # The best of the repeats: on a shared machine the others measure the neighbours' load.
    return min(times), statistics.median(times), queries, status, min(cpu)


def _longest_history_patient(clinic_id: int, exclude: set[int]) -> tuple[int, int]:
    """(patient id, latest visit id) of the clinic's patient with the most visits."""
    from django.db.models import Count

    from handrail.web.visits.models import Visit

    row = (
        Visit.objects.filter(clinic_id=clinic_id)
        .exclude(case__patient_id__in=exclude)
        .values("case__patient")
        .annotate(n=Count("id"))
        .order_by("-n", "case__patient")
        .first()
    )
    assert row is not None
    patient_id = int(row["case__patient"])
    latest = Visit.objects.filter(case__patient_id=patient_id).order_by("-date", "-id").first()
    assert latest is not None
    return patient_id, latest.pk


def _pages(patient_id: int, visit_id: int) -> list[tuple[str, str]]:
    from django.urls import reverse

    from handrail.web.worklists.views import KINDS

    pages = [("worklists (all)", reverse("worklists:index"))]
    pages += [(f"worklist {kind}", reverse("worklists:kind", args=[kind])) for kind in KINDS]
    pages += [
        ("patient list", reverse("patient-list")),
        ("patient page", reverse("patient-detail", args=[patient_id])),
        ("note page", reverse("notes:note", args=[visit_id])),
    ]
    return pages


def _biller_client() -> Any:
    """A test client signed in as the demo biller, sign-in finished (billers give a TOTP
    code after the password)."""
    from django.test import Client

    from handrail.web.clinic import two_factor
    from handrail.web.clinic.models import User

    client = Client()
    client.force_login(User.objects.get(username="biller"))
    session = client.session
    session[two_factor.SESSION_KEY] = two_factor.VERIFIED
    session.save()
    return client


def _timing(clinic: str, page: str, url: str, figures: dict[str, Any]) -> Timing:
    timing = Timing(
        clinic,
        page,
        url,
        round(figures["best"], 1),
        round(figures["median"], 1),
        figures["queries"],
        figures["status"],
        cpu_ms=round(figures["cpu"], 1),
    )
    print(
        f"  {clinic:<6} {page:<32} {timing.best_ms:9.1f} ms {timing.cpu_ms:9.1f} ms cpu "
        f"{timing.queries:6d} queries  {timing.status}"
    )
    return timing


def _measure(clinic: str, pages: list[tuple[str, str]], repeat: int) -> list[Timing]:
    """The pages timed one after the other in this process."""
    client = _biller_client()
    out = []
    for page, url in pages:
        best, median, queries, status, cpu = _time_page(client, url, repeat)
        figures = {"best": best, "median": median, "queries": queries, "status": status}
        out.append(_timing(clinic, page, url, {**figures, "cpu": cpu}))
    return out


def _serve() -> int:
    """`--serve`: answer the parent's requests as the biller, one per line on stdin
    ("count <url>" or "time <url>"), with one JSON line each on the original stdout (the
    process's own output goes to stderr, so a log line cannot break the exchange)."""
    answers = os.fdopen(os.dup(1), "w")
    os.dup2(2, 1)
    client = _biller_client()
    for line in sys.stdin:
        command, url = line.split()
        if command == "count":
            queries, status = _count_queries(client, url)
            answer: dict[str, Any] = {"queries": queries, "status": status}
        else:
            wall, cpu = _time_once(client, url)
            answer = {"wall": wall, "cpu": cpu}
        answers.write(json.dumps(answer) + "\n")
        answers.flush()
    return 0


class _PageServer:
    """A fresh process serving pages from one database (`_serve`)."""

    def __init__(self, database_url: str) -> None:
        self.process = subprocess.Popen(
            [sys.executable, __file__, "--serve", "--database-url", database_url],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )

    def ask(self, command: str, url: str) -> dict[str, Any]:
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.write(f"{command} {url}\n")
        self.process.stdin.flush()
        line = self.process.stdout.readline()
        if not line:
            raise SystemExit(f"the page server stopped (exit {self.process.wait()}); see above")
        answer: dict[str, Any] = json.loads(line)
        return answer

    def close(self) -> None:
        assert self.process.stdin is not None
        self.process.stdin.close()
        self.process.wait(timeout=60)


def _measure_paired(
    pages: list[tuple[str, str, str]], demo_url: str, grown_url: str, repeat: int
) -> tuple[list[Timing], list[Timing]]:
    """Each page (name, demo clinic's url, grown clinic's url) timed in the demo copy and the
    grown database by two page servers, in turn: demo then grown, then grown then demo, so
    neither always goes first. Returns (demo timings, grown timings)."""
    servers = {"demo": _PageServer(demo_url), "grown": _PageServer(grown_url)}
    out: dict[str, list[Timing]] = {"demo": [], "grown": []}
    try:
        for page, demo_page_url, grown_page_url in pages:
            urls = {"demo": demo_page_url, "grown": grown_page_url}
            counted = {clinic: servers[clinic].ask("count", urls[clinic]) for clinic in servers}
            walls: dict[str, list[float]] = {"demo": [], "grown": []}
            cpus: dict[str, list[float]] = {"demo": [], "grown": []}
            for round_ in range(repeat):
                for clinic in ("demo", "grown") if round_ % 2 == 0 else ("grown", "demo"):
                    answer = servers[clinic].ask("time", urls[clinic])
                    walls[clinic].append(answer["wall"])
                    cpus[clinic].append(answer["cpu"])
            for clinic in ("demo", "grown"):
                figures = {
                    "best": min(walls[clinic]),
                    "median": statistics.median(walls[clinic]),
                    "cpu": min(cpus[clinic]),
                    **counted[clinic],
                }
                out[clinic].append(_timing(clinic, page, urls[clinic], figures))
            # Each round's two requests ran back to back, so their ratio cancels the load
            # that comes and goes on a shared machine; the median of the rounds' ratios is
            # the figure (the best times of each side may come from different minutes).
            out["grown"][-1] = replace(
                out["grown"][-1],
                ratio=_median_ratio(walls["grown"], walls["demo"]),
                cpu_ratio=_median_ratio(cpus["grown"], cpus["demo"]),
            )
    finally:
        for server in servers.values():
            server.close()
    return out["demo"], out["grown"]


def _median_ratio(grown: list[float], demo: list[float]) -> float | None:
    ratios = [g / d for g, d in zip(grown, demo, strict=True) if d > 0]
    return round(statistics.median(ratios), 2) if ratios else None


def _copy_demo(database_url: str | None) -> str:
    """A copy of the database as it is now (the demo clinic), for the paired timings: the
    URL of the copy. SQLite: the online backup API; PostgreSQL: a database made with this
    one as its template (named <name>_demo, replaced if there)."""
    from django.db import connection

    if connection.vendor == "sqlite":
        connection.ensure_connection()
        target = sqlite3.connect(SQLITE_DEMO_PATH)
        try:
            connection.connection.backup(target)
        finally:
            target.close()
        return f"sqlite:///{SQLITE_DEMO_PATH}"
    import psycopg
    from psycopg import sql

    assert database_url is not None
    name = str(connection.settings_dict["NAME"])
    copy = f"{name}_demo"
    # A template must have no other connection while it is copied: the pool's too.
    connection.close()
    if connection.pool is not None:
        connection.close_pool()
    parts = urlsplit(database_url)
    maintenance = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(maintenance, autocommit=True) as admin:
        admin.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(copy)))
        admin.execute(
            sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
                sql.Identifier(copy), sql.Identifier(name)
            )
        )
    return urlunsplit(parts._replace(path=f"/{copy}"))


def grow_clinic(*, patients: int, visits: int, today: date) -> dict[str, int]:
    """Bulk-insert `patients` patients and `visits` signed visits into the demo clinic."""
    from django.db import transaction
    from django.utils import timezone

    from handrail.web.care.models import Authorization, Case, PlanOfCare
    from handrail.web.clinic.management.commands.load_demo import DEMO_CLINIC, TEMPLATES
    from handrail.web.clinic.models import Clinic, Coverage, Patient, Payer, User
    from handrail.web.visits.models import ServiceLine, Visit, VisitStatus, VisitType

    rng = random.Random(SEED)
    clinic = Clinic.objects.get(name=DEMO_CLINIC)
    users = {user.username: user for user in User.objects.filter(clinic=clinic)}
    medicare = Payer.objects.get(clinic=clinic, type="medicare")
    commercial = Payer.objects.get(clinic=clinic, type="commercial")
    # One signed demo note per discipline and visit type is the model of every copy.
    models: dict[tuple[str, str], Visit] = {}
    for visit in (
        Visit.objects.filter(clinic=clinic, status=VisitStatus.SIGNED, clinician__role="therapist")
        .select_related("case")
        .order_by("id")
    ):
        models.setdefault((visit.case.discipline, visit.visit_type), visit)
    lines_of = {
        visit.pk: list(ServiceLine.objects.filter(visit=visit).order_by("position"))
        for visit in models.values()
    }
    now = timezone.now()
    # About 8% of patients are in treatment now (started in the last 5-40 days, a visit every
    # 3 days so far); the rest of the visits go to discharged episodes of the last two years.
    active_starts = {
        index: today - timedelta(days=rng.randrange(5, 40))
        for index in range(patients)
        if index % 12 == 0
    }
    counts = {index: (today - start).days // 3 + 1 for index, start in active_starts.items()}
    closed = [index for index in range(patients) if index not in active_starts]
    left = visits - sum(counts.values())
    for position, index in enumerate(closed):
        counts[index] = left // len(closed) + (1 if position < left % len(closed) else 0)
    span = (today - date(today.year - 2, 1, 1)).days
    with transaction.atomic():
        new_patients = Patient.objects.bulk_create(
            Patient(
                clinic=clinic,
                first_name=f"Scale{index}",
                last_name=f"Patient{index:05d}",
                birth_date=date(1935 + index % 40, 1 + index % 12, 1 + index % 28),
                sex="F" if index % 2 else "M",
                phone=f"217-556-{index % 10000:04d}",
                city="Springfield",
                state="IL",
                zip="62701",
            )
            for index in range(patients)
        )
        Coverage.objects.bulk_create(
            Coverage(
                patient=patient,
                payer=commercial if index % 5 == 0 else medicare,
                member_id=f"SCALE{index:06d}",
            )
            for index, patient in enumerate(new_patients)
        )
        plans: list[PlanOfCare] = []
        authorizations: list[Authorization] = []
        cases: list[tuple[Case, int, date]] = []
        for index, patient in enumerate(new_patients):
            template = TEMPLATES[index % len(TEMPLATES)]
            count = max(counts[index], 1)
            active = index in active_starts
            start = active_starts.get(index) or date(today.year - 2, 1, 1) + timedelta(
                days=rng.randrange(max(span - 3 * count - 45, 1))
            )
            last = start + timedelta(days=3 * (count - 1))
            cases.append(
                (
                    Case(
                        clinic=clinic,
                        patient=patient,
                        discipline=template.discipline,
                        title=template.title,
                        opened_on=start,
                        closed_on=None if active else last,
                        discharge_reason="" if active else "Goals met",
                        referring_provider="Dr. Scale Referrer",
                    ),
                    count,
                    start,
                )
            )
        Case.objects.bulk_create([case for case, _count, _start in cases])
        visit_rows: list[Visit] = []
        for index, (case, count, start) in enumerate(cases):
            template = TEMPLATES[index % len(TEMPLATES)]
            therapist = users["pt"] if case.discipline == "PT" else users["ot"]
            plans.append(
                PlanOfCare(
                    case=case,
                    discipline=case.discipline,
                    diagnoses=list(template.diagnoses),
                    frequency_per_week=2,
                    duration_weeks=8 if count <= 16 else 26,
                    start_date=start,
                    established_by=therapist,
                    certified_on=start + timedelta(days=3),
                    certifier_name="Dr. Scale Certifier",
                    certifier_npi="1234567893",
                    medical_necessity="Functional decline below prior level.",
                )
            )
            if index % 5 == 0:
                authorizations.append(
                    Authorization(
                        case=case,
                        payer=commercial,
                        number=f"SCALE-{index:06d}",
                        visits_authorized=max(count, 12) + (12 if case.closed_on is None else 0),
                        units_authorized=None,
                        start_date=start,
                        end_date=start + timedelta(days=max(3 * count + 30, 60)),
                    )
                )
            for number in range(count):
                day = start + timedelta(days=3 * number)
                # The evaluation, then a progress report every 10th treatment day
                # (Pub 100-02 ch.15 §220.3), as a clinic that keeps up writes them.
                kind = (
                    VisitType.EVALUATION
                    if number == 0
                    else VisitType.PROGRESS_REPORT
                    if number % 10 == 0
                    else VisitType.TREATMENT
                )
                model = (
                    models.get((case.discipline, kind)) or models[(case.discipline, "treatment")]
                )
                # OT assistants write 12% of the OT treatment notes; one in six of those (2%
                # of OT notes) was never co-signed.
                by_assistant = case.discipline == "OT" and number > 0 and rng.random() < 0.12
                clinician = users["ota"] if by_assistant else therapist
                cosigned = by_assistant and rng.random() > 1 / 6
                visit_rows.append(
                    Visit(
                        clinic=clinic,
                        case=case,
                        date=day,
                        visit_type=kind,
                        clinician=clinician,
                        medical_necessity_attested=True,
                        narrative=model.narrative,
                        status=VisitStatus.SIGNED,
                        signed_by=clinician,
                        signed_at=now,
                        cosigned_by=therapist if cosigned else None,
                        cosigned_at=now if cosigned else None,
                        evaluation=model.evaluation,
                        allowed_amount=model.allowed_amount,
                        sign_reason=model.sign_reason,
                    )
                )
        PlanOfCare.objects.bulk_create(plans)
        Authorization.objects.bulk_create(authorizations)
        Visit.objects.bulk_create(visit_rows, batch_size=2000)
        line_rows = []
        for visit in visit_rows:
            model = (
                models.get((visit.case.discipline, visit.visit_type))
                or models[(visit.case.discipline, "treatment")]
            )
            for line in lines_of[model.pk]:
                line_rows.append(
                    ServiceLine(
                        visit=visit,
                        position=line.position,
                        code=line.code,
                        therapist_minutes=line.therapist_minutes,
                        assistant_minutes=line.assistant_minutes,
                        baseline=line.baseline,
                        task=line.task,
                        technique=line.technique,
                        skilled=line.skilled,
                        performance=line.performance,
                        text=line.text,
                    )
                )
        ServiceLine.objects.bulk_create(line_rows, batch_size=2000)
    return {
        "patients": len(new_patients),
        "cases": len(cases),
        "visits": len(visit_rows),
        "lines": len(line_rows),
        "authorizations": len(authorizations),
        "in_treatment": sum(1 for case, _c, _s in cases if case.closed_on is None),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--patients", type=int, default=5000)
    parser.add_argument("--visits", type=int, default=50000)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--serve", action="store_true", help="(internal) a page server")
    args = parser.parse_args(argv)
    if args.serve:
        _setup_django(args.database_url, fresh=False)
        return _serve()
    if args.patients < 1 or args.visits < args.patients:
        parser.error("--patients must be >= 1 and --visits >= --patients")
    _setup_django(args.database_url)
    from django.db import connection
    from django.utils import timezone

    from handrail.web.clinic.management.commands.load_demo import DEMO_CLINIC, load_demo
    from handrail.web.clinic.models import Clinic, Patient

    _reset_database()
    started = time.perf_counter()
    load_demo()
    clinic = Clinic.objects.get(name=DEMO_CLINIC)
    demo_patients = set(Patient.objects.filter(clinic=clinic).values_list("pk", flat=True))
    _refresh_statistics()
    print(f"demo clinic loaded in {time.perf_counter() - started:.1f} s ({connection.vendor})")
    demo_patient, demo_visit = _longest_history_patient(clinic.pk, exclude=set())
    demo_pages = _pages(demo_patient, demo_visit)
    before = _measure("demo", demo_pages, args.repeat)
    demo_url = _copy_demo(args.database_url)

    started = time.perf_counter()
    grown = grow_clinic(patients=args.patients, visits=args.visits, today=timezone.localdate())
    print(f"grew the clinic in {time.perf_counter() - started:.1f} s: {grown}")
    _refresh_statistics()
    big_patient, big_visit = _longest_history_patient(clinic.pk, exclude=demo_patients)
    connection.close()
    # Every page of the demo clinic against the same page of the grown one, and the demo
    # patient's pages against those of the grown clinic's patient with the longest history.
    pages = [(page, url, url) for page, url in demo_pages]
    pages += [
        (page.replace("page", "page (longest history)"), url, big_url)
        for (page, url), (_page, big_url) in zip(
            demo_pages[-2:], _pages(big_patient, big_visit)[-2:], strict=True
        )
    ]
    print("paired timings (demo copy and grown clinic in turn):")
    demo, after = _measure_paired(
        pages, demo_url, args.database_url or f"sqlite:///{SQLITE_PATH}", args.repeat
    )
    results = after
    print()
    print(
        f"{'page':<42} {'demo ms':>9} {'grown ms':>9} {'x demo':>7} "
        f"{'cpu demo':>9} {'cpu grown':>9} {'x demo':>7} {'queries':>13}"
    )
    failed = False
    for base, timing in zip(demo, results, strict=True):
        within = timing.ratio is not None and timing.ratio <= TARGET_RATIO
        failed |= not within or timing.status != 200
        print(
            f"{timing.page:<42} {base.best_ms:9.1f} {timing.best_ms:9.1f} "
            f"{timing.ratio or 0:7.2f} {base.cpu_ms:9.1f} {timing.cpu_ms:9.1f} "
            f"{timing.cpu_ratio or 0:7.2f} {base.queries:6d}->{timing.queries:<6d}"
            f"{'' if within else '  over target'}"
        )
    report = {
        "benchmark": "data-scale",
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": f"{platform.node()} {platform.machine()} {os.cpu_count()} cpu, "
        f"Python {platform.python_version()}",
        "database": connection.vendor,
        "grown": grown,
        "target_ratio": TARGET_RATIO,
        "repeat": args.repeat,
        "demo": [asdict(t) for t in demo],
        "results": [asdict(t) for t in results],
        # The demo clinic timed in the loading process before it grew (not paired).
        "demo_before_growth": [asdict(t) for t in before],
    }
    (OUT_DIR / "data-scale.json").write_text(json.dumps(report, indent=2) + "\n")
    print(f"\nwritten to {OUT_DIR / 'data-scale.json'}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.path.insert(0, str(HERE.parent / "src"))
    sys.exit(main())

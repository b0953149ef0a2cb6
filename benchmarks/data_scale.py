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
3. The same clinic then grows by --patients synthetic patients (default 5,000) and
   --visits signed visits (default 50,000), bulk-inserted: cases over the last two years
   (most discharged, about 8% in treatment now), certified plans, a progress report every
   10th visit, authorizations for the commercial payer's patients (one in five), signed
   visits whose lines and stored evaluation are copied from the demo's signed notes, and
   assistant notes (12% of OT treatment notes), one in six of them never co-signed.
4. The same pages are timed again: the demo patient's page and note, and the page and latest
   note of the grown clinic's patient with the longest history.

"x demo" is the grown clinic's best time over the demo clinic's (target: within 2x), for the
wall time and for the process's CPU time (which, with SQLite, includes the database's work and
moves far less with other work on a shared machine; with PostgreSQL it leaves the server's
work out). Results are printed and written to benchmarks/out/data-scale.json. Not part of CI.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import secrets
import statistics
import sys
import time
from dataclasses import asdict, dataclass, replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

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


def _setup_django(database_url: str | None) -> None:
    os.environ.setdefault("SECRET_KEY", secrets.token_urlsafe(50))
    os.environ["DJANGO_SETTINGS_MODULE"] = "handrail.web.settings"
    OUT_DIR.mkdir(exist_ok=True)
    if database_url:
        os.environ["DATABASE_URL"] = database_url
    else:
        path = OUT_DIR / "data-scale.sqlite3"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        os.environ["DATABASE_URL"] = f"sqlite:///{path}"
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


def _time_page(client: Any, url: str, repeat: int) -> tuple[float, float, int, int, float]:
    from django.db import connection

    response = client.get(url)  # warm-up (template compilation, caches)
    queries: list[str] = []

    def count(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        queries.append(sql)
        return execute(sql, params, many, context)

    # An execute wrapper, not CaptureQueriesContext: the client's request_started signal
    # resets the connection's query log in the middle of the context.
    with connection.execute_wrapper(count):
        response = client.get(url)
    times = []
    cpu = []
    for _ in range(repeat):
        start, start_cpu = time.perf_counter(), time.process_time()
        client.get(url)
        times.append((time.perf_counter() - start) * 1000)
        cpu.append((time.process_time() - start_cpu) * 1000)
    # The best of the repeats: on a shared machine the others measure the neighbours' load.
    return min(times), statistics.median(times), len(queries), response.status_code, min(cpu)


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


def _measure(clinic: str, pages: list[tuple[str, str]], repeat: int) -> list[Timing]:
    from django.test import Client

    from handrail.web.clinic import two_factor
    from handrail.web.clinic.models import User

    client = Client()
    client.force_login(User.objects.get(username="biller"))
    # The biller's sign-in is finished (billers give a TOTP code after the password).
    session = client.session
    session[two_factor.SESSION_KEY] = two_factor.VERIFIED
    session.save()
    out = []
    for page, url in pages:
        best, median, queries, status, cpu = _time_page(client, url, repeat)
        out.append(
            Timing(
                clinic,
                page,
                url,
                round(best, 1),
                round(median, 1),
                queries,
                status,
                cpu_ms=round(cpu, 1),
            )
        )
        print(
            f"  {clinic:<6} {page:<28} {best:9.1f} ms {cpu:9.1f} ms cpu "
            f"{queries:6d} queries  {status}"
        )
    return out


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
    args = parser.parse_args(argv)
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
    demo = _measure("demo", _pages(demo_patient, demo_visit), args.repeat)

    started = time.perf_counter()
    grown = grow_clinic(patients=args.patients, visits=args.visits, today=timezone.localdate())
    print(f"grew the clinic in {time.perf_counter() - started:.1f} s: {grown}")
    _refresh_statistics()
    big_patient, big_visit = _longest_history_patient(clinic.pk, exclude=demo_patients)
    after = _measure("grown", _pages(demo_patient, demo_visit), args.repeat)
    extra = _measure("grown", _pages(big_patient, big_visit)[-2:], args.repeat)
    extra = [replace(t, page=t.page.replace("page", "page (longest history)")) for t in extra]
    by_page = {t.page: t for t in demo}
    results = []
    for timing in after + extra:
        base = by_page[timing.page.replace(" (longest history)", "")]
        results.append(
            replace(
                timing,
                ratio=round(timing.best_ms / base.best_ms, 2) if base.best_ms else None,
                cpu_ratio=round(timing.cpu_ms / base.cpu_ms, 2) if base.cpu_ms else None,
            )
        )
    print()
    print(
        f"{'page':<42} {'demo ms':>9} {'grown ms':>9} {'x demo':>7} "
        f"{'cpu demo':>9} {'cpu grown':>9} {'x demo':>7} {'queries':>13}"
    )
    failed = False
    for timing in results:
        base = by_page[timing.page.replace(" (longest history)", "")]
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
        "demo": [asdict(t) for t in demo],
        "results": [asdict(t) for t in results],
    }
    (OUT_DIR / "data-scale.json").write_text(json.dumps(report, indent=2) + "\n")
    print(f"\nwritten to {OUT_DIR / 'data-scale.json'}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.path.insert(0, str(HERE.parent / "src"))
    sys.exit(main())

"""Library search benchmark (issue 8): the builder's search over 5,000 library entries.

    make benchmark-library
    .venv/bin/python benchmarks/library_search.py [--entries 5000] [--repeat 15]

A fresh SQLite database in benchmarks/out/ is migrated (which syncs the 175 built-in
entries), a clinic is created and the library grows to --entries entries with clinic entries
made from the built-ins' text (title, summary, topics, regions, equipment and code varied so
words still match a share of them). Then each query of QUERIES runs --repeat times through
`handrail.web.programs.selectors.library_page` (the builder's first page of 50 results,
rows fetched), and the best and median times are reported against a floor measured in the
same run: the same page of 50 rows read with no condition at all (one indexed scan and the
fetch). Results go to stdout and benchmarks/out/library-search.json. Not part of CI.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import secrets
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
OUT_DIR = HERE / "out"
QUERIES: tuple[dict[str, str], ...] = (
    {"words": "shoulder"},
    {"words": "tub transfer bench"},
    {"words": "hip precautions", "kind": "self_care"},
    {"kind": "exercise", "code": "97110"},
    {"region": "knee"},
    {"equipment": "elastic band"},
    {"words": "no such words anywhere"},
)


def _setup_django() -> None:
    os.environ.setdefault("SECRET_KEY", secrets.token_urlsafe(50))
    os.environ["DJANGO_SETTINGS_MODULE"] = "handrail.web.settings"
    OUT_DIR.mkdir(exist_ok=True)
    path = OUT_DIR / "library-search.sqlite3"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    os.environ["DATABASE_URL"] = f"sqlite:///{path}"
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def _grow(total: int) -> Any:
    from handrail.web.clinic.models import Role
    from handrail.web.clinic.services import clinic_create, user_create
    from handrail.web.programs.models import EntrySource, LibraryEntry
    from handrail.web.programs.services import search_text_of

    clinic = clinic_create(name="Benchmark Rehab (synthetic)", zip="62701")
    user = user_create(
        clinic=clinic,
        username="bench",
        password=secrets.token_urlsafe(16),
        role=Role.THERAPIST,
        discipline="PT",
    )
    builtins = list(LibraryEntry.objects.filter(clinic__isnull=True))
    rows = []
    for n in range(total - len(builtins)):
        base = builtins[n % len(builtins)]
        title = f"{base.title} variant {n}"
        lists = {name: getattr(base, name) for name in ("regions", "equipment", "topics")}
        rows.append(
            LibraryEntry(
                clinic=clinic,
                key=f"c{clinic.pk}-bench-{n}",
                source=EntrySource.CLINIC,
                title=title,
                kind=base.kind,
                summary=base.summary,
                regions=base.regions,
                disciplines=base.disciplines,
                position=base.position,
                equipment=base.equipment,
                steps=base.steps,
                cues=base.cues,
                precautions=base.precautions,
                billing_code=base.billing_code,
                topics=base.topics,
                search_text=search_text_of(
                    title, base.summary, base.kind, base.billing_code, lists
                ),
                **{name: getattr(base, name) for name in ("sets", "reps", "minutes")},
            )
        )
    LibraryEntry.objects.bulk_create(rows, batch_size=500)
    return user


def _time(call: Callable[[], int], repeat: int) -> tuple[float, float, int]:
    call()  # warm-up
    times, count = [], 0
    for _ in range(repeat):
        start = time.perf_counter()
        count = call()
        times.append((time.perf_counter() - start) * 1000)
    return min(times), statistics.median(times), count


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=5000)
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args(argv)
    sys.path.insert(0, str(HERE.parent / "src"))
    _setup_django()
    from handrail.web.programs.models import LibraryEntry
    from handrail.web.programs.selectors import LibraryQuery, library_page

    user = _grow(args.entries)
    total = LibraryEntry.objects.count()
    floor_best, floor_median, _ = _time(
        lambda: len(list(LibraryEntry.objects.order_by("title", "id")[:50])), args.repeat
    )
    results: list[dict[str, Any]] = []
    print(f"Library search over {total} entries (SQLite), best of {args.repeat}:")
    print(f"  floor (first 50 rows, no condition): {floor_best:.2f} ms")
    for spec in QUERIES:
        query = LibraryQuery(**spec)
        best, median, count = _time(
            lambda q=query: len(library_page(user=user, query=q)), args.repeat
        )
        results.append(
            {
                "query": spec,
                "best_ms": round(best, 3),
                "median_ms": round(median, 3),
                "results": count,
                "ratio_to_floor": round(best / floor_best, 2),
            }
        )
        print(
            f"  {json.dumps(spec):<48} {best:7.2f} ms  {best / floor_best:5.2f} x floor  ({count})"
        )
    report = {
        "entries": total,
        "repeat": args.repeat,
        "floor_best_ms": round(floor_best, 3),
        "floor_median_ms": round(floor_median, 3),
        "queries": results,
        "python": platform.python_version(),
        "machine": platform.machine(),
    }
    (OUT_DIR / "library-search.json").write_text(json.dumps(report, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Batch throughput benchmark (issue #2 "Speed"): `handrail batch` against a plain-JSON floor.

    make benchmark
    .venv/bin/python benchmarks/batch_throughput.py --visits 200000

Steps, for N/4 and N visits (default N = 200,000):
1. Generate N synthetic visits deterministically (benchmarks/generate_visits.py, seeded)
   into benchmarks/out/visits-<N>-seed<S>.jsonl (kept and reused while the generator and
   seed are unchanged).
2. The floor (best of --floor-repeat runs, default 3): a fresh Python process reads the file
   line by line with `json.loads` and writes each record back with `json.dumps` (no rules at
   all): the plain-JSON floor; `handrail batch` is reported as a multiple of it.
   When orjson is installed, the same floor with orjson is shown too (the batch may use it);
   the "x floor" ratios stay against the json-module floor.
3. `handrail batch IN.jsonl -o OUT.jsonl` (the console script of the project venv), once;
   output lines with "ok": false are counted as visits the batch refused. Runs on a
   one-visit file first show the fixed cost (start-up and table loading): "handrail cold"
   is the first process in the benchmark's new data folder (it also writes the ICD-10-CM
   index to the folder's cache), "handrail start" a later one, as every batch run is.

Each step runs in its own child process; wall time is measured around it and peak RSS is the
child's `ru_maxrss` from `os.wait4` (the per-child form of `resource.getrusage`
(RUSAGE_CHILDREN), which only keeps the largest child ever seen). Memory is "flat" when the
peak RSS at N is at most 1.5x the peak at N/4 (the input grows 4x).

"cpu s" is the child's user + system CPU time and "cpu x fl" its ratio to the floor's: on a
busy machine they vary far less than wall time. "net v/s" is the batch's visits per second
once the one-visit start-up time is taken off.

Results are printed as a table and written to benchmarks/out/latest.json.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib
import importlib.util
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
OUT_DIR = HERE / "out"
DEFAULT_HANDRAIL = REPO / ".venv" / "bin" / "handrail"
HAVE_ORJSON = importlib.util.find_spec("orjson") is not None
FLAT_MEMORY_RATIO = 1.5  # peak RSS at N may grow at most this much over N/4

sys.path.insert(0, str(HERE))
import generate_visits  # noqa: E402  (a sibling script, not an installed package)


@dataclass(frozen=True, slots=True)
class Run:
    # "json floor" | "orjson floor" | "handrail cold" / "handrail start" (one visit, first and
    # later process in the data folder) | "handrail batch"
    step: str
    visits: int
    ok: bool
    wall_s: float
    peak_rss_mb: float
    visits_per_s: float
    output_lines: int
    command: list[str]
    error: str = ""
    ratio_to_floor: float | None = None
    rejected: int | None = None  # output lines with "ok": false (visits the batch refused)
    net_visits_per_s: float | None = None  # visits / (wall - one-visit start-up wall)
    cpu_s: float = 0.0  # the child's user + system CPU time: steadier than wall on a busy machine
    cpu_ratio_to_floor: float | None = None


def json_floor(source: Path, target: Path) -> int:
    """Read `source` line by line with json.loads, write each record with json.dumps."""
    count = 0
    with source.open(encoding="utf-8") as lines, target.open("w", encoding="utf-8") as out:
        for line in lines:
            if line.strip():
                out.write(json.dumps(json.loads(line)) + "\n")
                count += 1
    return count


def orjson_floor(source: Path, target: Path) -> int:
    """The same floor with orjson (bytes in, bytes out), for a batch that reads with orjson."""
    orjson: Any = importlib.import_module("orjson")
    count = 0
    with source.open("rb") as lines, target.open("wb") as out:
        for line in lines:
            if line.strip():
                out.write(orjson.dumps(orjson.loads(line)) + b"\n")
                count += 1
    return count


def _count_lines(path: Path) -> int:
    if not path.exists():
        return 0
    with path.open("rb") as handle:
        return sum(1 for _ in handle)


def count_rejected(path: Path) -> int | None:
    """Output lines that are JSON objects with "ok": false; None if the output is not like that."""
    if not path.exists():
        return None
    rejected = 0
    with path.open(encoding="utf-8") as lines:
        for line in lines:
            try:
                record = json.loads(line)
            except ValueError:
                return None
            if not isinstance(record, dict) or "ok" not in record:
                return None
            rejected += record["ok"] is False
    return rejected


def _error_tail(path: Path) -> str:
    text = path.read_text(encoding="utf-8", errors="replace").strip() if path.exists() else ""
    return text.splitlines()[-1][:300] if text else ""


def measure(step: str, command: list[str], visits: int, output: Path, log: Path) -> Run:
    """Run `command` as a child process; wall time and the child's own peak RSS."""
    output.unlink(missing_ok=True)
    with log.open("w", encoding="utf-8") as err:
        started = time.perf_counter()
        child = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=err, cwd=REPO)
        _, status, usage = os.wait4(child.pid, 0)
        wall = time.perf_counter() - started
    child.returncode = os.waitstatus_to_exitcode(status)
    peak_mb = usage.ru_maxrss / 1024  # Linux reports kilobytes
    ok = child.returncode == 0
    error = "" if ok else f"exit {child.returncode}: {_error_tail(log)}"
    return Run(
        step=step,
        visits=visits,
        ok=ok,
        wall_s=round(wall, 3),
        cpu_s=round(usage.ru_utime + usage.ru_stime, 3),
        peak_rss_mb=round(peak_mb, 1),
        visits_per_s=round(visits / wall, 1) if ok and wall > 0 else 0.0,
        output_lines=_count_lines(output),
        command=command,
        error=error,
    )


def _generator_digest(seed: int) -> str:
    source = (HERE / "generate_visits.py").read_bytes()
    return hashlib.sha256(source + str(seed).encode()).hexdigest()[:12]


def visits_file(count: int, seed: int) -> tuple[Path, float | None]:
    """The visits file for `count` and `seed`, generated unless an identical one exists."""
    path = OUT_DIR / f"visits-{count}-seed{seed}-{_generator_digest(seed)}.jsonl"
    if path.exists():
        return path, None
    for stale in OUT_DIR.glob(f"visits-{count}-seed{seed}-*.jsonl"):
        stale.unlink()  # made by an older generator
    started = time.perf_counter()
    partial = path.with_suffix(".partial")
    generate_visits.write_visits(partial, count, seed)
    partial.replace(path)
    return path, round(time.perf_counter() - started, 3)


def find_handrail(explicit: str | None) -> Path | None:
    if explicit:
        return Path(explicit)
    if DEFAULT_HANDRAIL.exists():
        return DEFAULT_HANDRAIL
    found = shutil.which("handrail")
    return Path(found) if found else None


def _fmt(value: float | None, pattern: str) -> str:
    return "-" if value is None else format(value, pattern)


def print_table(runs: list[Run]) -> None:
    header = (
        f"{'visits':>9}  {'step':<15} {'wall s':>8} {'visits/s':>10} {'net v/s':>10} "
        f"{'peak RSS MB':>11} {'x floor':>8} {'cpu s':>8} {'cpu x fl':>8}  status"
    )
    print(header)
    print("-" * len(header))
    for run in runs:
        status = "ok" if run.ok else f"FAILED ({run.error})"
        if run.ok and run.output_lines != run.visits:
            status = f"ok, {run.output_lines:,} output lines"
        if run.ok and run.rejected:
            status += f", {run.rejected:,} visits refused"
        speed = format(run.visits_per_s, ",.0f") if run.ok and run.visits > 1 else "-"
        print(
            f"{run.visits:>9,}  {run.step:<15} {run.wall_s:>8.2f} {speed:>10} "
            f"{_fmt(run.net_visits_per_s, ',.0f'):>10} "
            f"{run.peak_rss_mb:>11.1f} {_fmt(run.ratio_to_floor, '.2f'):>8} {run.cpu_s:>8.2f} "
            f"{_fmt(run.cpu_ratio_to_floor, '.2f'):>8}  {status}"
        )


def _memory_verdict(runs: list[Run], step: str) -> dict[str, Any] | None:
    done = sorted((run for run in runs if run.step == step and run.ok), key=lambda r: r.visits)
    if len(done) < 2:
        return None
    small, large = done[0], done[-1]
    ratio = large.peak_rss_mb / small.peak_rss_mb if small.peak_rss_mb else float("inf")
    return {
        "step": step,
        "visits": [small.visits, large.visits],
        "peak_rss_mb": [small.peak_rss_mb, large.peak_rss_mb],
        "ratio": round(ratio, 3),
        "flat": ratio <= FLAT_MEMORY_RATIO,
    }


def _batch_run(
    handrail: Path, source: Path, size: int, floor: Run, runs: list[Run], *, keep: bool
) -> Run:
    batch_out = OUT_DIR / f"batch-{size}.jsonl"
    batch = measure(
        "handrail batch",
        [str(handrail), "batch", str(source), "-o", str(batch_out)],
        size,
        batch_out,
        OUT_DIR / f"batch-{size}.log",
    )
    extra: dict[str, Any] = {"rejected": count_rejected(batch_out)}
    if batch.ok and floor.ok and floor.wall_s > 0:
        extra["ratio_to_floor"] = round(batch.wall_s / floor.wall_s, 2)
    if batch.ok and floor.ok and floor.cpu_s > 0:
        extra["cpu_ratio_to_floor"] = round(batch.cpu_s / floor.cpu_s, 2)
    start = next((run for run in runs if run.step == "handrail start" and run.ok), None)
    if batch.ok and start is not None and batch.wall_s > start.wall_s:
        extra["net_visits_per_s"] = round(size / (batch.wall_s - start.wall_s), 1)
    if not keep:
        batch_out.unlink(missing_ok=True)
    return Run(**{**asdict(batch), **extra})


SHARED_CMS = REPO.parent / "shared" / "data" / "cms"
LOCALITY_FILES = (("gpci", "GPCI2025.csv"), ("gpci", "GPCI2026.csv"), ("zip5", "ZIP5_OCT2025.txt"))


def import_locality_files(handrail: Path) -> str:
    """Import the CMS GPCI and ZIP5 files into a benchmark data folder, as a clinic would.

    Handrail ships the same tables built in; importing them measures the path of a clinic
    that keeps its own (imports win). The batch children inherit HANDRAIL_DATA_DIR.
    """
    paths = [(kind, SHARED_CMS / name) for kind, name in LOCALITY_FILES]
    if not all(path.is_file() for _, path in paths):
        return f"none ({SHARED_CMS} not found): visits with a ZIP or locality priced nationally"
    folder = OUT_DIR / "data"
    shutil.rmtree(folder, ignore_errors=True)
    os.environ["HANDRAIL_DATA_DIR"] = str(folder)
    for kind, path in paths:
        subprocess.run(
            [str(handrail), "data", "import", kind, str(path)],
            check=True,
            stdout=subprocess.DEVNULL,
        )
    return "CMS GPCI2025, GPCI2026 and ZIP5 2025Q4 imported"


def run_benchmark(
    visits: int, seed: int, handrail: Path | None, *, keep: bool = False, floor_repeat: int = 3
) -> dict[str, Any]:
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    load_before = os.getloadavg()
    sizes = sorted({max(1, visits // 4), visits})
    runs: list[Run] = []
    generated: dict[int, float | None] = {}
    handrail_note = ""
    if handrail is None or not handrail.exists():
        handrail_note = (
            f"handrail console script not found ({handrail or DEFAULT_HANDRAIL}); "
            "run `make install` once the CLI exists"
        )
    locality_data = "none: visits with a ZIP or locality are priced nationally"
    if not handrail_note and handrail is not None:
        locality_data = import_locality_files(handrail)
        # Fixed cost: start-up and table loading, measured on a one-visit file. The first
        # process in a new data folder also builds the ICD-10-CM index ("handrail cold");
        # every later one reads it ("handrail start").
        one, _ = visits_file(1, seed)
        startup_out = OUT_DIR / "startup-1.jsonl"
        for step in ("handrail cold", "handrail start"):
            runs.append(
                measure(
                    step,
                    [str(handrail), "batch", str(one), "-o", str(startup_out)],
                    1,
                    startup_out,
                    OUT_DIR / "startup-1.log",
                )
            )
        startup_out.unlink(missing_ok=True)
    for size in sizes:
        source, generation_s = visits_file(size, seed)
        generated[size] = generation_s
        floor_out = OUT_DIR / f"floor-{size}.jsonl"
        floor_command = [sys.executable, str(Path(__file__).resolve()), "--floor"]
        floor_command += [str(source), str(floor_out)]
        floor_log = OUT_DIR / f"floor-{size}.log"
        floor = min(
            (
                measure("json floor", floor_command, size, floor_out, floor_log)
                for _ in range(floor_repeat)
            ),
            key=lambda run: (not run.ok, run.wall_s),
        )
        runs.append(floor)
        if HAVE_ORJSON:
            fast_command = [sys.executable, str(Path(__file__).resolve()), "--floor-orjson"]
            fast_command += [str(source), str(floor_out)]
            runs.append(measure("orjson floor", fast_command, size, floor_out, floor_log))
        if not handrail_note and handrail is not None:
            runs.append(_batch_run(handrail, source, size, floor, runs, keep=keep))
        if not keep:
            floor_out.unlink(missing_ok=True)
    return {
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "visits": visits,
        "seed": seed,
        "sizes": sizes,
        "generation_s": {str(size): value for size, value in generated.items()},
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "cpu_count": os.cpu_count(),
        "load_average_1m": [round(load_before[0], 2), round(os.getloadavg()[0], 2)],
        "floor_repeat": floor_repeat,
        "handrail": str(handrail) if handrail else None,
        "handrail_note": handrail_note,
        "locality_data": locality_data,
        "runs": [asdict(run) for run in runs],
        "memory": {
            "floor": _memory_verdict(runs, "json floor"),
            "handrail batch": _memory_verdict(runs, "handrail batch"),
            "flat_ratio_limit": FLAT_MEMORY_RATIO,
        },
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Batch throughput: handrail batch vs JSON floor")
    parser.add_argument("--visits", type=int, default=generate_visits.DEFAULT_VISITS)
    parser.add_argument("--seed", type=int, default=generate_visits.DEFAULT_SEED)
    parser.add_argument("--handrail", help="path of the handrail console script")
    parser.add_argument("--keep", action="store_true", help="keep the output JSONL files")
    parser.add_argument(
        "--floor-repeat", type=int, default=3, help="run the floor this many times, keep the best"
    )
    parser.add_argument("--floor", nargs=2, metavar=("IN", "OUT"), help=argparse.SUPPRESS)
    parser.add_argument("--floor-orjson", nargs=2, metavar=("IN", "OUT"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.floor:
        json_floor(Path(args.floor[0]), Path(args.floor[1]))
        return 0
    if args.floor_orjson:
        orjson_floor(Path(args.floor_orjson[0]), Path(args.floor_orjson[1]))
        return 0
    if args.visits < 4:
        parser.error("--visits must be 4 or more (the benchmark also runs N/4)")
    if args.floor_repeat < 1:
        parser.error("--floor-repeat must be 1 or more")
    result = run_benchmark(
        args.visits,
        args.seed,
        find_handrail(args.handrail),
        keep=args.keep,
        floor_repeat=args.floor_repeat,
    )
    runs = [Run(**run) for run in result["runs"]]
    print_table(runs)
    for name, verdict in result["memory"].items():
        if isinstance(verdict, dict):
            small, large = verdict["peak_rss_mb"]
            flat = "flat" if verdict["flat"] else "NOT flat"
            print(
                f"memory {name}: {small:.1f} MB at {verdict['visits'][0]:,} visits, "
                f"{large:.1f} MB at {verdict['visits'][1]:,} (x{verdict['ratio']:.2f}): {flat}"
            )
    low, high = result["load_average_1m"]
    print(f"load average (1 min) before/after: {low} / {high} on {result['cpu_count']} CPUs")
    if result["handrail_note"]:
        print(f"note: {result['handrail_note']}")
    latest = OUT_DIR / "latest.json"
    latest.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {latest.relative_to(REPO)}")
    return 0 if all(run.ok for run in runs) else 1


if __name__ == "__main__":
    sys.exit(main())

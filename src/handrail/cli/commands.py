"""The CLI commands: parse arguments, call the engine or the data store, render the answer."""

from __future__ import annotations

import argparse
import gc
import json
import sys
import time
from collections import Counter
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import date
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import IO, Any, TextIO

import orjson

from handrail.cli import render
from handrail.cli.errors import EXIT_OK, CliError
from handrail.officialdata import load_ruleset
from handrail.officialdata.errors import OfficialDataError
from handrail.officialdata.store import data_dir
from handrail.rules.catalog import code_spec
from handrail.rules.model import RuleInputError, printable
from handrail.rules.pricing import price_code
from handrail.rules.ruleset import RuleSet
from handrail.rules.units import apply_units, merge_minutes
from handrail.rules.visit import evaluate_visit
from handrail.rules.visit_record import parse_date, parse_minutes, visit_record_from_dict


def _rules() -> RuleSet:
    return _rules_in(data_dir())


@cache
def _rules_in(directory: Path) -> RuleSet:
    # One load per data directory; `data import` clears it so the new release is seen.
    return load_ruleset(data_dir=directory)


def _date(value: str | None) -> date:
    return date.today() if value is None else parse_date(value, "--date")


def _emit(args: argparse.Namespace, document: dict[str, Any], text: str) -> int:
    if args.json:
        json.dump(document, sys.stdout, ensure_ascii=False)
        sys.stdout.write("\n")
    else:
        sys.stdout.write(text)
    return EXIT_OK


# handrail units
def units(args: argparse.Namespace) -> int:
    on = _date(args.date)
    items = [_code_minutes(item, on) for item in args.items]
    result = apply_units(merge_minutes(items), args.rule)
    return _emit(args, result.to_dict(), render.units(result))


def _code_minutes(item: str, on: date) -> tuple[str, int]:
    code, sep, minutes = item.partition("=")
    if not sep or not code or not minutes:
        raise CliError(f"{item!r}: write each service as CODE=MINUTES, e.g. 97535=23")
    spec = code_spec(code, field=item)
    if spec.valid_from and on < spec.valid_from:
        raise CliError(f"{item}: {spec.code} did not exist before {spec.valid_from}")
    try:
        number = int(minutes)
    except ValueError:
        raise CliError(f"{item}: minutes must be a whole number, e.g. {code}=23") from None
    return spec.code, parse_minutes(number, item)


# handrail price
_PRICE_OPTIONS = {"code": "CODE", "units": "--units", "locality": "--locality", "zip": "--zip"}


def price(args: argparse.Namespace) -> int:
    on = _date(args.date)
    try:
        priced = price_code(
            _rules().fees,
            args.code,
            on,
            units=args.units,
            locality=args.locality,
            zip5=args.zip,
            facility=args.facility,
            qp=args.qp,
        )
    except RuleInputError as error:
        option = _PRICE_OPTIONS.get(error.field)
        if option is None:
            raise
        raise CliError(f"{option}: {error.message}") from None
    row, place = priced.row, priced.place
    document: dict[str, Any] = {
        "code": priced.code,
        "year": on.year,
        "date": on.isoformat(),
        "locality": place.key,
        "locality_name": place.name,
        "status": row.status,
        "paid": priced.status.paid,
        "rate": "facility" if priced.facility_rate else "non-facility",
        "rvu": {"work": float(row.work), "pe": float(priced.pe), "mp": float(row.mp)},
        "gpci": {"work": float(place.work), "pe": float(place.pe), "mp": float(place.mp)},
        "conversion_factor": float(priced.factor.amount),
        "units": priced.units,
        "unit_amount": float(priced.unit_amount),
        "amount": float(priced.amount),
        "amount_with_mppr": float(priced.amount_with_mppr),
        "release": row.release.label,
        "source": priced.source,
    }
    if priced.notes:
        document["note"] = " ".join(priced.notes)
    return _emit(args, document, render.price(document, priced.summary))


# handrail edits
def edits(args: argparse.Namespace) -> int:
    on = _date(args.date)
    codes = list(dict.fromkeys(code_spec(code, field="CODE").code for code in args.codes))
    rules = _rules()
    pairs = [
        {
            "column1": pair.column1,
            "column2": pair.column2,
            "modifier_indicator": pair.modifier_indicator,
            "rationale": pair.rationale,
            "source": pair.release.label + _unverified(pair.release.source.verified),
        }
        for pair in rules.edits.ptp_pairs(codes, on)
    ]
    mues = []
    for code in codes:
        edit = rules.edits.mue(code, on)
        if edit is not None:
            mues.append(
                {
                    "code": code,
                    "max_units": edit.max_units,
                    "adjudication_indicator": edit.adjudication_indicator,
                    "rationale": edit.rationale,
                    "source": edit.release.label + _unverified(edit.release.source.verified),
                }
            )
    document = {"date": on.isoformat(), "pairs": pairs, "mue": mues}
    return _emit(args, document, render.edits(document))


def _unverified(verified: bool) -> str:
    return "" if verified else " [unverified]"


# handrail visit
def visit(args: argparse.Namespace) -> int:
    name, text = _read_source(args.file)
    data = _load_json(text, name)
    result = evaluate_visit(visit_record_from_dict(data), _rules())
    return _emit(args, result.to_dict(), render.visit(result))


def _read_source(path: str) -> tuple[str, str]:
    if path == "-":
        # Read bytes and decode ourselves: the terminal's encoding must not decide.
        try:
            return "<stdin>", sys.stdin.buffer.read().decode("utf-8")
        except UnicodeDecodeError:
            raise CliError("<stdin>: not UTF-8 text; send the visit as UTF-8 JSON") from None
    try:
        return path, Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise CliError(f"{path}: no such file") from None
    except UnicodeDecodeError:
        raise CliError(f"{path}: not UTF-8 text; save the visit as UTF-8 JSON") from None
    except OSError as error:
        raise CliError(f"{path}: cannot read ({error.strerror})") from None


def _load_json(text: str, name: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise CliError(
            f"{name}: line {error.lineno} column {error.colno}: invalid JSON ({error.msg})"
        ) from None
    except ValueError:  # json.loads refuses integers past Python's 4300-digit limit
        raise CliError(f"{name}: invalid JSON (a number with thousands of digits)") from None
    except RecursionError:
        raise CliError(f"{name}: invalid JSON (nested too deeply to be a visit)") from None


# handrail batch
def batch(args: argparse.Namespace) -> int:
    source = Path(args.input)
    if not source.is_file():
        raise CliError(f"{args.input}: no such file")
    rules = _rules()
    started = time.perf_counter()
    counts = {"visits": 0, "ok": 0, "errors": 0}
    scrub = _Scrub()
    with source.open(encoding="utf-8", errors="replace") as handle:
        out, close = _batch_output(args.output)
        try:
            for record in _batch_records(handle, source, rules):
                counts["visits"] += 1
                if record["ok"]:
                    counts["ok"] += 1
                    scrub.add(record["result"])
                else:
                    counts["errors"] += 1
                out.write(_batch_dumps(record))
        finally:
            if close:
                out.close()
    seconds = time.perf_counter() - started
    summary: dict[str, Any] = {
        **counts,
        "seconds": round(seconds, 3),
        "visits_per_second": round(counts["visits"] / seconds, 1) if seconds else None,
        "output": args.output or "<stdout>",
        **scrub.to_dict(),
    }
    if args.output is None:
        print(render.batch_summary(summary), file=sys.stderr)
        return EXIT_OK
    return _emit(args, summary, render.batch_summary(summary) + "\n")


_SEVERITY_RANK = {"error": 0, "warning": 1, "info": 2}


class _Scrub:
    """What a biller reads first after a scrub run: the allowed total of the evaluated
    visits, how many of them have an error finding (will deny as they stand), and how often
    each finding fired."""

    def __init__(self) -> None:
        self.allowed_cents = 0
        self.visits_with_errors = 0
        self.by_rule: Counter[tuple[str, str]] = Counter()

    def add(self, result: dict[str, Any]) -> None:
        # Cents as integers: adding 200,000 float amounts would drift.
        self.allowed_cents += round(result["payment"]["allowed"] * 100)
        blocked = False
        for finding in result["findings"]:
            self.by_rule[(finding["rule"], finding["severity"])] += 1
            blocked = blocked or finding["severity"] == "error"
        self.visits_with_errors += blocked

    def to_dict(self) -> dict[str, Any]:
        # Errors first (they deny), then warnings, then information; most frequent first.
        ranked = sorted(
            self.by_rule.items(),
            key=lambda item: (_SEVERITY_RANK[item[0][1]], -item[1], item[0][0]),
        )
        return {
            "allowed_total": float(Decimal(self.allowed_cents) / 100),
            "visits_with_error_findings": self.visits_with_errors,
            "findings": [
                {"rule": rule, "severity": severity, "count": count}
                for (rule, severity), count in ranked
            ],
        }


def _batch_output(path: str | None) -> tuple[IO[str], bool]:
    if path is None:
        return sys.stdout, False
    try:
        return open(path, "w", encoding="utf-8"), True  # noqa: SIM115 - closed by the caller
    except OSError as error:
        raise CliError(f"{path}: cannot write ({error.strerror})") from None


def _batch_records(handle: TextIO, source: Path, rules: RuleSet) -> Iterator[dict[str, Any]]:
    lines: Iterable[str] = handle
    if sys.stderr.isatty():
        from tqdm import tqdm

        lines = tqdm(handle, desc="visits", unit=" visits", file=sys.stderr)
    with _batch_garbage_collection():
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            yield _batch_one(line, number, source, rules)
            if number % COLLECT_EVERY == 0:
                gc.collect()


# Each visit's objects are freed by reference counting (a batch of 20,000 visits leaves no
# cycle for the collector), so the collector's automatic passes, which walk the rule tables
# and caches again and again, are pure cost. They are paused for the batch; a collection
# every COLLECT_EVERY lines still bounds memory should some input ever make cycles.
COLLECT_EVERY = 10_000


@contextmanager
def _batch_garbage_collection() -> Iterator[None]:
    was_enabled = gc.isenabled()
    gc.collect()
    gc.freeze()  # the start-up objects (rule tables, code index) are never garbage
    gc.disable()
    try:
        yield
    finally:
        gc.unfreeze()
        if was_enabled:
            gc.enable()


def _batch_one(line: str, number: int, source: Path, rules: RuleSet) -> dict[str, Any]:
    try:
        data = _batch_loads(line)
    except json.JSONDecodeError as error:
        return _batch_error(number, "line", f"invalid JSON at column {error.colno} ({error.msg})")
    except ValueError:  # an integer past Python's 4300-digit limit
        return _batch_error(number, "line", "invalid JSON (a number with thousands of digits)")
    except RecursionError:
        return _batch_error(number, "line", "invalid JSON (nested too deeply to be a visit)")
    try:
        result = evaluate_visit(visit_record_from_dict(data), rules)
    except RuleInputError as error:
        return _batch_error(number, error.field, error.message)
    except Exception as error:  # a defect must cost one line's answer, not the whole batch
        message = f"internal error ({type(error).__name__}: {error}); please report it"
        return _batch_error(number, "internal", printable(message))
    return {"line": number, "ok": True, "result": result.to_dict()}


# The batch reads and writes JSON with orjson (about 2x faster to read, 10x to write) but its
# answers must stay exactly those of the stdlib json module: same values read, same bytes
# written. orjson is used only where the two provably agree; everything else goes to json.
#
# Reading: orjson rejects what json accepts beyond RFC 8259 (NaN, Infinity, lone surrogates,
# a BOM, 1e400) and then json.loads gives the answer (or the usual error message). Floats
# are read to the same nearest double. The one case where orjson accepts but reads
# differently is an integer outside -2**63 .. 2**64-1 (it becomes a float); every such
# integer has 19 digits or more (-9223372036854775809), so a line with 19 digits in a row
# goes to json.loads. The check maps every byte to "0" (a digit) or " " (anything else) in C,
# which is far cheaper than a regular expression over the line.
_DIGIT_MAP = bytes(0x30 if 0x30 <= byte <= 0x39 else 0x20 for byte in range(256))
_LONG_DIGIT_RUN = b"0" * 19


def _batch_loads(line: str) -> Any:
    raw = line.encode("utf-8", "surrogatepass")
    if _LONG_DIGIT_RUN not in raw.translate(_DIGIT_MAP):
        try:
            return orjson.loads(raw)
        except orjson.JSONDecodeError:
            pass
    return json.loads(line)


# Writing: both print a float as its shortest round-trip digits, except that orjson writes
# small magnitudes as "0.00001" or "2.5e-7" where json writes "1e-05" and "2.5e-07"; output
# holding "0.0000" or a digit before "e-" (a false alarm inside a text is harmless) is
# written by json. Strings agree with ensure_ascii=False; orjson refuses lone surrogates and
# integers past 64 bits, which json.dumps then writes.
def _batch_dumps(record: dict[str, Any]) -> str:
    try:
        data = orjson.dumps(record, option=orjson.OPT_APPEND_NEWLINE)
    except orjson.JSONEncodeError:
        data = None
    if data is None or _may_differ_from_json(data):
        return json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n"
    return data.decode()


def _may_differ_from_json(data: bytes) -> bool:
    if b"0.0000" in data:
        return True
    at = data.find(b"e-")
    while at > 0:
        if data[at - 1] in _DIGITS:
            return True
        at = data.find(b"e-", at + 2)
    return False


_DIGITS = frozenset(b"0123456789")


def _batch_error(number: int, field: str, message: str) -> dict[str, Any]:
    return {"line": number, "ok": False, "error": {"field": field, "message": message}}


# handrail data import / status
def data_import(args: argparse.Namespace) -> int:
    from handrail.officialdata.service import run_import

    effective = parse_date(args.effective, "--effective") if args.effective else None
    try:
        summary = run_import(args.kind, args.file, release=args.release, effective=effective)
    except OfficialDataError as error:
        raise CliError(str(error)) from None
    _rules_in.cache_clear()
    document = summary.to_dict()
    return _emit(args, document, render.data_import(document))


def data_status(args: argparse.Namespace) -> int:
    from handrail.officialdata.service import data_status as status

    try:
        releases = [release.to_dict() for release in status()]
    except OfficialDataError as error:
        raise CliError(str(error)) from None
    document = {"releases": releases}
    return _emit(args, document, render.data_status(releases))

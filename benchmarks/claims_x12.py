"""X12 benchmark (issue 9): writing a 10,000-claim 837P and reading + balancing a 10,000-claim
835, each against pyx12's own validation of the same file, in one run.

    make benchmark-claims
    .venv/bin/python benchmarks/claims_x12.py --claims 10000

The claims are synthetic (`handrail.claims.synthetic`: 1-3 therapy lines each, one clinic,
Medicare); the 835 pays every line (CO-45, PR-2) and is written with
`handrail.claims.x835_write`. Timed:
- write: `write_837p` (Handrail's checks of every claim, then the file);
- read: `read_835`, which runs pyx12's validation first and then parses and balances every
  line, claim and the payment, so it costs at least the validation;
- parse + balance: `read_valid_835`, the same reading without the validation: Handrail's
  own part of reading;
- pyx12: `x12_errors` (pyx12's x12n_document over the file, its 005010 maps) of each file.
Both files must validate with no error. Results also go to benchmarks/out/claims-latest.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar

from handrail.claims.synthetic import remittance_for, synthetic_batch
from handrail.claims.x12_validation import x12_errors
from handrail.claims.x835 import balance_problems, read_835, read_valid_835
from handrail.claims.x835_write import Envelope, write_835
from handrail.claims.x837p import write_837p

OUT = Path(__file__).resolve().parent / "out"
T = TypeVar("T")


def timed(work: Callable[[], T]) -> tuple[T, float]:
    start = time.perf_counter()
    result = work()
    return result, time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--claims", type=int, default=10_000)
    args = parser.parse_args()
    load_before = round(os.getloadavg()[0], 2)
    batch = synthetic_batch(args.claims)
    lines = sum(len(claim.lines) for claim in batch.claims)

    text_837, write_s = timed(lambda: write_837p(batch))
    errors_837, validate_837_s = timed(lambda: x12_errors(text_837))
    envelope = Envelope("MEDICAREB01", "SYNREHAB01", 1, datetime(2026, 12, 1, 9, 0))
    text_835 = write_835([remittance_for(batch)], envelope)
    errors_835, validate_835_s = timed(lambda: x12_errors(text_835))
    remittances, read_s = timed(lambda: read_835(text_835))
    _same, own_read_s = timed(lambda: read_valid_835(text_835))
    problems = [p for r in remittances for p in balance_problems(r)]
    if errors_837 or errors_835 or problems:
        print("invalid:", errors_837[:3], errors_835[:3], problems[:3], file=sys.stderr)
        return 1
    result = {
        "claims": args.claims,
        "lines": lines,
        "bytes_837": len(text_837),
        "bytes_835": len(text_835),
        "write_837_s": round(write_s, 3),
        "pyx12_validate_837_s": round(validate_837_s, 3),
        "write_over_pyx12": round(write_s / validate_837_s, 4),
        "read_835_s": round(read_s, 3),
        "parse_and_balance_835_s": round(own_read_s, 3),
        "pyx12_validate_835_s": round(validate_835_s, 3),
        "read_over_pyx12": round(read_s / validate_835_s, 3),
        "parse_and_balance_over_pyx12": round(own_read_s / validate_835_s, 3),
        # Other work on the machine slows pyx12 and Handrail alike but not evenly; the load
        # average before and after the run says how busy the machine was.
        "load_average_before_after": [load_before, round(os.getloadavg()[0], 2)],
        "python": platform.python_version(),
        "machine": platform.machine(),
        "at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    OUT.mkdir(exist_ok=True)
    (OUT / "claims-latest.json").write_text(json.dumps(result, indent=2) + "\n")
    print(f"{args.claims:,} claims, {lines:,} lines; load average {load_before} before")
    print(
        f"837P: write {write_s:.2f} s ({len(text_837) / 1e6:.1f} MB); pyx12 validation "
        f"{validate_837_s:.2f} s; write = {write_s / validate_837_s:.3f} x validation"
    )
    print(
        f"835: read + balance {read_s:.2f} s (of which parse + balance {own_read_s:.2f} s); "
        f"pyx12 validation {validate_835_s:.2f} s; read = {read_s / validate_835_s:.2f} x "
        f"validation, parse + balance = {own_read_s / validate_835_s:.2f} x"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""837P export benchmark (issue 9): the time Handrail takes to check and write a batch of
N claims (default 10,000) as one 005010X222A1 file, against pyx12's own validation of the
same file, as a ratio measured in one run.

    .venv/bin/python benchmarks/claims_export.py --claims 10000

The claims are synthetic and deterministic (seeded): one to four timed-code lines each,
two diagnoses, valid NPIs. "check + write" is `batch_problems` (NPI check digits, CLM02,
pointers, reserved characters, with a diagnosis check that accepts every code, so the
figure is the writer's, not the code set's) and `write_837p`; "pyx12" is
`x12_errors(text)`, the validation every export runs before it is saved. The web export
adds the database reads and writes of the claims on top (not measured here).
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from handrail.claims import model as x  # noqa: E402
from handrail.claims.x12_validation import x12_errors  # noqa: E402
from handrail.claims.x837p import batch_problems, write_837p  # noqa: E402

CODES = (("97535", "95.00"), ("97530", "110.00"), ("97110", "90.00"), ("97112", "100.00"))
DIAGNOSES = (("I69351", "R2681"), ("Z471", "Z96651"), ("M1711", "M6281"), ("G20A1", "R2681"))
RENDERING = x.Clinician(x.Person("Tran", "Priya"), "1678901236", "225100000X")
REFERRING = x.Clinician(x.Person("Certifier", "Demo"), "1987654328")
PAYER = x.Payer("Medicare Part B", "00952", "MB")


def _claim(rng: random.Random, number: int) -> x.Claim:
    day = date(2026, 1, 5) + timedelta(days=rng.randrange(300))
    control = f"HR{number:08d}"
    codes = rng.sample(CODES, rng.randint(1, 4))
    lines = tuple(
        x.ServiceLine(
            code=code,
            modifiers=("GP",),
            charge=Decimal(charge) * units,
            units=units,
            service_date=day,
            diagnosis_pointers=(1, 2),
            control_number=f"{control}-{index}",
        )
        for index, (code, charge) in enumerate(codes, start=1)
        for units in (rng.randint(1, 4),)
    )
    subscriber = x.Insured(
        x.Person(f"Synthetic{number}", "Pat"),
        x.Address(f"{number} Demo St", "Springfield", "IL", "62701"),
        date(1940 + number % 40, 1 + number % 12, 1 + number % 28),
        "FMU"[number % 3],
    )
    return x.Claim(
        control_number=control,
        coverage=x.Coverage(subscriber=subscriber, member_id=f"MBI{number:08d}", payer=PAYER),
        place_of_service="11",
        diagnoses=DIAGNOSES[number % len(DIAGNOSES)],
        lines=lines,
        rendering=RENDERING,
        referring=REFERRING,
    )


def batch_of(claims: int, seed: int) -> x.Batch:
    rng = random.Random(seed)
    return x.Batch(
        submitter=x.Party("Demo Rehab", "DEMOREHAB01"),
        submitter_contact=x.Contact("Demo Biller", "217-555-0100"),
        receiver=x.Party("Demo Clearinghouse", "DEMOCLEAR01"),
        billing_provider=x.BillingProvider(
            "Demo Rehab LLC",
            "1234567893",
            "37-1234567",
            "261QR0400X",
            x.Address("100 Demo Way", "Springfield", "IL", "627011234"),
        ),
        claims=tuple(_claim(rng, n) for n in range(1, claims + 1)),
        control=x.ControlNumbers(1, 1, 1),
        created=datetime(2026, 11, 16, 15, 0),
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--claims", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=9)
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "out" / "claims.json")
    args = parser.parse_args()
    batch = batch_of(args.claims, args.seed)

    def accept(code: str, on: date) -> None:
        return None

    started = time.perf_counter()
    problems = batch_problems(batch, accept)
    text = write_837p(batch, accept)
    write_seconds = time.perf_counter() - started
    started = time.perf_counter()
    errors = x12_errors(text)
    pyx12_seconds = time.perf_counter() - started
    result = {
        "claims": args.claims,
        "segments": text.count("\n"),
        "bytes": len(text),
        "check_and_write_s": round(write_seconds, 3),
        "pyx12_validate_s": round(pyx12_seconds, 3),
        "pyx12_over_write": round(pyx12_seconds / write_seconds, 1),
        "problems": len(problems),
        "pyx12_errors": len(errors),
    }
    print(
        f"{args.claims} claims, {result['segments']} segments: check + write "
        f"{write_seconds:.2f} s; pyx12 validation {pyx12_seconds:.2f} s "
        f"({result['pyx12_over_write']}x the writer); errors {len(errors)}"
    )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    return 1 if problems or errors else 0


if __name__ == "__main__":
    raise SystemExit(main())

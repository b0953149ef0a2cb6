"""Handout PDF benchmark (issue 8): a 12-item program with two pictures per item.

    make benchmark-handout
    .venv/bin/python benchmarks/handout_pdf.py --repeat 5

The pictures are made here (seeded noise over a gradient, so they compress like photos and
not like flat colour): half PNG (800x600), half JPEG (800x600). Each run renders the whole
handout with `handrail.handouts.render_handout` (layout, fonts, escaping, picture scaling).

The floor, measured in the same run: the same 24 pictures drawn onto a reportlab canvas with
`drawImage`, one item title per picture, and saved: what any reportlab PDF of these pictures
costs at least. The handout is reported as a multiple of it. Medians of --repeat runs after
one warm-up; results also go to benchmarks/out/handout-latest.json.
"""

from __future__ import annotations

import argparse
import io
import json
import platform
import random
import statistics
import sys
import time
from datetime import UTC, date, datetime
from pathlib import Path

from PIL import Image
from reportlab.lib.pagesizes import LETTER
from reportlab.lib.utils import ImageReader
from reportlab.pdfgen.canvas import Canvas

from handrail.handouts import Handout, HandoutImage, HandoutItem, render_handout

OUT = Path(__file__).resolve().parent / "out"
ITEMS = 12
CREDIT = "Illustration: synthetic benchmark picture"


def picture(seed: int, kind: str) -> bytes:
    rng = random.Random(seed)
    image = Image.new("RGB", (800, 600))
    pixels = image.load()
    assert pixels is not None
    for y in range(0, 600, 4):
        for x in range(0, 800, 4):
            shade = (x * 255 // 800 + rng.randrange(40), y * 255 // 600, rng.randrange(256))
            for dy in range(4):
                for dx in range(4):
                    pixels[x + dx, y + dy] = shade
    buffer = io.BytesIO()
    image.save(buffer, kind, **({"quality": 85} if kind == "JPEG" else {}))
    return buffer.getvalue()


def program(pictures: list[bytes]) -> Handout:
    items = tuple(
        HandoutItem(
            title=f"Exercise {n + 1}: sit to stand with arm support",
            dose="2 x 10 reps, hold 3 s, 2x/day, 5 days/week",
            steps=(
                "Sit at the front of a firm chair, feet flat.",
                "Lean forward, nose over toes, and stand up slowly.",
                "Sit down with control, reaching back for the chair.",
            ),
            precautions=("Stop if you feel dizzy.", "Keep a steady support within reach."),
            section="Week 1" if n < 6 else "Week 2",
            images=(
                HandoutImage(pictures[2 * n], "Start", CREDIT),
                HandoutImage(pictures[2 * n + 1], "End", CREDIT),
            ),
        )
        for n in range(ITEMS)
    )
    return Handout(
        clinic_name="Riverbend Outpatient Rehab",
        program_title="Benchmark: twelve items with pictures",
        patient_first_name="Dolores",
        issued_on=date(2026, 12, 5),
        version=1,
        items=items,
    )


def floor(pictures: list[bytes]) -> bytes:
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=LETTER)
    for index, data in enumerate(pictures):
        if index and index % 4 == 0:
            canvas.showPage()
        y = 600 - (index % 4) * 180
        canvas.drawString(50, y + 160, f"Exercise {index // 2 + 1}")
        canvas.drawImage(ImageReader(io.BytesIO(data)), 50, y, width=200, height=150)
    canvas.save()
    return buffer.getvalue()


def timed(function: object, argument: object, repeat: int) -> tuple[float, int]:
    assert callable(function)
    size = len(function(argument))  # warm-up (fonts, imports)
    runs = []
    for _ in range(repeat):
        start = time.perf_counter()
        function(argument)
        runs.append(time.perf_counter() - start)
    return statistics.median(runs), size


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args(argv)
    pictures = [picture(n, "PNG" if n % 2 == 0 else "JPEG") for n in range(2 * ITEMS)]
    handout = program(pictures)
    handout_s, handout_bytes = timed(render_handout, handout, args.repeat)
    floor_s, floor_bytes = timed(floor, pictures, args.repeat)
    result = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "items": ITEMS,
        "pictures": len(pictures),
        "repeat": args.repeat,
        "handout_median_ms": round(handout_s * 1000, 1),
        "handout_kib": round(handout_bytes / 1024),
        "floor_median_ms": round(floor_s * 1000, 1),
        "floor_kib": round(floor_bytes / 1024),
        "x_floor": round(handout_s / floor_s, 2),
    }
    print(f"{'':22}{'median ms':>10}{'KiB':>8}")
    print(f"{'handout (12 items)':22}{result['handout_median_ms']:>10}{result['handout_kib']:>8}")
    print(f"{'floor (drawImage x24)':22}{result['floor_median_ms']:>10}{result['floor_kib']:>8}")
    print(f"handout = {result['x_floor']} x floor")
    OUT.mkdir(exist_ok=True)
    (OUT / "handout-latest.json").write_text(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())

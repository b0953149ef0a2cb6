"""Generate deterministic synthetic therapy visits (JSONL) for the batch benchmark.

Every record follows the visit JSON contract of `handrail visit` / `handrail batch`
(parsed by `handrail.rules.visit_record.visit_record_from_dict`). All data is synthetic:
no real patient, clinician or clinic appears.

    .venv/bin/python benchmarks/generate_visits.py --visits 200000 --seed 2026 -o visits.jsonl

The mix is meant to look like an outpatient PT/OT clinic: mostly Medicare with commercial
and Medicaid payers, 97535 lines with structured notes of varying quality (complete,
thin, "ADL training performed" only), therapeutic exercise/activities, manual therapy,
neuromuscular re-education, gait training, evaluations on some visits, assistant minutes
on some lines, a diagnosis list, threshold and counters objects, localities and ZIP codes.
Dates fall between 2025-01-02 and 2026-09-30, the period the shipped data covers.

The generator only uses the standard library, so it runs before Handrail is installed.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from collections.abc import Iterator, Sequence
from datetime import date, timedelta
from pathlib import Path
from typing import Any

DEFAULT_VISITS = 200_000
DEFAULT_SEED = 2026
FIRST_DATE = date(2025, 1, 2)
LAST_DATE = date(2026, 9, 30)

# Codes each discipline may bill in the generated data (a subset of the Handrail catalog).
PT_TREATMENT_CODES: tuple[str, ...] = (
    "97110",
    "97112",
    "97116",
    "97140",
    "97530",
    "97535",
    "97032",
    "97035",
)
PT_TREATMENT_WEIGHTS: tuple[int, ...] = (30, 16, 14, 18, 16, 6, 4, 3)
PT_EVALUATIONS = ("97161", "97162", "97163")
PT_REEVALUATION = "97164"
OT_TREATMENT_CODES: tuple[str, ...] = (
    "97535",
    "97530",
    "97110",
    "97112",
    "97140",
    "97760",
    "97763",
)
OT_TREATMENT_WEIGHTS: tuple[int, ...] = (36, 24, 16, 10, 8, 3, 3)
OT_EVALUATIONS = ("97165", "97166", "97167")
OT_REEVALUATION = "97168"
UNATTENDED_STIM = "G0283"  # PT, Medicare's code for unattended electrical stimulation
SLP_TREATMENT = "92507"
UNTIMED = frozenset(
    {
        *PT_EVALUATIONS,
        PT_REEVALUATION,
        *OT_EVALUATIONS,
        OT_REEVALUATION,
        UNATTENDED_STIM,
        SLP_TREATMENT,
    }
)

DISCIPLINE_CODES: dict[str, frozenset[str]] = {
    "PT": frozenset(
        {*PT_TREATMENT_CODES, *PT_EVALUATIONS, PT_REEVALUATION, UNATTENDED_STIM},
    ),
    "OT": frozenset({*OT_TREATMENT_CODES, *OT_EVALUATIONS, OT_REEVALUATION}),
    "SLP": frozenset({SLP_TREATMENT}),
}

# MAC-locality pairs present in the CY2025 and CY2026 GPCI files.
LOCALITIES = (
    "01182-18",  # Los Angeles
    "01112-05",  # San Francisco
    "10112-00",  # Alabama
    "02102-01",  # Alaska
    "09102-04",  # Miami
    "06102-16",  # Chicago
    "06102-99",  # rest of Illinois
    "13202-01",  # Manhattan
    "13282-99",  # rest of New York
    "04412-18",  # Houston
    "04412-31",  # Austin
    "08202-01",  # Detroit
    "14212-01",  # Boston
    "03602-21",  # Wyoming
)
# ZIP codes present in the CMS ZIP-to-locality file (ZIP5 October 2025).
ZIPS = (
    "62701",
    "90012",
    "90210",
    "10001",
    "11201",
    "60601",
    "77002",
    "73301",
    "33130",
    "02108",
    "48201",
    "94103",
    "94110",
    "35203",
    "99501",
    "82001",
)

# Diagnoses by discipline: the code explains why the trained task is impaired.
PT_DIAGNOSES = (
    "M17.11",  # primary osteoarthritis, right knee
    "Z47.1",  # aftercare following joint replacement surgery
    "Z96.651",  # presence of right artificial knee joint
    "Z96.641",  # presence of right artificial hip joint
    "S72.001A",  # fracture of right femoral neck, initial encounter
    "S72.001D",  # the same, subsequent encounter with routine healing
    "R26.81",  # unsteadiness on feet
    "R26.2",  # difficulty in walking
    "M62.81",  # generalised muscle weakness
    "M54.50",  # low back pain
    "G20.A1",  # Parkinson's disease
    "Z89.612",  # acquired absence of left leg above knee
    "I69.351",  # hemiplegia after stroke, right dominant side
)
OT_DIAGNOSES = (
    "I69.351",
    "I69.354",  # hemiplegia after stroke, left non-dominant side
    "G20.A1",
    "Z47.1",
    "Z96.641",
    "S72.001D",
    "M25.511",  # pain in right shoulder
    "M62.81",
    "R26.81",
    "Z89.612",
    "M17.11",
)
SLP_DIAGNOSES = (
    "I69.320",  # speech and language deficit after stroke
    "R47.01",  # aphasia
    "R13.12",  # oropharyngeal dysphagia
    "G20.A1",
)

# Pieces of 97535 notes. Combined at random, then degraded for the thin notes.
ADL_TASKS = (
    ("lower body dressing", "sock aid and reacher", "seated at edge of bed"),
    ("upper body dressing", "one-handed dressing technique", "affected arm first"),
    ("tub transfer", "tub transfer bench and grab bar", "bathing routine"),
    ("toilet transfer", "raised toilet seat and grab bar", "toileting routine"),
    ("shower routine", "long-handled sponge and hand-held shower", "seated showering"),
    ("simple meal preparation", "rolling walker tray and energy conservation", "kitchen"),
    ("medication management", "weekly pill organiser and phone alarms", "morning routine"),
    ("grooming at the sink", "built-up handle toothbrush", "standing with counter support"),
    ("shoe tying", "elastic laces and one-handed bow", "dressing routine"),
    ("home program revision", "updated written and picture handout", "daily home routine"),
    ("bed-to-commode transfer at night", "bedside commode and night light", "toileting"),
    ("laundry", "reacher and energy conservation", "home management"),
)
BASELINES = (
    "Needed moderate assistance for {task} last session, 3 of 6 steps done without help.",
    "Minimal assistance for {task}; loses balance when reaching to the floor.",
    "Maximal assistance for {task} at evaluation; now moderate assistance.",
    "Contact guard for {task}; fatigue after 4 minutes (RPE 15/20).",
    "Set-up only for {task} but unsafe sequencing noted by spouse.",
    "Independent with {task} before the fall; currently needs help of one.",
)
SKILLED = (
    "Skilled cueing for sequencing needed because of right hemiparesis and impaired motor "
    "planning.",
    "Needed clinician grading of the task and safety judgement: high fall risk (TUG 19 s).",
    "Skilled adaptation of technique to hip precautions after arthroplasty.",
    "Clinician analysis of energy use and pacing with COPD; SpO2 monitored.",
    "Required skilled instruction to compensate for left neglect and reduced sensation.",
    "Tremor and freezing need skilled strategy selection (visual and auditory cues).",
)
PERFORMANCE = (
    "Completed {task} with 2 verbal cues and no loss of balance; carried over sock aid use "
    "from last visit.",
    "Completed 5 of 6 steps; one tactile cue for hand placement; patient repeated the "
    "method back correctly.",
    "Two losses of balance corrected with contact guard; needs more practice before "
    "discharge home.",
    "Improved from moderate to minimal assistance; spouse observed and performed the "
    "assist correctly.",
    "Performed with set-up only for the first time; goal 2 of 3 met.",
    "Declined the last trial due to fatigue; to repeat next session with rest breaks.",
)
THIN_NOTES = (
    "ADL training performed.",
    "Pt tolerated tx well.",
    "Self-care training as per plan.",
    "Continue POC.",
    "ADLs. Pt did well.",
)
OTHER_NOTES: dict[str, tuple[str, ...]] = {
    "97110": (
        "Progressive resisted knee extension 3x12 at 4 lb, hip abduction 3x10; HEP updated.",
        "Therex for quad and glute strength; cues for form; progressed band to green.",
        "Endurance: recumbent bike 8 min level 3, then seated strengthening.",
    ),
    "97112": (
        "Static and dynamic standing balance on foam, tandem stance 3x30 s with CGA.",
        "Weight shifting and trunk control in sitting with tactile cues.",
        "Proprioceptive training, single-leg stance with UE support.",
    ),
    "97116": (
        "Gait with rolling walker 150 ft x3, cues for step length and heel strike.",
        "Stair training 12 steps with rail, step-to pattern, CGA.",
        "Gait over uneven surfaces with single-point cane, 2 LOB self-corrected.",
    ),
    "97140": (
        "Grade III PA glides L4-L5, soft-tissue mobilisation lumbar paraspinals.",
        "Patellar mobilisation and scar massage after TKA.",
        "Glenohumeral joint mobilisation grades II-III for flexion range.",
    ),
    "97530": (
        "Floor-to-waist lifting of 10 lb box x10 with body-mechanics cues.",
        "Sit-to-stand and bed mobility practice, 2 cues for hand placement.",
        "Reaching and carrying tasks in standing with walker, 12 min.",
    ),
    "97760": ("Fitted resting hand splint; wearing schedule and skin checks taught.",),
    "97763": ("Splint adjusted at the MCP strap; patient dons independently.",),
    "97032": ("NMES to quadriceps with active contraction, clinician attending throughout.",),
    "97035": ("Ultrasound 1 MHz 1.0 W/cm2 to right supraspinatus tendon.",),
    "G0283": ("IFC to lumbar area 15 min with moist heat, unattended.",),
    "92507": (
        "Naming tasks with semantic cues, 70% accuracy; word-finding strategies reviewed.",
        "Voice: resonant voice exercises and carryover sentences.",
    ),
}


def _visit_date(rng: random.Random) -> str:
    span = (LAST_DATE - FIRST_DATE).days
    while True:
        day = FIRST_DATE + timedelta(days=rng.randint(0, span))
        if day.weekday() < 5 or rng.random() < 0.05:  # few weekend visits
            return day.isoformat()


def _note_97535(rng: random.Random) -> dict[str, str] | str:
    task, technique, context = rng.choice(ADL_TASKS)
    quality = rng.random()
    if quality < 0.15:
        return rng.choice(THIN_NOTES)  # a bare phrase: a likely denial
    note = {
        "baseline": rng.choice(BASELINES).format(task=task),
        "task": f"{task.capitalize()} ({context}).",
        "technique": f"Taught {technique}.",
        "skilled": rng.choice(SKILLED),
        "performance": rng.choice(PERFORMANCE).format(task=task),
        "text": "",
    }
    if quality < 0.35:  # thin structured note: some parts missing
        for key in rng.sample(("baseline", "skilled", "performance", "technique"), k=2):
            note[key] = ""
    elif quality < 0.45:  # copied forward from the last visit: no progression shown
        note["performance"] = "Same as last visit."
    if rng.random() < 0.3:
        note["text"] = f"Caregiver present and practised the {task} with the patient."
    return note


def _timed_minutes(rng: random.Random) -> int:
    # Mostly 8-30 minutes per line, some short (under 8) and some long lines.
    roll = rng.random()
    if roll < 0.06:
        return rng.randint(3, 7)
    if roll < 0.9:
        return rng.randint(8, 30)
    return rng.randint(31, 53)


def _line(rng: random.Random, code: str, assistant_share: float) -> dict[str, Any]:
    if code in UNTIMED:
        minutes = rng.randint(20, 60) if code != UNATTENDED_STIM else rng.randint(10, 20)
    else:
        minutes = _timed_minutes(rng)
    line: dict[str, Any] = {"code": code, "minutes": minutes}
    if assistant_share and code not in UNTIMED:
        line["assistant_minutes"] = min(minutes, round(minutes * assistant_share))
    if code == "97535":
        line["note"] = _note_97535(rng)
    elif code in OTHER_NOTES and rng.random() < 0.7:
        line["note"] = {"text": rng.choice(OTHER_NOTES[code])}
    return line


def _pick_codes(
    rng: random.Random, codes: Sequence[str], weights: Sequence[int], count: int
) -> list[str]:
    chosen: list[str] = []
    while len(chosen) < count:
        code = rng.choices(codes, weights)[0]
        if code not in chosen:
            chosen.append(code)
    return chosen


def _lines(rng: random.Random, discipline: str, payer_type: str) -> list[dict[str, Any]]:
    if discipline == "SLP":
        return [_line(rng, SLP_TREATMENT, 0.0)]
    assistant_share = 0.0
    if rng.random() < 0.22:  # an assistant furnished part of this visit
        assistant_share = rng.choice((0.1, 0.25, 0.5, 0.75, 1.0))
    lines: list[dict[str, Any]] = []
    roll = rng.random()
    evaluations = PT_EVALUATIONS if discipline == "PT" else OT_EVALUATIONS
    if roll < 0.07:
        lines.append(_line(rng, rng.choice(evaluations), 0.0))
    elif roll < 0.10:
        reevaluation = PT_REEVALUATION if discipline == "PT" else OT_REEVALUATION
        lines.append(_line(rng, reevaluation, 0.0))
    if discipline == "PT":
        codes, weights = PT_TREATMENT_CODES, PT_TREATMENT_WEIGHTS
    else:
        codes, weights = OT_TREATMENT_CODES, OT_TREATMENT_WEIGHTS
    count = rng.choices((0, 1, 2, 3, 4), (0, 20, 40, 30, 10))[0]
    if lines and rng.random() < 0.5:
        count = min(count, 1)  # evaluation visits carry little treatment
    lines.extend(
        _line(rng, code, assistant_share) for code in _pick_codes(rng, codes, weights, count)
    )
    if discipline == "PT" and payer_type == "medicare" and rng.random() < 0.08:
        lines.append(_line(rng, UNATTENDED_STIM, 0.0))
    return lines


def _payer(rng: random.Random) -> dict[str, str]:
    roll = rng.random()
    if roll < 0.58:
        return {"type": "medicare", "unit_rule": "cms"}
    if roll < 0.9:
        return {"type": "commercial", "unit_rule": "cms" if rng.random() < 0.35 else "per-code"}
    return {"type": "medicaid", "unit_rule": "cms" if rng.random() < 0.6 else "per-code"}


def generate_visit(rng: random.Random) -> dict[str, Any]:
    """One synthetic visit record in the visit JSON contract."""
    roll = rng.random()
    discipline = "PT" if roll < 0.52 else "OT" if roll < 0.97 else "SLP"
    payer = _payer(rng)
    visit: dict[str, Any] = {"date": _visit_date(rng), "payer": payer, "discipline": discipline}
    place = rng.random()
    if place < 0.45:
        visit["locality"] = rng.choice(LOCALITIES)
    elif place < 0.85:
        visit["zip"] = rng.choice(ZIPS)
    visit["facility"] = rng.random() < 0.04
    visit["telehealth"] = rng.choice(("home", "other")) if rng.random() < 0.03 else None
    visit["patient_present"] = True
    lines = _lines(rng, discipline, payer["type"])
    codes = {line["code"] for line in lines}
    visit["distinct_services"] = bool({"97140", "97530"} <= codes and rng.random() < 0.7)
    pool = {"PT": PT_DIAGNOSES, "OT": OT_DIAGNOSES, "SLP": SLP_DIAGNOSES}[discipline]
    visit["diagnoses"] = rng.sample(pool, k=rng.choices((1, 2, 3), (50, 35, 15))[0])
    if payer["type"] == "medicare":
        visit["threshold"] = {
            "accrued_before": round(rng.uniform(0, 3600), 2),
            "medical_necessity_attested": rng.random() < 0.8,
        }
    else:
        visit["threshold"] = None
    visit["counters"] = {
        "treatment_day": rng.randint(1, 12),
        "days_since_certification": rng.randint(0, 95),
    }
    visit["lines"] = lines
    return visit


def generate_visits(count: int, seed: int = DEFAULT_SEED) -> Iterator[dict[str, Any]]:
    """`count` visits, the same ones for the same seed."""
    rng = random.Random(seed)
    for _ in range(count):
        yield generate_visit(rng)


def write_visits(path: Path, count: int, seed: int = DEFAULT_SEED) -> int:
    """Write `count` visits as JSONL to `path` (one compact object per line); returns bytes."""
    path.parent.mkdir(parents=True, exist_ok=True)
    written = 0
    with path.open("w", encoding="utf-8", newline="\n") as out:
        for visit in generate_visits(count, seed):
            written += out.write(json.dumps(visit, separators=(",", ":")) + "\n")
    return written


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--visits", type=int, default=DEFAULT_VISITS, help="number of visits")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help="random seed")
    parser.add_argument("-o", "--output", type=Path, required=True, help="JSONL file to write")
    args = parser.parse_args(argv)
    if args.visits < 1:
        parser.error("--visits must be 1 or more")
    size = write_visits(args.output, args.visits, args.seed)
    print(f"wrote {args.visits:,} visits ({size / 1e6:.1f} MB) to {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

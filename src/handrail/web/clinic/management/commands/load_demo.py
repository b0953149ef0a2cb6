"""`manage.py load_demo`: a synthetic demo clinic (idempotent; never real patient data).

Creates the clinic, one user per role, a Medicare and a commercial payer, 20 patients with
realistic diagnoses, their cases and certified plans of care, and about 100 visits across
2025-2026 (mostly signed, some drafts and an assistant's note awaiting co-signature) with
97535/97530/97110 lines and structured notes. Running it again changes nothing.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from handrail.rules.conversion import CONVERSION_FACTORS
from handrail.web.care.models import Case
from handrail.web.care.services import (
    GoalInput,
    authorization_create,
    case_close,
    case_create,
    plan_of_care_create,
)
from handrail.web.clinic.models import Clinic, Patient, User
from handrail.web.clinic.services import (
    clinic_create,
    coverage_set,
    patient_create,
    payer_create,
    user_create,
)
from handrail.web.programs.demo import load_demo_programs
from handrail.web.visits.models import Visit, VisitType
from handrail.web.visits.services import (
    service_line_add,
    visit_cosign,
    visit_create,
    visit_sign,
)

DEMO_CLINIC = "Handrail Demo Rehab (synthetic)"
DEMO_PASSWORD = "handrail-demo"
SEED = 20260314
DEMO_SIGN_REASON = "Synthetic demo note: signed with its findings so the worklists show them."
LAST_PRICED_DAY = max(factor.end for factor in CONVERSION_FACTORS)  # last day the data prices

# username, role, discipline, first name, last name
DEMO_USERS = (
    ("pt", "therapist", "PT", "Priya", "Tran"),
    ("ot", "therapist", "OT", "Omar", "Reyes"),
    ("ota", "assistant", "OT", "Olga", "Svensson"),
    ("biller", "biller", "", "Bianca", "Lowe"),
    ("admin", "admin", "", "Adam", "Cole"),
    ("frontdesk", "front_desk", "", "Frances", "Diaz"),
)

FIRST = (
    "Ada Ben Cora Dale Edna Felix Gina Hal Iris Jon Kay Leo Mae Ned Opal Pete Rosa Sam Tess Vic"
)
DEMO_FIRST_NAMES = FIRST.split()
LAST = "Abbott Brandt Chu Dorsey Ellison Fry Gale Hoyt Ibarra Joyce Kemp Lund Marsh Noble Ortiz"
LAST += " Pike Quill Rios Stone Tate"


@dataclass(frozen=True)
class Template:
    discipline: str
    title: str
    diagnoses: tuple[str, ...]
    codes: tuple[str, ...]
    goals: tuple[str, ...]
    task: str
    technique: str


TEMPLATES = (
    Template(
        "OT",
        "Right CVA: dressing and toileting",
        ("I69.351", "R26.81"),
        ("97535", "97530"),
        ("Dons a pullover shirt with set-up only", "Completes toilet transfer with supervision"),
        "upper-body dressing seated at edge of bed",
        "one-handed dressing technique, affected arm first",
    ),
    Template(
        "OT",
        "Parkinson's: self-care and kitchen safety",
        ("G20.A1", "R26.81"),
        ("97535", "97530"),
        ("Prepares a cold meal standing with supervision", "Buttons a shirt in under 5 minutes"),
        "light meal preparation at the counter",
        "large-amplitude movement cues and a rolling cart",
    ),
    Template(
        "OT",
        "Right THA: lower-body dressing with hip precautions",
        ("Z47.1", "Z96.641"),
        ("97535", "97530"),
        ("Dons socks and shoes with adaptive equipment, modified independent",),
        "lower-body dressing within hip precautions",
        "reacher, sock aid and long-handled shoehorn",
    ),
    Template(
        "PT",
        "Right TKA: gait and strength",
        ("Z47.1", "Z96.651", "R26.81"),
        ("97110", "97530"),
        ("Walks 300 feet with a cane, no loss of balance", "Climbs 12 stairs with one rail"),
        "sit-to-stand and stair negotiation",
        "progressive quadriceps loading and step-ups",
    ),
    Template(
        "PT",
        "Left AKA: prosthetic gait",
        ("Z89.612", "R26.81"),
        ("97530", "97110"),
        ("Dons prosthesis independently", "Walks 150 feet with a rolling walker"),
        "prosthetic donning and weight shifting",
        "weight-shift drills in parallel bars with mirror feedback",
    ),
    Template(
        "PT",
        "Right knee OA: strength and stairs",
        ("M17.11", "M62.81"),
        ("97110", "97530"),
        ("Rises from a low chair without hands", "Climbs a flight of stairs reciprocally"),
        "chair rises and stair climbing",
        "closed-chain strengthening with graded step height",
    ),
)

ASSIST_LEVELS = (
    "moderate assistance",
    "minimal assistance",
    "contact guard",
    "standby assistance",
    "supervision",
    "modified independence",
)


class Command(BaseCommand):
    help = "Load a synthetic demo clinic (idempotent) and print the demo logins."

    def handle(self, *args: Any, **options: Any) -> None:
        if Clinic.objects.filter(name=DEMO_CLINIC).exists():
            self.stdout.write("Demo clinic already loaded; nothing to do.")
        else:
            counts = load_demo()
            self.stdout.write(
                f"Loaded {DEMO_CLINIC}: {counts['patients']} patients, {counts['cases']} cases, "
                f"{counts['visits']} visits ({counts['signed']} signed), "
                f"{counts['programs']} home programs, {counts['templates']} templates."
            )
        self.stdout.write(demo_logins_text())


def demo_logins_text() -> str:
    lines = ["Demo logins (synthetic data; password for all: " + DEMO_PASSWORD + "):"]
    for username, role, discipline, first, last in DEMO_USERS:
        label = f"{role} {discipline}".strip()
        lines.append(f"  {username:<10} {label:<14} {first} {last}")
    required = ", ".join(settings.OTP_REQUIRED_ROLES) or "no role"
    lines.append(
        f"Two-factor sign-in is required of: {required}. Without a phone app, "
        "`manage.py demo_totp USERNAME` prints the code to type."
    )
    return "\n".join(lines)


@transaction.atomic
def load_demo() -> dict[str, int]:
    """Create the demo clinic. Everything goes through the services, so demo data obeys
    the same rules as data typed in by a user."""
    rng = random.Random(SEED)
    # The demo's visits end on the last day the shipped data prices (fee schedule, conversion
    # factor, threshold): after that, signing a visit needs the next year's files imported.
    today = min(timezone.localdate(), LAST_PRICED_DAY)
    clinic = clinic_create(name=DEMO_CLINIC, zip="62701", npi="1234567893")
    users = {
        username: user_create(
            clinic=clinic,
            username=username,
            password=DEMO_PASSWORD,
            role=role,
            discipline=discipline,
            first_name=first,
            last_name=last,
            email=f"{username}@demo.invalid",
        )
        for username, role, discipline, first, last in DEMO_USERS
    }
    medicare = payer_create(
        clinic=clinic,
        name="Medicare Part B",
        type="medicare",
        unit_rule="cms",
        assistant_cosign_required=True,
    )
    commercial = payer_create(
        clinic=clinic,
        name="Blue Prairie Health (synthetic)",
        type="commercial",
        unit_rule="per-code",
        requires_authorization=True,
        distinct_modifier="XU",
    )
    counts = {"patients": 0, "cases": 0, "visits": 0, "signed": 0}
    for index, (first, last) in enumerate(zip(DEMO_FIRST_NAMES, LAST.split(), strict=True)):
        payer = medicare if index % 4 else commercial
        patient = patient_create(
            user=users["frontdesk"],
            first_name=first,
            last_name=last,
            birth_date=date(1938 + index, 1 + index % 12, 3 + index),
            sex="F" if index % 2 == 0 else "M",
            phone=f"217-555-01{index:02d}",
            address=f"{100 + index} Demo Street",
            city="Springfield",
            state="IL",
            zip="62701",
        )
        coverage_set(
            user=users["frontdesk"],
            patient=patient,
            payer=payer,
            member_id=f"DEMO{index:04d}{'A' if payer is medicare else 'C'}",
        )
        counts["patients"] += 1
        # Episodes start between January 2025 and a few weeks before today.
        span = (today - timedelta(days=40) - date(2025, 1, 6)).days
        start = date(2025, 1, 6) + timedelta(days=rng.randrange(span))
        if index >= len(DEMO_FIRST_NAMES) - 5:  # the last five are in treatment now
            start = today - timedelta(days=12 + 4 * (len(DEMO_FIRST_NAMES) - index))
        templates = [TEMPLATES[index % len(TEMPLATES)]]
        if index % 7 == 3:  # a few patients see both PT and OT
            templates.append(TEMPLATES[(index + 3) % len(TEMPLATES)])
        for template in templates:
            case = _demo_case(users, template=template, patient=patient, start=start)
            if payer is commercial:
                authorization_create(
                    user=users["biller"],
                    case=case,
                    payer=payer,
                    visits_authorized=12,
                    units_authorized=36,
                    start_date=start,
                    end_date=start + timedelta(days=60),
                    number=f"AUTH-{index:04d}",
                )
            counts["cases"] += 1
            visits = _demo_visits(
                rng, users, case, template, start, today, last_patient=index == 19
            )
            # Episodes whose last visit is a month old were discharged on that day.
            if visits and visits[-1].date < today - timedelta(days=30):
                therapist = users["pt"] if template.discipline == "PT" else users["ot"]
                case_close(
                    user=therapist,
                    case=case,
                    closed_on=visits[-1].date,
                    discharge_reason="Stopped attending",
                )
            counts["visits"] += len(visits)
            counts["signed"] += sum(1 for visit in visits if visit.is_signed)
    _threshold_episode(rng, users, today, counts)
    counts.update(load_demo_programs(users))
    # Billing after the notes are signed: claims for them and one exported 837P batch.
    from handrail.web.billing.demo import load_demo_billing

    counts.update(load_demo_billing(clinic=clinic, users=users, today=today))
    # The Medicare 835 for the claims out with the payer, posted, with two denials to work.
    from handrail.web.remittances.demo import load_demo_remittances

    counts.update(load_demo_remittances(clinic=clinic, users=users, today=today))
    # Last: the patient side of whatever programs the demo issued (weeks of session logs).
    from handrail.web.portal.demo import portal_demo_load

    counts["program_sessions"] = portal_demo_load(clinic=clinic, today=today)
    return counts


# A long PT episode earlier this year for one Medicare patient, so the "nearing the therapy
# threshold" worklist has someone on it (PT+SLP allowed amounts near $2,480 in 2026).
THRESHOLD_TEMPLATE = Template(
    "PT",
    "Lumbar stenosis: walking tolerance",
    ("M48.062", "R26.81"),
    ("97110", "97530", "97140"),
    ("Walks 20 minutes in the community without rest",),
    "community walking and lifting a laundry basket",
    "graded treadmill walking, flexion-biased exercise and lifting mechanics",
)


def _threshold_episode(
    rng: random.Random, users: dict[str, User], today: date, counts: dict[str, int]
) -> None:
    patient = Patient.objects.get(first_name=DEMO_FIRST_NAMES[17], clinic__name=DEMO_CLINIC)
    start = min(date(today.year, 1, 5), today - timedelta(days=120))
    case = _demo_case(users, template=THRESHOLD_TEMPLATE, patient=patient, start=start)
    visits = _demo_visits(
        rng, users, case, THRESHOLD_TEMPLATE, start, today, last_patient=False, visit_count=22
    )
    case_close(
        user=users["pt"], case=case, closed_on=visits[-1].date, discharge_reason="Goals met"
    )
    counts["cases"] += 1
    counts["visits"] += len(visits)
    counts["signed"] += len(visits)


def _demo_case(
    users: dict[str, User], *, template: Template, patient: Patient, start: date
) -> Case:
    therapist = users["pt"] if template.discipline == "PT" else users["ot"]
    case = case_create(
        user=therapist,
        patient=patient,
        discipline=template.discipline,
        title=template.title,
        opened_on=start,
        referring_provider="Dr. Demo Referrer",
    )
    plan_of_care_create(
        user=therapist,
        case=case,
        diagnoses=template.diagnoses,
        goals=[
            GoalInput(text, start + timedelta(weeks=4 + 2 * number))
            for number, text in enumerate(template.goals)
        ],
        frequency_per_week=2,
        duration_weeks=8,
        start_date=start,
        medical_necessity="Functional decline below prior level; skilled training needed.",
        certified_on=start + timedelta(days=3),
        certifier_name="Dr. Demo Certifier",
        certifier_npi="1234567893",
    )
    return case


def _demo_visits(
    rng: random.Random,
    users: dict[str, User],
    case: Case,
    template: Template,
    start: date,
    today: date,
    *,
    last_patient: bool,
    visit_count: int | None = None,
) -> list[Visit]:
    therapist = users["pt"] if template.discipline == "PT" else users["ot"]
    evaluation_code = "97161" if template.discipline == "PT" else "97166"
    visits: list[Visit] = []
    day = start
    count = visit_count or 3 + rng.randrange(3)  # 1 evaluation + 2..4 treatment visits
    for number in range(count):
        if day > today:
            break
        by_assistant = template.discipline == "OT" and number in (2, 4)
        clinician = users["ota"] if by_assistant else therapist
        visit_type = VisitType.EVALUATION if number == 0 else VisitType.TREATMENT
        visit = visit_create(
            user=clinician,
            case=case,
            date=day,
            visit_type=visit_type,
            medical_necessity_attested=True,
            narrative=f"Visit {number + 1}: {template.title}.",
        )
        if number == 0:
            service_line_add(
                user=clinician, visit=visit, code=evaluation_code, therapist_minutes=45
            )
        level = ASSIST_LEVELS[min(number, len(ASSIST_LEVELS) - 1)]
        previous = ASSIST_LEVELS[min(max(number - 1, 0), len(ASSIST_LEVELS) - 1)]
        for position, code in enumerate(template.codes):
            minutes = 23 + rng.randrange(10) if position == 0 else 8 + rng.randrange(8)
            service_line_add(
                user=clinician,
                visit=visit,
                code=code,
                therapist_minutes=0 if by_assistant else minutes,
                assistant_minutes=minutes if by_assistant else 0,
                baseline=f"Needed {previous} for {template.task} at the last visit.",
                task=f"Trained {template.task}.",
                technique=f"Taught {template.technique}; graded verbal and tactile cues.",
                skilled=(
                    "Skilled analysis of task performance and safety judgment needed to "
                    "progress the program."
                ),
                performance=(
                    f"Performed with {level}; {2 + (number % 3)} verbal cues; carried over "
                    "the sequence from the last session."
                ),
            )
        # The newest visits of the last patient stay drafts (the unsigned-notes worklist).
        if not (last_patient and number >= count - 2):
            # Demo notes keep the findings they show; a note with an error is signed with
            # the reason a clinician would have to give.
            visit_sign(user=clinician, visit=visit, reason=DEMO_SIGN_REASON)
            if by_assistant and number == 2:
                visit_cosign(user=therapist, visit=visit)
        visits.append(visit)
        day += timedelta(days=3 if day.weekday() < 3 else 4)
    return visits

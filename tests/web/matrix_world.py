"""The world the URL matrix walks (tests/web/test_matrix.py): the synthetic demo clinic
(`load_demo`: Medicare and commercial patients, PT and OT cases, an OT assistant, claims in
every state, an 837P batch, a posted 835 with denials, home programs with logs) plus what a
new clinic adds that the demo lacks: an SLP therapist and a PT assistant, payers of every other
type (Medicare Advantage, Medicaid, workers' compensation, self-pay), one patient on each and
one with no coverage, notes of every visit type (re-evaluation, progress report, discharge,
telehealth), their claims, a patient link, a picture, a message and a second clinic.

Everything goes through the services, as a clinic's data would. Built once per test module
and rolled back at its end; each test runs in a savepoint inside it."""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.core.management import call_command
from django.utils import timezone
from django_otp_webauthn.models import WebAuthnCredential
from PIL import Image

from handrail.web.billing.batches import batch_create
from handrail.web.billing.claims import claim_acknowledge, claims_from_visits
from handrail.web.billing.models import (
    Batch,
    ChargeEntry,
    Claim,
    ClaimState,
    ClinicianBilling,
    Contract,
    PayerBilling,
)
from handrail.web.care.models import Authorization, Case, PlanOfCare
from handrail.web.care.services import GoalInput, case_create, plan_of_care_create
from handrail.web.clinic.models import Clinic, Patient, Payer, PayerType, User
from handrail.web.clinic.services import (
    clinic_create,
    coverage_set,
    patient_create,
    payer_create,
    user_create,
)
from handrail.web.messaging.models import Consent, Message, MessageKind
from handrail.web.messaging.services import message_queue
from handrail.web.messaging.tokens import unsubscribe_token
from handrail.web.portal.services import link_create
from handrail.web.programs.media import media_add
from handrail.web.programs.models import (
    EntryMedia,
    LibraryEntry,
    Program,
    ProgramStatus,
    ProgramTemplate,
)
from handrail.web.programs.services import ItemInput, program_create
from handrail.web.remittances.selectors import denial_rows
from handrail.web.visits.models import Visit, VisitStatus, VisitType
from handrail.web.visits.services import service_line_add, visit_create, visit_sign

PASSWORD = "correct horse battery staple"
NOTE = {
    "baseline": "Needed moderate assistance and 5 cues for the task at the last visit.",
    "task": "Trained the task within the patient's morning routine.",
    "technique": "Taught a compensatory technique with graded verbal and tactile cues.",
    "skilled": "Skilled analysis of task performance and safety judgment needed.",
    "performance": "Performed with minimal assistance; 2 verbal cues; carried over.",
}
# Clinical text the front desk must never see (a note's fields, a case's title, a plan's
# goal): the leak check looks for each in every page it reads.
GOAL = "Completes the routine with supervision"
CLINICAL_MARKERS = (
    "Skilled analysis of task performance",  # every note line's skilled-need field
    "Swallowing after stroke",
    "Hand injury at work",
    GOAL,
)


@dataclass
class MatrixWorld:
    clinic: Clinic
    users: dict[str, User]  # role label -> user; "outsider" is another clinic's therapist
    patients: dict[str, Patient]  # payer type (or "uncovered") -> a patient
    cases: dict[str, Case]  # label -> case
    visits: dict[str, Visit]  # label -> visit
    claims: dict[str, Claim]  # state or payer type -> claim
    programs: dict[str, Program]
    plan: PlanOfCare
    authorization: Authorization
    payers: dict[str, Payer]
    contract: Contract
    batches: list[Batch]  # Medicare's (the demo's), Medicare Advantage's, Medicaid's
    denial: tuple[int, int]  # (claim id, line number) of a denied line
    entry: LibraryEntry
    clinic_entry: LibraryEntry
    media: EntryMedia
    template: ProgramTemplate
    message: Message
    passkey: WebAuthnCredential  # the biller's (a stored row: the walk never signs with it)
    token: str  # a patient link's token
    unsubscribe: str  # an email's unsubscribe token
    today: date
    patient_names: list[str] = field(default_factory=list)


def _user(clinic: Clinic, username: str, role: str, discipline: str = "") -> User:
    return user_create(
        clinic=clinic,
        username=username,
        password=PASSWORD,
        role=role,
        discipline=discipline,
        first_name=username.capitalize(),
        last_name="Matrix",
        email=f"{username}@matrix.invalid",
    )


def _case(therapist: User, patient: Patient, discipline: str, title: str, start: date) -> Case:
    case = case_create(
        user=therapist, patient=patient, discipline=discipline, title=title, opened_on=start
    )
    plan_of_care_create(
        user=therapist,
        case=case,
        diagnoses=["I69.351", "R26.81"] if discipline != "SLP" else ["I69.320", "R13.12"],
        goals=[GoalInput(GOAL, start + timedelta(weeks=6))],
        frequency_per_week=2,
        duration_weeks=8,
        start_date=start,
        medical_necessity="Functional decline below prior level; skilled training needed.",
        certified_on=start + timedelta(days=2),
        certifier_name="Dr. Matrix Certifier",
        certifier_npi="1987654328",
    )
    return case


CODES = {"PT": ("97110", "97530"), "OT": ("97535", "97530"), "SLP": ("92526", "92507")}
# Handrail prices no SLP evaluation code yet: an SLP evaluation visit bills its treatment.
EVALUATIONS = {"PT": "97162", "OT": "97166"}


def _visit(
    clinician: User,
    case: Case,
    day: date,
    visit_type: str,
    *,
    sign: bool = True,
    assistant: bool = False,
    **fields: Any,
) -> Visit:
    visit = visit_create(
        user=clinician,
        case=case,
        date=day,
        visit_type=visit_type,
        medical_necessity_attested=True,
        narrative=f"Matrix {visit_type} visit.",
        **fields,
    )
    if case.discipline in EVALUATIONS and visit_type in (
        VisitType.EVALUATION,
        VisitType.RE_EVALUATION,
    ):
        service_line_add(
            user=clinician,
            visit=visit,
            code=EVALUATIONS[case.discipline],
            therapist_minutes=0 if assistant else 45,
        )
    for code in CODES[case.discipline]:
        minutes = 25 if code != "92507" else 30  # 92507 is untimed: one per day
        service_line_add(
            user=clinician,
            visit=visit,
            code=code,
            therapist_minutes=0 if assistant else minutes,
            assistant_minutes=minutes if assistant else 0,
            **NOTE,
        )
    if sign:
        visit = visit_sign(user=clinician, visit=visit, reason="Matrix note signed as written.")
    return visit


def _picture() -> io.BytesIO:
    data = io.BytesIO()
    Image.new("RGB", (8, 8), (200, 40, 40)).save(data, format="PNG")
    data.seek(0)
    return data


def build_matrix_world() -> MatrixWorld:
    call_command("load_demo", stdout=io.StringIO())
    today = timezone.localdate()
    clinic = Clinic.objects.get(name__startswith="Handrail Demo Rehab")
    demo = {u.username: u for u in User.objects.filter(clinic=clinic)}
    users = {
        "admin": demo["admin"],
        "biller": demo["biller"],
        "pt": demo["pt"],
        "ot": demo["ot"],
        "slp": _user(clinic, "matrix-slp", "therapist", "SLP"),
        "ota": demo["ota"],
        "pta": _user(clinic, "matrix-pta", "assistant", "PT"),
        "front_desk": demo["frontdesk"],
    }
    other = clinic_create(name="Matrix Elsewhere Rehab", zip="60601")
    users["outsider"] = _user(other, "matrix-outsider", "therapist", "OT")
    payers = {p.type: p for p in Payer.objects.filter(clinic=clinic)}
    for kind, name, billing in (
        (PayerType.MEDICARE_ADVANTAGE, "Prairie Advantage (synthetic)", "16"),
        (PayerType.MEDICAID, "Illinois Medicaid (synthetic)", "MC"),
        (PayerType.WORKERS_COMP, "Works Comp Mutual (synthetic)", ""),
        (PayerType.OTHER, "Self-pay", ""),
    ):
        payers[kind] = payer_create(clinic=clinic, name=name, type=kind)
        if billing:  # the last two have no billing ids yet, as a newly added payer
            PayerBilling.objects.create(
                payer=payers[kind], electronic_id="MTX01", filing_indicator=billing
            )
    front_desk = users["front_desk"]
    patients: dict[str, Patient] = {}
    for kind in (PayerType.MEDICARE, PayerType.COMMERCIAL):
        patients[kind] = Patient.objects.filter(
            clinic=clinic, coverages__payer=payers[kind]
        ).order_by("pk")[0]
    start = today - timedelta(days=30)
    cases: dict[str, Case] = {}
    visits: dict[str, Visit] = {}
    extra = (
        (PayerType.MEDICARE_ADVANTAGE, "SLP", users["slp"], "Swallowing after stroke"),
        (PayerType.MEDICAID, "PT", users["pt"], "Gait after TKA"),
        (PayerType.WORKERS_COMP, "OT", users["ot"], "Hand injury at work"),
        (PayerType.OTHER, "PT", users["pt"], "Low back pain"),
        ("uncovered", "OT", users["ot"], "Dressing after THA"),
    )
    for index, (kind, discipline, therapist, title) in enumerate(extra):
        patient = patient_create(
            user=front_desk,
            first_name=f"Matrix{index}",
            last_name=f"Payer{kind.replace('-', '').title()}",
            birth_date=date(1950 + index, 2, 3),
            sex="F" if index % 2 else "M",
            phone=f"217-555-02{index:02d}",
            address=f"{20 + index} Matrix Road",
            city="Springfield",
            state="IL",
            zip="62701",
        )
        if kind != "uncovered":
            coverage_set(
                user=front_desk, patient=patient, payer=payers[kind], member_id=f"MTX{index:04d}"
            )
        patients[kind] = patient
        case = _case(therapist, patient, discipline, title, start)
        cases[f"{discipline}/{kind}"] = case
        visits[f"evaluation/{discipline}/{kind}"] = _visit(
            therapist, case, start + timedelta(days=1), VisitType.EVALUATION
        )
        visits[f"treatment/{discipline}/{kind}"] = _visit(
            therapist, case, start + timedelta(days=4), VisitType.TREATMENT
        )
        visits[f"draft/{discipline}/{kind}"] = _visit(
            therapist, case, today - timedelta(days=1), VisitType.TREATMENT, sign=False
        )
    slp_case = cases[f"SLP/{PayerType.MEDICARE_ADVANTAGE}"]
    visits["progress_report/SLP"] = _visit(
        users["slp"], slp_case, start + timedelta(days=8), VisitType.PROGRESS_REPORT
    )
    visits["re_evaluation/SLP"] = _visit(
        users["slp"], slp_case, start + timedelta(days=11), VisitType.RE_EVALUATION
    )
    visits["telehealth/SLP"] = _visit(
        users["slp"], slp_case, start + timedelta(days=15), VisitType.TREATMENT, telehealth="home"
    )
    visits["discharge/SLP"] = _visit(
        users["slp"], slp_case, start + timedelta(days=18), VisitType.DISCHARGE
    )
    pt_case = cases[f"PT/{PayerType.MEDICAID}"]
    visits["pta-awaiting-cosign/PT"] = _visit(
        users["pta"], pt_case, start + timedelta(days=8), VisitType.TREATMENT, assistant=True
    )
    visits["pta-draft/PT"] = _visit(
        users["pta"], pt_case, today, VisitType.TREATMENT, assistant=True, sign=False
    )
    for visit in Visit.objects.filter(case__clinic=clinic).select_related("case", "clinician"):
        key = f"demo-{visit.status}/{visit.case.discipline}"
        if visit.is_signed and visit.clinician.role == "assistant" and not visit.cosigned_by_id:
            key = "demo-awaiting-cosign/OT"
        visits.setdefault(key, visit)
    for key, case in (("demo/PT", "PT"), ("demo/OT", "OT")):
        cases[key] = Case.objects.filter(clinic=clinic, discipline=case).order_by("pk")[0]
    # The SLP and the PT assistant bill under their own NPIs (synthetic, valid check
    # digits) and the clinic charges their codes: their payers' claims go ready and out in
    # an 837P of their own (Medicare Advantage and Medicaid filing indicators).
    for role, npi, taxonomy in (
        ("slp", "1765432103", "235Z00000X"),
        ("pta", "1888777665", "225200000X"),
    ):
        User.objects.filter(pk=users[role].pk).update(npi=npi)
        ClinicianBilling.objects.create(user=users[role], taxonomy=taxonomy)
    for code, charge in (("92526", "120.00"), ("92507", "130.00"), ("97162", "260.00")):
        if not ChargeEntry.objects.filter(clinic=clinic, code=code).exists():
            ChargeEntry.objects.create(
                clinic=clinic, code=code, charge=Decimal(charge), effective_from=date(2025, 1, 1)
            )
    claims_from_visits(user=users["biller"], clinic=clinic, through=today)
    for claim in Claim.objects.filter(
        clinic=clinic, state=ClaimState.HELD, payer__type__in=["medicare-advantage", "medicaid"]
    ):
        if not claim.hold_reasons:
            claim_acknowledge(user=users["biller"], claim=claim)
    batches = [Batch.objects.filter(clinic=clinic).order_by("pk")[0]]
    for kind in (PayerType.MEDICARE_ADVANTAGE, PayerType.MEDICAID):
        batches.append(
            batch_create(
                user=users["biller"], payer=payers[kind], through=today, make_claims=False
            )
        )
    claims: dict[str, Claim] = {}
    for claim in Claim.objects.filter(clinic=clinic).select_related("payer").order_by("pk"):
        claims.setdefault(claim.state, claim)
        claims.setdefault(f"payer/{claim.payer.type}", claim)
    assert set(ClaimState.values) <= set(claims), sorted(claims)
    rows = denial_rows(user=users["biller"], today=today)
    denied = next(row for row in rows if row.outcome == "denied")
    programs = {
        "issued": Program.objects.filter(clinic=clinic, status=ProgramStatus.ISSUED)
        .order_by("pk")
        .first(),
    }
    entry = LibraryEntry.objects.filter(clinic__isnull=True, kind="self_care").order_by("key")[0]
    programs["draft/SLP"] = program_create(
        user=users["slp"],
        case=slp_case,
        title="Swallow exercises at home",
        items=[ItemInput(entry_id=entry.pk, dose={})],
    )
    issued = programs["issued"]
    assert issued is not None
    _link, token = link_create(program=issued, by=users["ot"])
    media = media_add(user=users["ot"], entry=entry, stream=_picture(), caption="Start position")
    from handrail.web.programs.services import library_entry_create

    clinic_entry = library_entry_create(
        user=users["ot"],
        data={
            "title": "Matrix sock aid practice",
            "kind": "self_care",
            "summary": "Put on socks with a sock aid while seated.",
            "billing_code": "97535",
            "regions": ["ankle"],
            "steps": ["Sit.", "Load the sock.", "Pull it on."],
            "reps": 5,
            "sets": 1,
        },
    )
    consenting = Consent.objects.filter(patient__clinic=clinic, withdrawn_at__isnull=True)
    message = message_queue(
        patient=consenting.order_by("pk")[0].patient,
        kind=MessageKind.REMINDER,
        subject="A reminder from the matrix clinic",
        idempotency_key="matrix-reminder",
    )
    assert message is not None
    patient_names = list(
        Patient.objects.filter(clinic=clinic).values_list("last_name", flat=True).distinct()
    )
    return MatrixWorld(
        clinic=clinic,
        users=users,
        patients=patients,
        cases=cases,
        visits=visits,
        claims=claims,
        programs={k: v for k, v in programs.items() if v is not None},
        plan=PlanOfCare.objects.filter(case__clinic=clinic).order_by("pk")[0],
        authorization=Authorization.objects.filter(case__clinic=clinic).order_by("pk")[0],
        payers=payers,
        contract=Contract.objects.filter(clinic=clinic).order_by("pk")[0],
        batches=batches,
        denial=(denied.claim.pk, denied.line.number),
        entry=entry,
        clinic_entry=clinic_entry,
        media=media,
        template=ProgramTemplate.objects.filter(clinic=clinic).order_by("pk")[0],
        message=message,
        passkey=WebAuthnCredential.objects.create(
            user=users["biller"],
            name="Matrix laptop",
            credential_id=b"matrix-passkey",
            credential_id_sha256=hashlib.sha256(b"matrix-passkey").hexdigest(),
            public_key=b"not a key",
            aaguid="00000000-0000-0000-0000-000000000000",
        ),
        token=token,
        unsubscribe=unsubscribe_token(message.consent_id),
        today=today,
        patient_names=patient_names,
    )


def visit_statuses(world: MatrixWorld) -> set[str]:
    return {visit.status for visit in world.visits.values()} & set(VisitStatus.values)

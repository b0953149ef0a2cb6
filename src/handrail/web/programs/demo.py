"""Home programs of the synthetic demo clinic: clinic templates, and for each case in
treatment a program issued and then revised, taught at the visits still open as drafts
(billed on those notes) or sent outside a visit (on the untaught worklist).

Called by `manage.py load_demo` after the visits exist; everything goes through the
services, so the demo obeys the rules typed-in data does.
"""

from __future__ import annotations

from dataclasses import dataclass

from handrail.web.care.models import Case
from handrail.web.clinic.models import User
from handrail.web.programs.models import LibraryEntry, Program, ProgramTemplate
from handrail.web.programs.services import (
    ItemInput,
    program_create,
    program_issue,
    program_item_add,
    program_item_update,
    template_create,
)
from handrail.web.visits.models import VisitStatus


@dataclass(frozen=True, slots=True)
class DemoTemplate:
    title: str
    discipline: str
    description: str
    sections: tuple[tuple[str, tuple[str, ...]], ...]  # (section, entry keys)
    revision: str  # the entry added when the program is revised


TEMPLATES = (
    DemoTemplate(
        "Low back pain: first two weeks",
        "PT",
        "Gentle mobility and trunk control while pain settles; walking builds up daily.",
        (
            ("Morning", ("lumbar-pelvic-tilt-supine", "lumbar-knee-to-chest-single")),
            ("Afternoon", ("lumbar-bridge", "lumbar-abdominal-draw-in", "lumbar-walking-program")),
        ),
        "lumbar-bird-dog",
    ),
    DemoTemplate(
        "Total hip precautions: ADLs",
        "OT",
        "Dressing, bathing and transfers within posterior hip precautions.",
        (
            (
                "",
                (
                    "education-hip-precautions-posterior",
                    "dressing-lower-body-posterior-hip-precautions",
                    "bathing-tub-transfer-bench",
                ),
            ),
        ),
        "dressing-compression-stockings",
    ),
    DemoTemplate(
        "Knee: early strength and range",
        "PT",
        "After a knee injury or replacement: range first, then strength.",
        (("", ("knee-quad-set", "knee-heel-slide", "knee-straight-leg-raise")),),
        "knee-sit-to-stand",
    ),
)


def _entry(key: str) -> LibraryEntry:
    return LibraryEntry.objects.get(key=key, clinic__isnull=True)


def load_demo_programs(users: dict[str, User]) -> dict[str, int]:
    """Templates, then one program per open case: version 1, then a revision (version 2)."""
    counts = {"templates": 0, "programs": 0, "versions": 0}
    therapists = {"PT": users["pt"], "OT": users["ot"]}
    for demo in TEMPLATES:
        template_create(
            user=therapists[demo.discipline],
            title=demo.title,
            description=demo.description,
            items=[
                ItemInput(entry_id=_entry(key).pk, dose={}, section=section)
                for section, keys in demo.sections
                for key in keys
            ],
        )
        counts["templates"] += 1
    clinic = users["pt"].clinic
    cases = Case.objects.filter(clinic=clinic, closed_on__isnull=True).order_by("id")
    for index, case in enumerate(cases):
        choices = [t for t in TEMPLATES if t.discipline == case.discipline]
        if not choices:
            continue
        demo = choices[index % len(choices)]
        program = _program(therapists[case.discipline], case, demo)
        counts["programs"] += 1
        counts["versions"] += program.version_number
    return counts


def _program(therapist: User, case: Case, demo: DemoTemplate) -> Program:
    template = ProgramTemplate.objects.get(clinic_id=case.clinic_id, title=demo.title)
    program = program_create(user=therapist, case=case, title="", template=template)
    drafts = list(case.visits.filter(status=VisitStatus.DRAFT).order_by("date"))
    program_issue(
        user=therapist,
        program=program,
        visit=drafts[0] if drafts else None,
        teaching_methods=["demonstration", "return_demonstration", "written_handout"],
        minutes={"97535": 12} if drafts and demo.discipline == "OT" else {},
    )
    # The revision: one new entry and a dose progressed; taught at the next draft note if
    # there is one, else sent outside a visit (it then waits on the untaught worklist).
    program_item_add(
        user=therapist,
        program=program,
        item=ItemInput(entry_id=_entry(demo.revision).pk, dose={}),
    )
    first = program.items.order_by("position").first()
    if first is not None and first.reps is not None:
        program_item_update(user=therapist, item=first, data={"reps": min(first.reps + 5, 100)})
    program_issue(
        user=therapist,
        program=program,
        visit=drafts[1] if len(drafts) > 1 else None,
        teaching_methods=["demonstration", "verbal"],
    )
    program.refresh_from_db()
    return program

"""The program's handout PDF and a template's blank handout (handrail.handouts.pdf)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from handrail.handouts.pdf import Handout, HandoutItem, render_handout
from handrail.web.programs.models import Program, ProgramTemplate
from handrail.web.programs.services import dose_text, program_snapshot


def _items(rows: Sequence[Mapping[str, Any]]) -> tuple[HandoutItem, ...]:
    return tuple(
        HandoutItem(
            title=row["title"],
            dose=dose_text(row),
            steps=tuple(row["steps"]),
            precautions=tuple(row["precautions"]),
            notes=row.get("notes", ""),
            section=row.get("section", ""),
        )
        for row in rows
    )


def program_handout(program: Program) -> Handout:
    """The last issued version as the patient has it; a never-issued program prints its
    draft, titled as a draft so nobody hands it out by mistake."""
    latest = program.versions.order_by("-number").first()
    if latest is not None:
        rows: Sequence[Mapping[str, Any]] = latest.items
        title, issued_on, number = program.title, latest.issued_at.date(), latest.number
    else:
        rows = program_snapshot(program)
        title, issued_on, number = f"{program.title} (draft, not issued)", None, None
    return Handout(
        clinic_name=program.clinic.name,
        program_title=title,
        items=_items(rows),
        patient_first_name=program.patient.first_name,
        issued_on=issued_on,
        version=number,
    )


def program_handout_pdf(program: Program) -> bytes:
    return render_handout(program_handout(program))


def template_handout_pdf(template: ProgramTemplate) -> bytes:
    rows = [
        {
            "title": t.entry.title,
            "steps": t.entry.steps,
            "precautions": t.entry.precautions,
            "section": t.section,
            "notes": "",
        }
        for t in template.items.select_related("entry").order_by("position", "id")
    ]
    items = tuple(
        HandoutItem(
            title=row["title"],
            steps=tuple(row["steps"]),
            precautions=tuple(row["precautions"]),
            section=row["section"],
        )
        for row in rows
    )
    return render_handout(
        Handout(clinic_name=template.clinic.name, program_title=template.title, items=items)
    )

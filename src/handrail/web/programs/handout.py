"""The program's handout PDF and a template's blank handout (handrail.handouts.pdf)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from django.core.files.storage import default_storage

from handrail.handouts.pdf import Handout, HandoutImage, HandoutItem, render_handout
from handrail.web.programs.models import EntryMedia, MediaKind, Program, ProgramTemplate
from handrail.web.programs.services import dose_text, program_snapshot


def _pictures(clinic_id: int, entry_ids: Sequence[int]) -> dict[int, list[HandoutImage]]:
    """The clinic's pictures of these entries, with their captions and credit lines. A file
    gone from storage costs its picture, not the handout."""
    pictures: dict[int, list[HandoutImage]] = {}
    media = EntryMedia.objects.filter(
        clinic_id=clinic_id, entry_id__in=entry_ids, kind=MediaKind.IMAGE
    ).order_by("position", "id")
    for item in media:
        try:
            with default_storage.open(str(item.file.name), "rb") as stream:
                data = stream.read()
        except OSError:
            continue
        pictures.setdefault(item.entry_id, []).append(
            HandoutImage(data=data, caption=item.caption, credit=item.credit)
        )
    return pictures


def _items(rows: Sequence[Mapping[str, Any]], clinic_id: int) -> tuple[HandoutItem, ...]:
    pictures = _pictures(clinic_id, [row["entry_id"] for row in rows if "entry_id" in row])
    return tuple(
        HandoutItem(
            title=row["title"],
            dose=dose_text(row),
            steps=tuple(row["steps"]),
            precautions=tuple(row["precautions"]),
            notes=row.get("notes", ""),
            section=row.get("section", ""),
            images=tuple(pictures.get(row.get("entry_id", 0), ())),
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
        items=_items(rows, program.clinic_id),
        patient_first_name=program.patient.first_name,
        issued_on=issued_on,
        version=number,
    )


def program_handout_pdf(program: Program) -> bytes:
    return render_handout(program_handout(program))


def template_handout_pdf(template: ProgramTemplate) -> bytes:
    rows = [
        {
            "entry_id": t.entry_id,
            "title": t.entry.title,
            "steps": t.entry.steps,
            "precautions": t.entry.precautions,
            "section": t.section,
            "notes": "",
        }
        for t in template.items.select_related("entry").order_by("position", "id")
    ]
    pictures = _pictures(template.clinic_id, [row["entry_id"] for row in rows])
    items = tuple(
        HandoutItem(
            title=row["title"],
            steps=tuple(row["steps"]),
            precautions=tuple(row["precautions"]),
            section=row["section"],
            images=tuple(pictures.get(row["entry_id"], ())),
        )
        for row in rows
    )
    return render_handout(
        Handout(clinic_name=template.clinic.name, program_title=template.title, items=items)
    )

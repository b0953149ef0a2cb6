"""Writes for the library, programs, versions, templates and favourites.

Conventions as in clinic/services.py: keyword-only arguments, one transaction per call,
`full_clean()` before `save()`, errors as ValidationError keyed by the field. Every change to a
program is audited against its patient.

Who may do what (permissions.py has the roles): programs are clinical content, so billers and
admins read them and front desk does not see them; clinicians (therapists and assistants)
build, revise and issue them, for cases of their own discipline, as they write its notes.
Library entries of the clinic and templates are written by clinicians and clinic admins.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max, Q
from django.utils import timezone
from django.utils.text import slugify

from handrail.library import DISCIPLINES as LIBRARY_DISCIPLINES
from handrail.library import (
    DOSE_LIMITS,
    KIND_CODES,
    LIBRARY_RELEASE,
    Dose,
    Entry,
    Kind,
    builtin_entries,
    dose_errors,
)
from handrail.library import EQUIPMENT as LIBRARY_EQUIPMENT
from handrail.library import REGIONS as LIBRARY_REGIONS
from handrail.rules.home_program import (
    BillingAnswer,
    InstructionEvent,
    TaughtItem,
    billing_answer,
    instruction_event,
)
from handrail.rules.model import RuleInputError
from handrail.web.audit.models import AuditAction
from handrail.web.audit.services import audit_record
from handrail.web.care.models import Case
from handrail.web.clinic.models import Role, User
from handrail.web.clinic.permissions import can_document, require
from handrail.web.programs.models import (
    DOSE_FIELDS,
    EntryKind,
    EntrySource,
    FavouriteEntry,
    LibraryEntry,
    Program,
    ProgramItem,
    ProgramSection,
    ProgramStatus,
    ProgramTemplate,
    ProgramVersion,
    TeachingMethod,
    TemplateItem,
)
from handrail.web.visits.models import ServiceLine, Visit, VisitStatus
from handrail.web.visits.services import service_line_add, service_line_change

MAX_ITEMS = 40  # a home program longer than this is not one a patient follows
MAX_NOTES = 2000
MAX_TITLE = 200
LIST_FIELDS = ("regions", "disciplines", "equipment", "steps", "cues", "precautions", "topics")


def can_edit_programs(user: User) -> bool:
    """Build, revise and issue programs: clinicians, who teach them."""
    return can_document(user)


def can_edit_library(user: User) -> bool:
    """Add or change the clinic's entries and templates: clinicians and clinic admins."""
    return user.role in (Role.THERAPIST, Role.ASSISTANT, Role.ADMIN) and user.clinic_id is not None


def _require_program_author(user: User, program: Program) -> None:
    require(can_edit_programs(user), "Only therapists and assistants change home programs.")
    if program.clinic_id != user.clinic_id:
        raise ValidationError({"program": "No such program in your clinic."})
    require(
        user.discipline == program.case.discipline,
        f"Only {program.case.discipline} clinicians change this case's program.",
    )


# --- the built-in library ---------------------------------------------------------------


def search_text_of(
    title: str,
    summary: str,
    kind: str,
    billing_code: str,
    lists: Mapping[str, Sequence[str]],
) -> str:
    """The words the library search matches: lower case, one space apart."""
    parts = [title, summary, kind.replace("_", " "), billing_code, *lists.get("topics", ())]
    for name in ("regions", "equipment", "disciplines"):
        parts.extend(lists.get(name, ()))
    return " ".join(" ".join(parts).casefold().split())


def _builtin_fields(item: Entry) -> dict[str, Any]:
    lists = {
        "regions": list(item.regions),
        "disciplines": list(item.disciplines),
        "equipment": list(item.equipment),
        "steps": list(item.steps),
        "cues": list(item.cues),
        "precautions": list(item.precautions),
        "topics": list(item.topics),
    }
    return {
        "title": item.title,
        "kind": item.kind.value,
        "summary": item.summary,
        "position": item.position,
        "billing_code": item.billing_code,
        "adl": item.adl or "",
        "builtin_version": item.version,
        "release": LIBRARY_RELEASE,
        "archived": False,
        "search_text": search_text_of(
            item.title, item.summary, item.kind.value, item.billing_code, lists
        ),
        **lists,
        **{name: getattr(item.dose, name) for name in DOSE_FIELDS},
    }


@dataclass(frozen=True, slots=True)
class SyncResult:
    created: int
    updated: int
    archived: int
    unchanged: int


@transaction.atomic
def library_sync(*, using: str = "default") -> SyncResult:
    """Bring the built-in entries in step with the package data: add new keys, rewrite an
    entry whose version or release changed, archive keys the package no longer has (they
    stay for the programs that hold them). Running it twice changes nothing the second
    time."""
    wanted = {item.key: item for item in builtin_entries()}
    rows = {
        row.key: row
        for row in LibraryEntry.objects.using(using).filter(source=EntrySource.BUILTIN)
    }
    created = updated = archived = unchanged = 0
    new_rows = []
    for key, item in wanted.items():
        row = rows.get(key)
        fields = _builtin_fields(item)
        if row is None:
            new_rows.append(LibraryEntry(key=key, source=EntrySource.BUILTIN, **fields))
            created += 1
        elif (row.builtin_version, row.release, row.archived) != (
            item.version,
            LIBRARY_RELEASE,
            False,
        ):
            for name, value in fields.items():
                setattr(row, name, value)
            row.save(using=using)
            updated += 1
        else:
            unchanged += 1
    LibraryEntry.objects.using(using).bulk_create(new_rows)
    for key, row in rows.items():
        if key not in wanted and not row.archived:
            row.archived = True
            row.save(using=using, update_fields=["archived", "updated_at"])
            archived += 1
    return SyncResult(created, updated, archived, unchanged)


# --- the clinic's own entries -----------------------------------------------------------


def _clean_list(data: Mapping[str, Any], name: str, vocabulary: Sequence[str] | None) -> list[str]:
    value = data.get(name, [])
    if isinstance(value, str):
        value = [line for line in (part.strip() for part in value.splitlines()) if line]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValidationError({name: "Give a list of text, one item a line."})
    items = [v.strip() for v in value if v.strip()]
    if vocabulary is not None:
        for v in items:
            if v not in vocabulary:
                raise ValidationError({name: f"{v!r} is not one of: {', '.join(vocabulary)}."})
    if len(items) > 30:
        raise ValidationError({name: "At most 30 lines."})
    return list(dict.fromkeys(items))


def dose_from(data: Mapping[str, Any], *, required: bool = True) -> dict[str, int | None]:
    """The dose fields of `data` checked against the library's limits (`dose_errors`):
    ValidationError naming each bad field. Missing or empty fields are None."""
    dose: dict[str, int | None] = {}
    errors: dict[str, str] = {}
    for name in DOSE_FIELDS:
        value = data.get(name)
        if value is None or value == "":
            dose[name] = None
            continue
        if isinstance(value, str) and re.fullmatch(r"\s*-?\d{1,6}\s*", value):
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int):
            low, high = DOSE_LIMITS[name]
            errors[name] = f"{name.replace('_', ' ')}: a whole number from {low} to {high}."
            continue
        dose[name] = value
    if not errors:
        errors = dose_errors(Dose(**dose))
        if not required and all(v is None for v in dose.values()):
            errors = {}
    if errors:
        raise ValidationError(errors)
    return dose


ENTRY_FIELDS = frozenset(
    {"title", "kind", "summary", "position", "billing_code", *LIST_FIELDS, *DOSE_FIELDS}
)


def _entry_values(data: Mapping[str, Any]) -> dict[str, Any]:
    unknown = sorted(set(data) - ENTRY_FIELDS)
    if unknown:
        raise ValidationError({unknown[0]: "Unknown field."})
    title = str(data.get("title", "")).strip()
    if not title:
        raise ValidationError({"title": "Give the entry a title."})
    if len(title) > MAX_TITLE:
        raise ValidationError({"title": f"At most {MAX_TITLE} characters."})
    kind = str(data.get("kind", ""))
    if kind not in EntryKind.values:
        raise ValidationError({"kind": f"Pick one of: {', '.join(EntryKind.values)}."})
    code = str(data.get("billing_code", "")).strip()
    allowed = KIND_CODES[Kind(kind)]
    if code not in allowed:
        raise ValidationError(
            {"billing_code": f"{kind} entries are billed under {', '.join(allowed)}."}
        )
    lists = {
        "regions": _clean_list(data, "regions", LIBRARY_REGIONS),
        "disciplines": _clean_list(data, "disciplines", LIBRARY_DISCIPLINES),
        "equipment": _clean_list(data, "equipment", LIBRARY_EQUIPMENT),
        "steps": _clean_list(data, "steps", None),
        "cues": _clean_list(data, "cues", None),
        "precautions": _clean_list(data, "precautions", None),
        "topics": _clean_list(data, "topics", None),
    }
    if not lists["steps"]:
        raise ValidationError({"steps": "Give at least one step."})
    if not lists["regions"]:
        raise ValidationError({"regions": "Pick at least one body region."})
    summary = str(data.get("summary", "")).strip()
    return {
        "title": title,
        "kind": kind,
        "summary": summary,
        "position": str(data.get("position", "")).strip()[:200],
        "billing_code": code,
        **lists,
        **dose_from(data),
        "search_text": search_text_of(title, summary, kind, code, lists),
    }


def _clinic_key(clinic_id: int, title: str) -> str:
    base = f"c{clinic_id}-" + (slugify(title)[:90] or "entry")
    key, n = base, 1
    while LibraryEntry.objects.filter(clinic_id=clinic_id, key=key).exists():
        n += 1
        key = f"{base}-{n}"
    return key


def _unique_title(clinic_id: int, title: str, exclude: int | None = None) -> None:
    clash = LibraryEntry.objects.filter(clinic_id=clinic_id, title__iexact=title, archived=False)
    if exclude is not None:
        clash = clash.exclude(pk=exclude)
    if clash.exists():
        raise ValidationError({"title": "Your clinic already has an entry with this title."})


@transaction.atomic
def library_entry_create(
    *, user: User, data: Mapping[str, Any], source: str = EntrySource.CLINIC
) -> LibraryEntry:
    require(can_edit_library(user), "Your role cannot add library entries.")
    assert user.clinic_id is not None
    values = _entry_values(data)
    _unique_title(user.clinic_id, values["title"])
    entry = LibraryEntry(
        clinic_id=user.clinic_id,
        key=_clinic_key(user.clinic_id, values["title"]),
        source=source,
        created_by=user,
        **values,
    )
    entry.full_clean()
    entry.save()
    return entry


@transaction.atomic
def library_entry_update(
    *, user: User, entry: LibraryEntry, data: Mapping[str, Any]
) -> LibraryEntry:
    """Change a clinic entry. Built-ins are never changed: copy one first."""
    require(can_edit_library(user), "Your role cannot change library entries.")
    if entry.is_builtin:
        raise ValidationError(
            {"entry": "Built-in entries cannot be changed; copy it to make your own."}
        )
    if entry.clinic_id is None or entry.clinic_id != user.clinic_id:
        raise ValidationError({"entry": "No such entry in your clinic."})
    values = _entry_values(data)
    _unique_title(entry.clinic_id, values["title"], exclude=entry.pk)
    for name, value in values.items():
        setattr(entry, name, value)
    entry.full_clean()
    entry.save()
    return entry


def entry_form_values(entry: LibraryEntry) -> dict[str, Any]:
    """An entry's editable fields, as `library_entry_create` takes them."""
    values: dict[str, Any] = {
        "title": entry.title,
        "kind": entry.kind,
        "summary": entry.summary,
        "position": entry.position,
        "billing_code": entry.billing_code,
    }
    for name in LIST_FIELDS:
        values[name] = list(getattr(entry, name))
    for name in DOSE_FIELDS:
        values[name] = getattr(entry, name)
    return values


@transaction.atomic
def library_entry_copy(*, user: User, entry: LibraryEntry) -> LibraryEntry:
    """A clinic copy of an entry (a built-in or one of the clinic's), to change freely."""
    require(can_edit_library(user), "Your role cannot add library entries.")
    assert user.clinic_id is not None
    if entry.clinic_id not in (None, user.clinic_id):
        raise ValidationError({"entry": "No such entry."})
    data = entry_form_values(entry)
    title = f"{entry.title} (clinic copy)"
    n = 1
    while LibraryEntry.objects.filter(
        clinic_id=user.clinic_id, title__iexact=title, archived=False
    ).exists():
        n += 1
        title = f"{entry.title} (clinic copy {n})"
    data["title"] = title[:MAX_TITLE]
    copy = library_entry_create(user=user, data=data)
    copy.copied_from = entry
    copy.save(update_fields=["copied_from"])
    return copy


@transaction.atomic
def favourite_toggle(*, user: User, entry: LibraryEntry) -> bool:
    """Mark or unmark a favourite; True when it is a favourite afterwards."""
    if entry.clinic_id not in (None, user.clinic_id):
        raise ValidationError({"entry": "No such entry."})
    deleted, _ = FavouriteEntry.objects.filter(user=user, entry=entry).delete()
    if deleted:
        return False
    FavouriteEntry.objects.create(user=user, entry=entry)
    return True


# --- programs ---------------------------------------------------------------------------


def _usable_entry(user: User, entry_id: Any, field: str) -> LibraryEntry:
    if isinstance(entry_id, bool) or not isinstance(entry_id, int | str):
        raise ValidationError({field: "Give the library entry's id."})
    try:
        pk = int(entry_id)
    except ValueError:
        raise ValidationError({field: f"{entry_id!r} is not an entry id."}) from None
    entry = (
        LibraryEntry.objects.filter(pk=pk, archived=False)
        .filter(Q(clinic__isnull=True) | Q(clinic_id=user.clinic_id))
        .first()
    )
    if entry is None:
        raise ValidationError({field: f"No library entry {pk} in your clinic's library."})
    return entry


def _audit_program(user: User, program: Program, action: AuditAction, detail: str) -> None:
    audit_record(user=user, action=action, obj=program, patient=program.patient, detail=detail)


def _touch(program: Program) -> None:
    program.updated_at = timezone.now()
    program.save(update_fields=["updated_at"])


@dataclass(frozen=True, slots=True)
class ItemInput:
    entry_id: int | str
    dose: Mapping[str, int | None]
    notes: str = ""
    section: str = ""


ITEM_FIELDS = frozenset({"entry_id", "notes", "section", *DOSE_FIELDS})


def item_input(data: Mapping[str, Any], field: str = "item") -> ItemInput:
    """An item from request data: unknown fields refused; a missing dose takes the entry's."""
    if not isinstance(data, Mapping):
        raise ValidationError({field: "Give an object with entry_id and the dose."})
    unknown = sorted(set(data) - ITEM_FIELDS)
    if unknown:
        raise ValidationError({f"{field}.{unknown[0]}": "Unknown field."})
    if "entry_id" not in data:
        raise ValidationError({f"{field}.entry_id": "Give the library entry's id."})
    notes = data.get("notes", "")
    if not isinstance(notes, str):
        raise ValidationError({f"{field}.notes": "Give the notes as text."})
    section = data.get("section", "")
    if not isinstance(section, str):
        raise ValidationError({f"{field}.section": "Give the section's title as text."})
    return ItemInput(
        entry_id=data["entry_id"],
        dose={name: data[name] for name in DOSE_FIELDS if name in data},
        notes=notes,
        section=section,
    )


def _item_dose(entry: LibraryEntry, given: Mapping[str, Any], field: str) -> dict[str, Any]:
    merged = {name: getattr(entry, name) for name in DOSE_FIELDS} if not given else dict(given)
    try:
        return dose_from(merged)
    except ValidationError as exc:
        raise ValidationError(
            {f"{field}.{name}": messages for name, messages in exc.message_dict.items()}
        ) from None


def _section(program: Program, title: str, field: str) -> ProgramSection | None:
    title = " ".join(title.split())
    if not title:
        return None
    if len(title) > 120:
        raise ValidationError({field: "A section title is at most 120 characters."})
    section = program.sections.filter(title__iexact=title).first()
    if section is None:
        section = ProgramSection.objects.create(
            program=program, title=title, position=program.sections.count()
        )
    return section


def _clean_notes(notes: str, field: str) -> str:
    notes = notes.strip()
    if len(notes) > MAX_NOTES:
        raise ValidationError({field: f"Notes are at most {MAX_NOTES} characters."})
    return notes


def _add_item(user: User, program: Program, item: ItemInput, field: str) -> ProgramItem:
    entry = _usable_entry(user, item.entry_id, f"{field}.entry_id")
    if program.items.filter(entry=entry).exists():
        raise ValidationError(
            {f"{field}.entry_id": f"{entry.title} is already in this program; change its dose."}
        )
    if program.items.count() >= MAX_ITEMS:
        raise ValidationError({field: f"A program holds at most {MAX_ITEMS} items."})
    dose = _item_dose(entry, item.dose, field)
    row = ProgramItem(
        program=program,
        entry=entry,
        section=_section(program, item.section, f"{field}.section"),
        position=(program.items.aggregate(top=Max("position"))["top"] or 0) + 1,
        notes=_clean_notes(item.notes, f"{field}.notes"),
        added_by=user,
        **dose,
    )
    row.full_clean()
    row.save()
    return row


@transaction.atomic
def program_create(
    *,
    user: User,
    case: Case,
    title: str,
    items: Sequence[ItemInput] = (),
    template: ProgramTemplate | None = None,
) -> Program:
    """A draft program for the case, optionally started from a template or given items."""
    require(can_edit_programs(user), "Only therapists and assistants build home programs.")
    if case.clinic_id != user.clinic_id:
        raise ValidationError({"case_id": "No such case in your clinic."})
    require(
        user.discipline == case.discipline,
        f"Only {case.discipline} clinicians build this case's program.",
    )
    title = " ".join(title.split())
    if not title and template is not None:
        title = template.title
    if not title:
        raise ValidationError({"title": "Give the program a title."})
    if len(title) > MAX_TITLE:
        raise ValidationError({"title": f"At most {MAX_TITLE} characters."})
    if case.closed_on is not None:
        raise ValidationError({"case_id": "This case is discharged; open a new case."})
    if template is not None and template.clinic_id != user.clinic_id:
        raise ValidationError({"template": "No such template in your clinic."})
    program = Program(
        clinic_id=case.clinic_id,
        patient_id=case.patient_id,
        case=case,
        title=title,
        created_by=user,
    )
    program.full_clean()
    program.save()
    inputs = list(items)
    if template is not None:
        inputs = [
            ItemInput(
                entry_id=t.entry_id,
                dose={name: getattr(t, name) for name in DOSE_FIELDS},
                notes=t.notes,
                section=t.section,
            )
            for t in template.items.all()
        ] + inputs
    for index, item in enumerate(inputs):
        _add_item(user, program, item, f"items[{index}]")
    detail = f"created {title!r}" + (f" from template {template.title!r}" if template else "")
    _audit_program(user, program, AuditAction.CREATE, detail)
    return program


@transaction.atomic
def program_item_add(*, user: User, program: Program, item: ItemInput) -> ProgramItem:
    program = _locked(program)
    _require_program_author(user, program)
    row = _add_item(user, program, item, "item")
    _touch(program)
    _audit_program(user, program, AuditAction.UPDATE, f"added {row.entry.title}")
    return row


def _locked(program: Program) -> Program:
    return (
        Program.objects.select_for_update(of=("self",))
        .select_related("case", "patient")
        .get(pk=program.pk)
    )


@transaction.atomic
def program_item_update(*, user: User, item: ProgramItem, data: Mapping[str, Any]) -> ProgramItem:
    """Change an item's dose, notes or section. `data` holds only what changes; a dose field
    given as None or "" clears it (the whole dose is checked afterwards)."""
    program = _locked(item.program)
    _require_program_author(user, program)
    allowed = {"notes", "section", *DOSE_FIELDS}
    unknown = sorted(set(data) - allowed)
    if unknown:
        raise ValidationError({unknown[0]: "Unknown field."})
    item = ProgramItem.objects.select_related("entry").get(pk=item.pk)
    if any(name in data for name in DOSE_FIELDS):
        merged = {name: data.get(name, getattr(item, name)) for name in DOSE_FIELDS}
        for name, value in dose_from(merged).items():
            setattr(item, name, value)
    if "notes" in data:
        if not isinstance(data["notes"], str):
            raise ValidationError({"notes": "Give the notes as text."})
        item.notes = _clean_notes(data["notes"], "notes")
    if "section" in data:
        if not isinstance(data["section"], str):
            raise ValidationError({"section": "Give the section's title as text."})
        item.section = _section(program, data["section"], "section")
    item.full_clean()
    item.save()
    _touch(program)
    _audit_program(user, program, AuditAction.UPDATE, f"changed {item.entry.title}")
    return item


@transaction.atomic
def program_item_remove(*, user: User, item: ProgramItem) -> None:
    program = _locked(item.program)
    _require_program_author(user, program)
    title = item.entry.title
    item.delete()
    _renumber(program)
    _touch(program)
    _audit_program(user, program, AuditAction.UPDATE, f"removed {title}")


def _renumber(program: Program) -> None:
    for position, row in enumerate(program.items.order_by("position", "id"), start=1):
        if row.position != position:
            ProgramItem.objects.filter(pk=row.pk).update(position=position)


@transaction.atomic
def program_reorder(*, user: User, program: Program, item_ids: Sequence[int]) -> None:
    """Put the items in this order; the list must hold each item of the program once."""
    program = _locked(program)
    _require_program_author(user, program)
    current = set(program.items.values_list("pk", flat=True))
    if len(item_ids) != len(set(item_ids)) or set(item_ids) != current:
        raise ValidationError({"order": "Give every item of the program once; reload the page."})
    for position, pk in enumerate(item_ids, start=1):
        ProgramItem.objects.filter(pk=pk).update(position=position)
    _touch(program)
    _audit_program(user, program, AuditAction.UPDATE, "reordered items")


@transaction.atomic
def program_item_move(*, user: User, item: ProgramItem, offset: int) -> None:
    """Move an item up (-1) or down (+1): the keyboard way to reorder."""
    if offset not in (-1, 1):
        raise ValidationError({"move": "Move up or down one place."})
    ids = list(item.program.items.order_by("position", "id").values_list("pk", flat=True))
    index = ids.index(item.pk)
    target = index + offset
    if 0 <= target < len(ids):
        ids[index], ids[target] = ids[target], ids[index]
    program_reorder(user=user, program=item.program, item_ids=ids)


@transaction.atomic
def program_section_add(*, user: User, program: Program, title: str) -> ProgramSection:
    program = _locked(program)
    _require_program_author(user, program)
    if not " ".join(title.split()):
        raise ValidationError({"title": "Give the section a title."})
    if program.sections.filter(title__iexact=" ".join(title.split())).exists():
        raise ValidationError({"title": "The program already has this section."})
    section = _section(program, title, "title")
    assert section is not None
    _audit_program(user, program, AuditAction.UPDATE, f"added section {section.title!r}")
    return section


# --- issuing ----------------------------------------------------------------------------


def item_snapshot(item: ProgramItem) -> dict[str, Any]:
    """An item as a version stores it: enough to print, compare and bill it later even if the
    library entry changes or is archived."""
    entry = item.entry
    return {
        "item_id": item.pk,
        "entry_id": entry.pk,
        "key": entry.key,
        "title": entry.title,
        "kind": entry.kind,
        "billing_code": entry.billing_code,
        "section": item.section.title if item.section else "",
        "steps": list(entry.steps),
        "precautions": list(entry.precautions),
        **{name: getattr(item, name) for name in DOSE_FIELDS},
        "notes": item.notes,
    }


def program_snapshot(program: Program) -> list[dict[str, Any]]:
    items = program.items.select_related("entry", "section").order_by("position", "id")
    return [item_snapshot(item) for item in items]


def taught_items(snapshot: Sequence[Mapping[str, Any]]) -> list[TaughtItem]:
    """The engine's view of a snapshot: the instructions are the patient's notes and the
    entry's steps and precautions, so a changed step is new instruction too."""
    return [
        TaughtItem(
            entry_key=row["key"],
            billing_code=row["billing_code"],
            kind=row["kind"],
            dose=tuple(row[name] for name in DOSE_FIELDS),
            instructions="\n".join([row["notes"], *row["steps"], *row["precautions"]]),
        )
        for row in snapshot
    ]


def dose_text(row: Mapping[str, Any]) -> str:
    """A dose in words: "3 sets × 10 reps, hold 5 s, 2× a day, 5 days a week"."""
    parts: list[str] = []
    sets, reps = row.get("sets"), row.get("reps")
    reps_text = f"{reps} rep{'s' if reps != 1 else ''}" if reps else ""
    if sets and reps:
        parts.append(f"{sets} set{'s' if sets != 1 else ''} × {reps_text}")
    elif reps:
        parts.append(reps_text)
    elif sets:
        parts.append(f"{sets} set{'s' if sets != 1 else ''}")
    if row.get("hold_seconds"):
        parts.append(f"hold {row['hold_seconds']} s")
    if row.get("minutes"):
        parts.append(f"{row['minutes']} min")
    if row.get("times_per_day"):
        parts.append(f"{row['times_per_day']}× a day")
    if row.get("days_per_week"):
        parts.append(f"{row['days_per_week']} days a week")
    return ", ".join(parts)


def snapshot_changes(
    previous: Sequence[Mapping[str, Any]] | None, current: Sequence[Mapping[str, Any]]
) -> list[dict[str, str]]:
    """What changed from one snapshot to the next, for the version diff: each change is
    {"change": added|removed|dose|notes|section|content|moved, "title", "before", "after"}."""
    if previous is None:
        return [
            {"change": "added", "title": row["title"], "before": "", "after": dose_text(row)}
            for row in current
        ]
    before = {row["key"]: row for row in previous}
    now = {row["key"]: row for row in current}
    changes: list[dict[str, str]] = []
    for row in current:
        old = before.get(row["key"])
        if old is None:
            changes.append(
                {"change": "added", "title": row["title"], "before": "", "after": dose_text(row)}
            )
            continue
        if any(old.get(name) != row.get(name) for name in DOSE_FIELDS):
            changes.append(
                {
                    "change": "dose",
                    "title": row["title"],
                    "before": dose_text(old),
                    "after": dose_text(row),
                }
            )
        for name in ("notes", "section"):
            if old.get(name, "") != row.get(name, ""):
                changes.append(
                    {
                        "change": name,
                        "title": row["title"],
                        "before": old.get(name, ""),
                        "after": row.get(name, ""),
                    }
                )
        if (old["steps"], old["precautions"]) != (row["steps"], row["precautions"]):
            changes.append(
                {
                    "change": "content",
                    "title": row["title"],
                    "before": "steps or precautions as issued before",
                    "after": "the entry's current steps and precautions",
                }
            )
    for row in previous:
        if row["key"] not in now:
            changes.append(
                {"change": "removed", "title": row["title"], "before": dose_text(row), "after": ""}
            )
    kept_before = [row["key"] for row in previous if row["key"] in now]
    kept_now = [row["key"] for row in current if row["key"] in before]
    if kept_before != kept_now:
        changes.append(
            {
                "change": "moved",
                "title": "Order",
                "before": ", ".join(before[k]["title"] for k in kept_before),
                "after": ", ".join(now[k]["title"] for k in kept_now),
            }
        )
    return changes


def last_taught(program: Program) -> ProgramVersion | None:
    """The latest version taught at a visit: what a new issue is compared with for billing,
    so changes sent outside a visit stay new instruction until they are taught."""
    return program.versions.filter(visit__isnull=False).order_by("-number").first()


@dataclass(frozen=True, slots=True)
class IssuePreview:
    """What issuing the program now would do."""

    snapshot: list[dict[str, Any]]
    changes: list[dict[str, str]]
    event: InstructionEvent
    answer: BillingAnswer
    titles: dict[str, str]  # entry key -> title, to show the engine's lines in words
    reason: str  # the billing answer's reason, entries named by title
    reasons: list[str]  # the instruction event's reasons, entries named by title


def in_words(text: str, titles: Mapping[str, str]) -> str:
    """The engine names entries by key; people read titles (longest keys first, so a key
    that starts another is never replaced inside it)."""
    for key in sorted(titles, key=len, reverse=True):
        text = re.sub(rf"(?<![\w-]){re.escape(key)}(?![\w-])", titles[key], text)
    return text


def issue_preview(*, program: Program, during_visit: bool) -> IssuePreview:
    snapshot = program_snapshot(program)
    latest = program.versions.order_by("-number").first()
    taught = last_taught(program)
    try:
        event = instruction_event(
            taught_items(taught.items) if taught else None, taught_items(snapshot)
        )
    except RuleInputError as exc:
        raise ValidationError({"items": exc.message}) from None
    titles = {row["key"]: row["title"] for row in (taught.items if taught else [])}
    titles.update({row["key"]: row["title"] for row in snapshot})
    answer = billing_answer(event, during_visit=during_visit)
    return IssuePreview(
        snapshot=snapshot,
        changes=snapshot_changes(latest.items if latest else None, snapshot),
        event=event,
        answer=answer,
        titles=titles,
        reason=in_words(answer.reason, titles),
        reasons=[in_words(reason, titles) for reason in event.reasons],
    )


def issuable_visits(*, program: Program) -> list[Visit]:
    """Draft notes of the program's case: where instruction can be billed."""
    return list(
        Visit.objects.filter(case_id=program.case_id, status=VisitStatus.DRAFT)
        .select_related("clinician")
        .order_by("-date")
    )


MINUTES_LIMIT = 120


def _clean_minutes(minutes: Mapping[str, Any], codes: Sequence[str]) -> dict[str, int]:
    unknown = sorted(set(minutes) - set(codes))
    if unknown:
        raise ValidationError(
            {f"minutes.{unknown[0]}": "No line of this issue is billed under this code."}
        )
    clean: dict[str, int] = {}
    for code in codes:
        value = minutes.get(code)
        if value is None or value == "":
            clean[code] = 0  # left for the note's timer
            continue
        if isinstance(value, str) and value.strip().isdigit():
            value = int(value.strip())
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 120:
            raise ValidationError(
                {f"minutes.{code}": f"Minutes teaching {code}: a whole number from 0 to 120."}
            )
        clean[code] = value
    return clean


def _methods(methods: Sequence[str]) -> list[str]:
    bad = [m for m in methods if m not in TeachingMethod.values]
    if bad:
        raise ValidationError(
            {"teaching_methods": f"{bad[0]!r} is not one of: {', '.join(TeachingMethod.values)}."}
        )
    return list(dict.fromkeys(methods))


def _line_task(titles: Sequence[str], snapshot: Sequence[Mapping[str, Any]]) -> str:
    rows = {row["title"]: row for row in snapshot}
    parts = []
    for title in titles:
        dose = dose_text(rows[title]) if title in rows else ""
        parts.append(f"{title} ({dose})" if dose else title)
    return "Home program instruction: " + "; ".join(parts) + "."


def _technique(methods: Sequence[str]) -> str:
    labels = [TeachingMethod(m).label.lower() for m in methods]
    return "Taught by " + ", ".join(labels) + "." if labels else ""


def _put_on_note(
    user: User,
    visit: Visit,
    code: str,
    task: str,
    technique: str,
    minutes: int,
) -> None:
    """Add the line to the note, or extend the code's line when it is already there (a
    note holds one line per code): the task and technique are appended, the minutes added."""
    assistant = user.role == Role.ASSISTANT
    line = ServiceLine.objects.filter(visit=visit, code=code).first()
    if line is None:
        service_line_add(
            user=user,
            visit=visit,
            code=code,
            therapist_minutes=0 if assistant else minutes,
            assistant_minutes=minutes if assistant else 0,
            task=task,
            technique=technique,
        )
        return
    note = {
        "task": "\n".join(p for p in (line.task, task) if p),
        "technique": "\n".join(p for p in (line.technique, technique) if p),
    }
    service_line_change(
        user=user,
        line=line,
        note=note,
        therapist_minutes=line.therapist_minutes + (0 if assistant else minutes),
        assistant_minutes=line.assistant_minutes + (minutes if assistant else 0),
    )


@transaction.atomic
def program_issue(
    *,
    user: User,
    program: Program,
    visit: Visit | None = None,
    teaching_methods: Sequence[str] = (),
    minutes: Mapping[str, Any] | None = None,
    seen_version: int | None = None,
) -> ProgramVersion:
    """Issue the program as it is now: a new immutable version.

    `seen_version`: the version the issuer's page showed (the issue page sends it). When
    someone issued since, nothing is issued: two people pressing Issue at once made two
    versions (the patient emailed twice) with nothing changed between them.

    With a visit (a draft note of the program's case), new instruction is billable
    (handrail.rules.home_program.billing_answer) and each billing line of the taught items
    goes on the note: the code, the task (the items taught), the technique (the teaching
    methods) and the minutes typed (0 leaves them to the note's timer); the patient's
    teach-back (the line's performance field) is left for the therapist. Without a visit the
    version is sent but not billable, and the program waits on the untaught worklist until it
    is taught at a visit. Everything or nothing: a refused note line saves no version."""
    program = _locked(program)
    _require_program_author(user, program)
    if seen_version is not None and seen_version != program.version_number:
        last = program.versions.select_related("issued_by").order_by("-number").first()
        who = f"{last.issued_by} issued version {last.number}" if last else "It changed"
        raise ValidationError(
            {
                "version": f"{who} after you opened this page; look at it (Versions) before "
                "issuing again."
            }
        )
    if visit is not None:
        if visit.case_id != program.case_id or visit.clinic_id != program.clinic_id:
            raise ValidationError({"visit_id": "Pick a note of this program's case."})
        if visit.status != VisitStatus.DRAFT:
            raise ValidationError(
                {"visit_id": "This note is signed; teach it at a draft note or add an addendum."}
            )
    methods = _methods(teaching_methods)
    preview = issue_preview(program=program, during_visit=visit is not None)
    if not preview.snapshot:
        raise ValidationError({"items": "Add at least one item before issuing the program."})
    codes = [line.code for line in preview.event.lines] if preview.answer.billable else []
    clean_minutes = _clean_minutes(minutes or {}, codes)
    if visit is not None and preview.answer.billable and not methods:
        raise ValidationError(
            {"teaching_methods": "Say how you taught it (e.g. demonstration) for the note."}
        )
    number = program.version_number + 1
    version = ProgramVersion(
        program=program,
        number=number,
        items=preview.snapshot,
        changes=preview.changes,
        issued_by=user,
        issued_at=timezone.now(),
        visit=visit,
        teaching_methods=methods,
        is_new_instruction=preview.event.is_new_instruction,
        billable=preview.answer.billable,
        billing_code=preview.answer.code,
        billing_reason=preview.reason,
        billed_minutes=clean_minutes,
    )
    version.full_clean()
    version.save()
    if visit is not None and preview.answer.billable:
        for line in preview.event.lines:
            titles = [preview.titles[key] for key in line.entry_keys]
            _put_on_note(
                user,
                visit,
                line.code,
                _line_task(titles, preview.snapshot),
                _technique(methods),
                clean_minutes[line.code],
            )
    program.version_number = number
    program.status = ProgramStatus.ISSUED
    if visit is not None:
        program.needs_teaching = False
    elif preview.event.is_new_instruction:
        program.needs_teaching = True
    program.save(update_fields=["version_number", "status", "needs_teaching", "updated_at"])
    where = f"at visit {visit.date.isoformat()}" if visit else "outside a visit"
    _audit_program(
        user,
        program,
        AuditAction.UPDATE,
        f"issued version {number} {where}"
        + (f"; billed {', '.join(codes)}" if codes else "; not billable"),
    )
    return version


# --- templates --------------------------------------------------------------------------


@transaction.atomic
def template_from_program(
    *, user: User, program: Program, title: str, description: str = ""
) -> ProgramTemplate:
    """A clinic template with the program's items, doses, notes and sections."""
    require(can_edit_library(user), "Your role cannot make templates.")
    if program.clinic_id != user.clinic_id:
        raise ValidationError({"program": "No such program in your clinic."})
    title = " ".join(title.split())
    if not title:
        raise ValidationError({"title": "Give the template a title."})
    if len(title) > MAX_TITLE:
        raise ValidationError({"title": f"At most {MAX_TITLE} characters."})
    if ProgramTemplate.objects.filter(clinic_id=user.clinic_id, title__iexact=title).exists():
        raise ValidationError({"title": "Your clinic already has a template with this title."})
    template = ProgramTemplate(
        clinic_id=user.clinic_id, title=title, description=description.strip(), created_by=user
    )
    template.full_clean()
    template.save()
    items = program.items.select_related("section").order_by("position", "id")
    for position, item in enumerate(items, start=1):
        TemplateItem.objects.create(
            template=template,
            entry_id=item.entry_id,
            section=item.section.title if item.section else "",
            position=position,
            notes=item.notes,
            **{name: getattr(item, name) for name in DOSE_FIELDS},
        )
    _audit_program(user, program, AuditAction.VIEW, f"made template {title!r}")
    return template


@transaction.atomic
def template_create(
    *,
    user: User,
    title: str,
    items: Sequence[ItemInput],
    description: str = "",
) -> ProgramTemplate:
    """A template from entries (the demo and the API use it; pages make them from programs)."""
    require(can_edit_library(user), "Your role cannot make templates.")
    assert user.clinic_id is not None
    title = " ".join(title.split())
    if not title:
        raise ValidationError({"title": "Give the template a title."})
    if ProgramTemplate.objects.filter(clinic_id=user.clinic_id, title__iexact=title).exists():
        raise ValidationError({"title": "Your clinic already has a template with this title."})
    template = ProgramTemplate.objects.create(
        clinic_id=user.clinic_id, title=title, description=description.strip(), created_by=user
    )
    for position, item in enumerate(items, start=1):
        field = f"items[{position - 1}]"
        entry = _usable_entry(user, item.entry_id, f"{field}.entry_id")
        if template.items.filter(entry=entry).exists():
            raise ValidationError({f"{field}.entry_id": f"{entry.title} is listed twice."})
        TemplateItem.objects.create(
            template=template,
            entry=entry,
            section=" ".join(item.section.split())[:120],
            position=position,
            notes=_clean_notes(item.notes, f"{field}.notes"),
            **_item_dose(entry, item.dose, field),
        )
    return template


@transaction.atomic
def template_delete(*, user: User, template: ProgramTemplate) -> None:
    require(can_edit_library(user), "Your role cannot remove templates.")
    if template.clinic_id != user.clinic_id:
        raise ValidationError({"template": "No such template in your clinic."})
    template.delete()

"""Reads for the library and programs, always within the signed-in user's clinic (plus the
built-in entries every clinic shares). A record of another clinic is "not found"."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Q, QuerySet
from django.http import Http404

from handrail.web.care.models import Case
from handrail.web.clinic.models import User
from handrail.web.clinic.permissions import clinic_id_of
from handrail.web.programs.models import (
    EntryMedia,
    FavouriteEntry,
    LibraryEntry,
    Program,
    ProgramItem,
    ProgramTemplate,
    ProgramVersion,
)

SEARCH_LIMIT = 50


def _visible(user: User) -> Q:
    return Q(clinic__isnull=True) | Q(clinic_id=clinic_id_of(user))


@dataclass(frozen=True, slots=True)
class LibraryQuery:
    words: str = ""
    kind: str = ""
    region: str = ""
    equipment: str = ""
    code: str = ""

    @property
    def empty(self) -> bool:
        return not (self.words.strip() or self.kind or self.region or self.equipment or self.code)


def library_search(*, user: User, query: LibraryQuery) -> QuerySet[LibraryEntry]:
    """Entries matching every word (title, summary, topics, regions, equipment, code), of
    the kind, region, equipment and billing code given; built-ins and the clinic's own."""
    entries = LibraryEntry.objects.filter(_visible(user), archived=False)
    for word in query.words.casefold().split()[:8]:
        entries = entries.filter(search_text__contains=word)
    if query.kind:
        entries = entries.filter(kind=query.kind)
    if query.code:
        entries = entries.filter(billing_code=query.code)
    if query.region:
        entries = entries.filter(search_text__contains=query.region.casefold())
    if query.equipment:
        entries = entries.filter(search_text__contains=query.equipment.casefold())
    rows = entries.order_by("title", "id")
    # The JSON list columns are matched through search_text (one portable LIKE); an exact
    # region or equipment check happens on the page of results only.
    return rows


def library_filter_exact(entries: list[LibraryEntry], query: LibraryQuery) -> list[LibraryEntry]:
    """Drop entries whose search text matched a region or equipment word by accident (e.g.
    "hand" inside "hand-held shower")."""
    return [
        e
        for e in entries
        if (not query.region or query.region in e.regions)
        and (not query.equipment or query.equipment in e.equipment)
    ]


def library_page(
    *, user: User, query: LibraryQuery, limit: int = SEARCH_LIMIT
) -> list[LibraryEntry]:
    rows = library_search(user=user, query=query)
    if query.region or query.equipment:
        return library_filter_exact(list(rows[: limit * 4]), query)[:limit]
    return list(rows[:limit])


def entry_get(*, user: User, entry_id: int) -> LibraryEntry:
    entry = LibraryEntry.objects.filter(_visible(user), pk=entry_id).first()
    if entry is None:
        raise Http404("No such library entry.")
    return entry


def favourite_entries(*, user: User) -> list[LibraryEntry]:
    return [
        f.entry
        for f in FavouriteEntry.objects.filter(user=user, entry__archived=False)
        .select_related("entry")
        .order_by("entry__title")
    ]


def favourite_ids(*, user: User) -> set[int]:
    return set(FavouriteEntry.objects.filter(user=user).values_list("entry_id", flat=True))


def recent_entries(*, user: User, limit: int = 10) -> list[LibraryEntry]:
    """The entries this user added to programs most recently, each once."""
    seen: dict[int, LibraryEntry] = {}
    items = (
        ProgramItem.objects.filter(added_by=user, entry__archived=False)
        .select_related("entry")
        .order_by("-added_at", "-id")[: limit * 5]
    )
    for item in items:
        seen.setdefault(item.entry_id, item.entry)
        if len(seen) == limit:
            break
    return list(seen.values())


def program_get(*, user: User, program_id: int) -> Program:
    program = (
        Program.objects.filter(clinic_id=clinic_id_of(user), pk=program_id)
        .select_related("case", "patient", "created_by")
        .first()
    )
    if program is None:
        raise Http404("No such program.")
    return program


def program_items(*, program: Program) -> QuerySet[ProgramItem]:
    return program.items.select_related("entry", "section").order_by("position", "id")


def item_get(*, program: Program, item_id: int) -> ProgramItem:
    item = program.items.select_related("entry", "program").filter(pk=item_id).first()
    if item is None:
        raise Http404("No such item in this program.")
    return item


def program_versions(*, program: Program) -> QuerySet[ProgramVersion]:
    return program.versions.select_related("issued_by", "visit").order_by("-number")


def case_programs(*, case: Case) -> QuerySet[Program]:
    return case.programs.order_by("-updated_at")


def untaught_programs(*, user: User) -> QuerySet[Program]:
    """Programs issued with new instruction outside a visit and not taught at one since."""
    return (
        Program.objects.filter(clinic_id=clinic_id_of(user), needs_teaching=True)
        .select_related("patient", "case")
        .order_by("updated_at")
    )


def template_list(*, user: User) -> QuerySet[ProgramTemplate]:
    return ProgramTemplate.objects.filter(clinic_id=clinic_id_of(user)).order_by("title")


def template_get(*, user: User, template_id: int) -> ProgramTemplate:
    template = ProgramTemplate.objects.filter(clinic_id=clinic_id_of(user), pk=template_id).first()
    if template is None:
        raise Http404("No such template.")
    return template


def entry_media(*, user: User, entry: LibraryEntry) -> QuerySet[EntryMedia]:
    """The pictures and videos the user's clinic attached to the entry."""
    return entry.media.filter(clinic_id=clinic_id_of(user)).order_by("position", "id")


def media_get(*, user: User, media_id: int) -> EntryMedia:
    media = EntryMedia.objects.filter(clinic_id=clinic_id_of(user), pk=media_id).first()
    if media is None:
        raise Http404("No such file.")
    return media

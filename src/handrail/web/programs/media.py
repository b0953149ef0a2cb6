"""Pictures and videos of library entries: checked by content, size-limited, stored through
Django's default storage, read back only by the clinic that uploaded them.

A file is judged by its first bytes, never by its name or the browser's content type: JPEG
(FF D8 FF), PNG (the 8-byte PNG signature), WebP (RIFF....WEBP), MP4 (an ISO BMFF "ftyp" box
at offset 4) and WebM (the EBML magic 1A 45 DF A3). Pictures must also open and verify in
Pillow as the format their bytes claim. Everything else is refused with a message that says
what the file is: an SVG (it can carry script), an executable, an archive...
"""

from __future__ import annotations

import io
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils.text import slugify
from PIL import Image, UnidentifiedImageError

from handrail.library.everkinetic import (
    CREDIT,
    EverkineticExercise,
    match_everkinetic,
    read_everkinetic,
)
from handrail.web.clinic.models import User
from handrail.web.clinic.permissions import require
from handrail.web.programs.models import (
    EntryKind,
    EntryMedia,
    EntrySource,
    LibraryEntry,
    MediaKind,
)
from handrail.web.programs.services import can_edit_library, search_text_of

MAX_CAPTION = 120


@dataclass(frozen=True, slots=True)
class Sniffed:
    kind: str  # MediaKind
    content_type: str
    extension: str
    pillow_format: str = ""


_REFUSED = (
    (b"MZ", "a Windows program"),
    (b"\x7fELF", "a Linux program"),
    (b"#!", "a script"),
    (b"PK\x03\x04", "a ZIP archive"),
    (b"%PDF", "a PDF"),
    (b"GIF8", "a GIF picture (use JPEG, PNG or WebP)"),
)


def sniff(head: bytes) -> Sniffed:
    """What the first bytes say the file is; ValidationError on "file" otherwise."""
    if head.startswith(b"\xff\xd8\xff"):
        return Sniffed(MediaKind.IMAGE, "image/jpeg", "jpg", "JPEG")
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return Sniffed(MediaKind.IMAGE, "image/png", "png", "PNG")
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return Sniffed(MediaKind.IMAGE, "image/webp", "webp", "WEBP")
    if head[4:8] == b"ftyp":
        return Sniffed(MediaKind.VIDEO, "video/mp4", "mp4")
    if head.startswith(b"\x1a\x45\xdf\xa3"):
        return Sniffed(MediaKind.VIDEO, "video/webm", "webm")
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if text.startswith((b"<?xml", b"<svg", b"<!doctype", b"<html")) or b"<svg" in text[:512]:
        raise ValidationError(
            {
                "file": "This is an SVG or other markup file, which can carry script: upload a "
                "JPEG, PNG or WebP picture, or an MP4 or WebM video."
            }
        )
    for magic, what in _REFUSED:
        if head.startswith(magic):
            raise ValidationError(
                {
                    "file": f"This file is {what}, whatever its name says: upload a JPEG, PNG or "
                    "WebP picture, or an MP4 or WebM video."
                }
            )
    raise ValidationError(
        {
            "file": "This is not a JPEG, PNG or WebP picture nor an MP4 or WebM video (judged by "
            "its content, not its name)."
        }
    )


def _limit(kind: str) -> int:
    if kind == MediaKind.IMAGE:
        return int(settings.PROGRAM_IMAGE_MAX_BYTES)
    return int(settings.PROGRAM_VIDEO_MAX_BYTES)


def _megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):.1f} MB"


def _verify_picture(data: bytes, sniffed: Sniffed) -> None:
    try:
        with Image.open(io.BytesIO(data)) as picture:
            if picture.format != sniffed.pillow_format:
                raise ValidationError({"file": "The picture's content does not match its type."})
            picture.verify()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        raise ValidationError(
            {
                "file": "The picture is damaged or not what its first bytes claim; save it again "
                "as JPEG, PNG or WebP."
            }
        ) from None


def read_checked(stream: IO[bytes], size: int | None) -> tuple[bytes, Sniffed]:
    """The file's bytes and what it is, after every content and size check."""
    head = stream.read(64)
    sniffed = sniff(head)
    limit = _limit(sniffed.kind)
    if size is not None and size > limit:
        raise ValidationError(
            {
                "file": f"The file is {_megabytes(size)}; the limit for a "
                f"{MediaKind(sniffed.kind).label.lower()} is {_megabytes(limit)}."
            }
        )
    rest = stream.read(limit + 1 - len(head))
    data = head + rest
    if len(data) > limit:
        raise ValidationError(
            {
                "file": f"The file is larger than the {_megabytes(limit)} limit for a "
                f"{MediaKind(sniffed.kind).label.lower()}."
            }
        )
    if sniffed.kind == MediaKind.IMAGE:
        _verify_picture(data, sniffed)
    return data, sniffed


@transaction.atomic
def media_add(
    *,
    user: User,
    entry: LibraryEntry,
    stream: IO[bytes],
    size: int | None = None,
    caption: str = "",
    credit: str = "",
) -> EntryMedia:
    """Attach a checked file to an entry the user's clinic can see (its own or a built-in):
    the file belongs to the clinic, which alone sees it."""
    require(can_edit_library(user), "Your role cannot add pictures or videos.")
    if entry.clinic_id not in (None, user.clinic_id):
        raise ValidationError({"entry": "No such entry."})
    caption = " ".join(caption.split())
    if len(caption) > MAX_CAPTION:
        raise ValidationError({"caption": f"A caption is at most {MAX_CAPTION} characters."})
    data, sniffed = read_checked(stream, size)
    assert user.clinic_id is not None
    return _attach(user.clinic_id, entry, data, sniffed, caption, credit, user)


def _attach(
    clinic_id: int,
    entry: LibraryEntry,
    data: bytes,
    sniffed: Sniffed,
    caption: str,
    credit: str,
    user: User | None,
) -> EntryMedia:
    media = EntryMedia(
        entry=entry,
        clinic_id=clinic_id,
        kind=sniffed.kind,
        content_type=sniffed.content_type,
        size=len(data),
        caption=caption,
        credit=" ".join(credit.split())[:200],
        position=entry.media.filter(clinic_id=clinic_id).count(),
        uploaded_by=user,
    )
    name = f"{secrets.token_hex(16)}.{sniffed.extension}"
    media.file.save(name, ContentFile(data), save=False)
    try:
        media.full_clean()
        media.save()
    except Exception:
        default_storage.delete(str(media.file.name))  # no orphan file when the row is refused
        raise
    return media


@transaction.atomic
def media_delete(*, user: User, media: EntryMedia) -> None:
    require(can_edit_library(user), "Your role cannot remove pictures or videos.")
    if media.clinic_id != user.clinic_id:
        raise ValidationError({"media": "No such file."})
    name = str(media.file.name)
    media.delete()
    transaction.on_commit(lambda: default_storage.delete(name))


@dataclass(frozen=True, slots=True)
class ImportResult:
    attached: int  # pictures attached to matching built-in entries
    added: int  # clinic entries made from unmatched exercises
    skipped: int  # already imported


@transaction.atomic
def everkinetic_import(*, clinic_id: int, folder: Path) -> ImportResult:
    """Import the Everkinetic illustrations for one clinic (handrail.library.everkinetic):
    the start and end pictures of each exercise that matches a built-in entry are attached
    to it; every other exercise becomes an entry of the clinic with its pictures. Each
    picture carries the CC BY-SA 4.0 credit line. Running it again adds nothing twice;
    a malformed folder or picture stops it with the file and nothing imported."""
    exercises = read_everkinetic(folder)
    match = match_everkinetic(exercises)
    attached = added = skipped = 0
    for exercise, builtin in match.matched:
        entry = LibraryEntry.objects.get(key=builtin.key, clinic__isnull=True)
        if EntryMedia.objects.filter(clinic_id=clinic_id, entry=entry, credit=CREDIT).exists():
            skipped += 1
            continue
        attached += _attach_pictures(clinic_id, entry, exercise)
    for exercise in match.unmatched:
        key = f"c{clinic_id}-everkinetic-{slugify(exercise.id)}"
        if LibraryEntry.objects.filter(clinic_id=clinic_id, key=key).exists():
            skipped += 1
            continue
        entry = _everkinetic_entry(clinic_id, key, exercise)
        _attach_pictures(clinic_id, entry, exercise)
        added += 1
    return ImportResult(attached, added, skipped)


def _attach_pictures(clinic_id: int, entry: LibraryEntry, exercise: EverkineticExercise) -> int:
    count = 0
    for index, path in enumerate(exercise.images):
        with path.open("rb") as stream:
            try:
                data, sniffed = read_checked(stream, path.stat().st_size)
            except ValidationError as exc:
                raise ValidationError({"file": f"{path}: {' '.join(exc.messages)}"}) from None
        caption = "Start" if index == 0 else "End" if index == 1 else ""
        _attach(clinic_id, entry, data, sniffed, caption, CREDIT, None)
        count += 1
    return count


def _everkinetic_entry(clinic_id: int, key: str, exercise: EverkineticExercise) -> LibraryEntry:
    title = exercise.title.strip()[:180]
    if LibraryEntry.objects.filter(clinic_id=clinic_id, title__iexact=title).exists():
        title = f"{title} (Everkinetic {exercise.id})"
    steps = [s.strip() for s in exercise.steps if s.strip()] or [
        exercise.primer.strip() or exercise.title
    ]
    lists = {"regions": ["whole-body"], "equipment": [], "topics": [exercise.type]}
    entry = LibraryEntry(
        clinic_id=clinic_id,
        key=key,
        source=EntrySource.EVERKINETIC,
        title=title,
        kind=EntryKind.EXERCISE,
        summary=exercise.primer.strip()[:1000],
        regions=["whole-body"],
        disciplines=["PT"],
        steps=steps[:30],
        topics=[exercise.type],
        billing_code="97110",
        sets=2,
        reps=10,
        search_text=search_text_of(title, exercise.primer, "exercise", "97110", lists),
    )
    entry.full_clean()
    entry.save()
    return entry

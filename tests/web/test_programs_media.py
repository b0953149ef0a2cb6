"""Pictures and videos of library entries: checked by content and size, stored through the
default storage, served to the clinic's users only (videos with range requests), the
Everkinetic import, and the pictures with their credit lines in the handout."""

from __future__ import annotations

import io
import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.urls import reverse
from PIL import Image
from pypdf import PdfReader

from handrail.library.everkinetic import CREDIT, EVERKINETIC_MAP
from handrail.web.programs.media import media_add
from handrail.web.programs.models import EntryMedia, LibraryEntry
from handrail.web.programs.services import ItemInput, program_create
from tests.web.conftest import World

EXERCISE_MEDIA = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "exercise-media"
EVERKINETIC = EXERCISE_MEDIA / "everkinetic"
MP4 = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" + bytes(range(256)) * 8
WEBM = b"\x1a\x45\xdf\xa3" + b"\x00" * 200


@pytest.fixture(autouse=True)
def _media_root(settings: Any, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"


def picture(fmt: str = "PNG") -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), (200, 120, 40)).save(buffer, format=fmt)
    return buffer.getvalue()


def builtin() -> LibraryEntry:
    found = LibraryEntry.objects.filter(clinic__isnull=True, kind="self_care").first()
    assert found is not None
    return found


def upload(world: World, data: bytes, name: str, user: Any = None) -> Any:
    client = world.client_for(user or world.ot)
    return client.post(
        reverse("programs:media-upload", args=[builtin().pk]),
        {"file": SimpleUploadedFile(name, data), "caption": "Start"},
        follow=True,
    )


class MediaCheckTests:
    @pytest.mark.parametrize(
        ("fmt", "content_type"),
        [("PNG", "image/png"), ("JPEG", "image/jpeg"), ("WEBP", "image/webp")],
    )
    def test_it_keeps_real_pictures(self, world: World, fmt: str, content_type: str) -> None:
        media = media_add(user=world.ot, entry=builtin(), stream=io.BytesIO(picture(fmt)))
        assert (media.kind, media.content_type) == ("image", content_type)

    @pytest.mark.parametrize(("data", "content_type"), [(MP4, "video/mp4"), (WEBM, "video/webm")])
    def test_it_keeps_videos(self, world: World, data: bytes, content_type: str) -> None:
        media = media_add(user=world.ot, entry=builtin(), stream=io.BytesIO(data))
        assert (media.kind, media.content_type) == ("video", content_type)

    @pytest.mark.parametrize(
        ("data", "message"),
        [
            (b'<?xml version="1.0"?><svg onload="alert(1)"></svg>', "SVG"),
            (b"<svg xmlns='http://www.w3.org/2000/svg'><script/></svg>", "SVG"),
            (b"MZ\x90\x00" + b"\x00" * 100, "a Windows program"),
            (b"\x7fELF" + b"\x00" * 100, "a Linux program"),
            (b"hello, not a picture", "not a JPEG, PNG or WebP picture"),
            (b"\x89PNG\r\n\x1a\n" + b"garbage" * 20, "damaged"),
        ],
    )
    def test_it_refuses_files_that_lie_about_their_type(
        self, world: World, data: bytes, message: str
    ) -> None:
        response = upload(world, data, "exercise.png")
        assert message in response.content.decode()
        assert not EntryMedia.objects.exists()

    def test_it_refuses_a_file_over_the_limit(self, world: World, settings: Any) -> None:
        settings.PROGRAM_IMAGE_MAX_BYTES = 1024
        big = io.BytesIO()
        Image.effect_noise((200, 200), 50).convert("RGB").save(big, format="PNG")
        with pytest.raises(ValidationError) as caught:
            media_add(user=world.ot, entry=builtin(), stream=io.BytesIO(big.getvalue()))
        assert "limit" in caught.value.message_dict["file"][0]

    def test_front_desk_and_billers_cannot_upload(self, world: World) -> None:
        for user in (world.front_desk, world.biller):
            response = world.client_for(user).post(
                reverse("programs:media-upload", args=[builtin().pk]),
                {"file": SimpleUploadedFile("a.png", picture())},
            )
            assert response.status_code == 403
        assert not EntryMedia.objects.exists()


class MediaServeTests:
    def test_it_serves_the_clinic_only_and_answers_ranges(self, world: World) -> None:
        media = media_add(user=world.ot, entry=builtin(), stream=io.BytesIO(MP4))
        url = reverse("programs:media-file", args=[media.pk])
        client = world.client_for(world.pt)
        whole = client.get(url)
        assert whole.status_code == 200 and b"".join(whole.streaming_content) == MP4
        assert whole["Accept-Ranges"] == "bytes"
        part = client.get(url, HTTP_RANGE="bytes=4-11")
        assert part.status_code == 206 and part.content == b"ftypmp42"
        assert part["Content-Range"] == f"bytes 4-11/{len(MP4)}"
        tail = client.get(url, HTTP_RANGE="bytes=-4")
        assert tail.content == MP4[-4:]
        beyond = client.get(url, HTTP_RANGE=f"bytes={len(MP4)}-")
        assert beyond.status_code == 416 and beyond["Content-Range"] == f"bytes */{len(MP4)}"
        assert world.client_for(world.outsider).get(url).status_code == 404

    def test_the_api_lists_the_clinics_media(self, world: World) -> None:
        entry = builtin()
        media = media_add(user=world.ot, entry=entry, stream=io.BytesIO(picture()), caption="End")
        client = world.client_for(world.ot)
        items = client.get("/api/library", {"q": entry.title}).json()["items"]
        shown = next(item for item in items if item["id"] == entry.pk)
        assert shown["media"] == [
            {
                "id": media.pk,
                "kind": "image",
                "url": reverse("programs:media-file", args=[media.pk]),
                "caption": "End",
                "credit": "",
            }
        ]
        theirs = world.client_for(world.outsider).get("/api/library", {"q": entry.title})
        assert all(not item["media"] for item in theirs.json()["items"])

    def test_the_entry_page_shows_the_picture_and_its_credit(self, world: World) -> None:
        media_add(
            user=world.ot, entry=builtin(), stream=io.BytesIO(picture()), credit="Photo: Clinic"
        )
        page = world.client_for(world.ot).get(reverse("programs:entry", args=[builtin().pk]))
        assert "Photo: Clinic" in page.content.decode()
        other = world.client_for(world.outsider).get(
            reverse("programs:entry", args=[builtin().pk])
        )
        assert "Photo: Clinic" not in other.content.decode()

    def test_the_handout_prints_the_pictures_credit(self, world: World) -> None:
        entry = builtin()
        media_add(user=world.ot, entry=entry, stream=io.BytesIO(picture("JPEG")), credit=CREDIT)
        program = program_create(
            user=world.ot,
            case=world.ot_case,
            title="With pictures",
            items=[ItemInput(entry_id=entry.pk, dose={})],
        )
        pdf = world.client_for(world.ot).get(reverse("programs:handout", args=[program.pk]))
        text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.content)).pages)
        assert CREDIT in text and entry.title in text


@pytest.fixture
def everkinetic_sample(tmp_path: Path) -> Iterator[Path]:
    """A few Everkinetic exercises (two that match built-ins, one that does not) in a
    temporary folder: read from the shared data folder, never copied into the repository."""
    if not (EVERKINETIC / "exercises.json").is_file():
        pytest.skip(f"the Everkinetic data is not at {EVERKINETIC} (see its SOURCES.md)")
    exercises = json.loads((EVERKINETIC / "exercises.json").read_text(encoding="utf-8"))
    wanted = {"bridging", "ankle-circles"}
    sample = [e for e in exercises if e["name"] in wanted][:2]
    sample += [e for e in exercises if e["name"] not in EVERKINETIC_MAP and e["png"]][:1]
    folder = tmp_path / "everkinetic"
    (folder / "png").mkdir(parents=True)
    for exercise in sample:
        for relative in exercise["png"]:
            shutil.copyfile(EVERKINETIC / relative, folder / relative)
    (folder / "exercises.json").write_text(json.dumps(sample), encoding="utf-8")
    yield folder


@pytest.mark.django_db
class EverkineticImportTests:
    def test_it_attaches_matches_adds_the_rest_and_runs_once(
        self, world: World, everkinetic_sample: Path
    ) -> None:
        out = io.StringIO()
        call_command(
            "import_everkinetic", str(everkinetic_sample), clinic=world.clinic.pk, stdout=out
        )
        assert "4 pictures attached to built-in entries, 1 entries added" in out.getvalue()
        bridge = LibraryEntry.objects.get(key="lumbar-bridge", clinic__isnull=True)
        captions = list(
            EntryMedia.objects.filter(entry=bridge, clinic=world.clinic).values_list(
                "caption", "credit"
            )
        )
        assert captions == [("Start", CREDIT), ("End", CREDIT)]
        added = LibraryEntry.objects.get(clinic=world.clinic, source="everkinetic")
        assert added.media.count() >= 1
        again = io.StringIO()
        call_command(
            "import_everkinetic", str(everkinetic_sample), clinic=world.clinic.pk, stdout=again
        )
        assert (
            "0 pictures attached" in again.getvalue() and "3 already imported" in again.getvalue()
        )
        # Another clinic sees none of it.
        assert not EntryMedia.objects.filter(clinic=world.other_clinic).exists()

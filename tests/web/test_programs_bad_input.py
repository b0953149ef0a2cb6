"""Issue 8's "Bad input and security" list, item by item, through the pages and the API a
clinician or a patient uses: each is refused with a 4xx or a message that names the field,
and nothing is saved, not even in part (every program, item, version, session, picture,
link, note line and email row is compared before and after, and the media folder too)."""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db.models import Model
from django.test import Client
from django.urls import reverse
from PIL import Image

from handrail.web.messaging.models import Message
from handrail.web.portal.models import PatientLink, SessionLog
from handrail.web.portal.services import link_create, links_revoke
from handrail.web.programs.models import (
    EntryMedia,
    LibraryEntry,
    Program,
    ProgramItem,
    ProgramVersion,
)
from handrail.web.visits.models import ServiceLine
from tests.web.conftest import World
from tests.web.test_api import _api_client
from tests.web.test_portal import issued_program

UNKNOWN_ENTRY = 987_654
SAVED: tuple[type[Model], ...] = (
    Program,
    ProgramItem,
    ProgramVersion,
    SessionLog,
    EntryMedia,
    PatientLink,
    ServiceLine,
    Message,
)


@dataclass
class Scene:
    world: World
    program: Program
    token: str
    media_root: Path

    @property
    def item(self) -> ProgramItem:
        return self.program.items.order_by("position").first()  # type: ignore[return-value]

    def item_ids(self) -> list[str]:
        version = self.program.versions.order_by("-number").first()
        assert version is not None
        return [str(row["item_id"]) for row in version.items]


@dataclass(frozen=True)
class Answer:
    status: int
    text: str


# Written by every use of a link (not input): when it was last used.
NOT_INPUT = {"last_used_at"}


def _state(scene: Scene) -> dict[str, Any]:
    state: dict[str, Any] = {
        model.__name__: sorted(
            repr({k: v for k, v in row.items() if k not in NOT_INPUT})
            for row in model.objects.values()
        )
        for model in SAVED
    }
    state["files"] = sorted(str(p) for p in scene.media_root.rglob("*") if p.is_file())
    return state


def _api(scene: Scene, method: str, path: str, body: dict[str, Any]) -> Answer:
    client = _api_client(scene.world, scene.world.ot)
    response = getattr(client, method)(path, body, content_type="application/json")
    return Answer(response.status_code, response.content.decode())


def _page(scene: Scene, path: str, data: dict[str, Any]) -> Answer:
    """A clinician's form post; the builder answers with the page and its messages."""
    response = scene.world.client_for(scene.world.ot).post(path, data, follow=True)
    return Answer(response.status_code, response.content.decode())


def _log(
    scene: Scene, token: str | None = None, revoke_first: bool = False, **data: Any
) -> Answer:
    """The patient's session form, posted as the phone does (with its CSRF token); with
    `revoke_first`, staff revoke the link while the page is open."""
    client = Client(enforce_csrf_checks=True)
    client.get(f"/p/{scene.token}/")
    if revoke_first:
        links_revoke(program=scene.program, by=scene.world.ot)
    payload = {
        "items": scene.item_ids()[:1],
        "csrfmiddlewaretoken": client.cookies["csrftoken"].value,
        **data,
    }
    response = client.post(f"/p/{token or scene.token}/", payload)
    return Answer(response.status_code, response.content.decode())


def _tampered(token: str) -> str:
    return token[:-1] + ("A" if token[-1] != "A" else "B")


def _upload(scene: Scene, data: bytes, name: str) -> Answer:
    entry = LibraryEntry.objects.filter(clinic__isnull=True, kind="self_care").first()
    assert entry is not None
    return _page(
        scene,
        reverse("programs:media-upload", args=[entry.pk]),
        {"file": SimpleUploadedFile(name, data, content_type="image/png"), "caption": "Start"},
    )


def _noise_png(side: int = 200) -> bytes:
    buffer = io.BytesIO()
    Image.effect_noise((side, side), 50).convert("RGB").save(buffer, format="PNG")
    return buffer.getvalue()


def _program_path(scene: Scene, tail: str = "") -> str:
    return f"/api/programs/{scene.program.pk}{tail}"


# Each case: what it sends, the answer's status(es) and the words that name the field.
Case = Callable[[Scene], Answer]
CASES: dict[str, tuple[Case, set[int], list[str]]] = {
    "unknown entry, new program (API)": (
        lambda s: _api(
            s,
            "post",
            "/api/programs",
            {
                "patient_id": s.world.patient.pk,
                "case_id": s.world.ot_case.pk,
                "title": "X",
                "items": [{"entry_id": UNKNOWN_ENTRY}],
            },
        ),
        {400},
        ['"items[0].entry_id"'],
    ),
    "unknown entry, added to a program (API)": (
        lambda s: _api(s, "post", _program_path(s, "/items"), {"entry_id": UNKNOWN_ENTRY}),
        {400},
        ['"entry_id"'],
    ),
    "unknown entry, added in the builder": (
        lambda s: _page(
            s, reverse("programs:item-add", args=[s.program.pk]), {"entry_id": UNKNOWN_ENTRY}
        ),
        {200},
        ["entry_id: "],
    ),
    "dose of 0 (API)": (
        lambda s: _api(s, "patch", _program_path(s, f"/items/{s.item.pk}"), {"reps": 0}),
        {400},
        ['"reps"'],
    ),
    "dose of 0 in the builder": (
        lambda s: _page(
            s,
            reverse("programs:item-update", args=[s.program.pk, s.item.pk]),
            {"reps": "0", "notes": "changed", "section": ""},
        ),
        {200},
        ["reps: "],
    ),
    "500 sets (API)": (
        lambda s: _api(
            s,
            "post",
            "/api/programs",
            {
                "patient_id": s.world.patient.pk,
                "case_id": s.world.ot_case.pk,
                "title": "X",
                "items": [{"entry_id": s.item.entry_id, "sets": 500}],
            },
        ),
        {400},
        ['"items[0].sets"'],
    ),
    "500 sets in the builder": (
        lambda s: _page(
            s,
            reverse("programs:item-update", args=[s.program.pk, s.item.pk]),
            {"sets": "500", "notes": "changed", "section": ""},
        ),
        {200},
        ["sets: "],
    ),
    "pain 11": (lambda s: _log(s, pain_after="11"), {400}, ['id="error-pain_after"']),
    "log dated in the future": (
        lambda s: _log(s, day=(s.world.today + timedelta(days=1)).isoformat()),
        {400},
        ['id="error-day"', "in the future"],
    ),
    "log dated before the program": (
        lambda s: _log(s, day=(s.world.today - timedelta(days=1)).isoformat()),
        {400},
        ['id="error-day"', "before your program started"],
    ),
    "tampered token, opening": (
        lambda s: Answer(
            (r := Client().get(f"/p/{_tampered(s.token)}/")).status_code, r.content.decode()
        ),
        {404},
        ["contact your clinic"],
    ),
    "tampered token, logging": (
        lambda s: _log(s, token=_tampered(s.token), pain_before="3"),
        {404},
        ["contact your clinic"],
    ),
    "revoked token, logging": (
        lambda s: _log(s, revoke_first=True, pain_before="3"),
        {404},
        ["contact your clinic"],
    ),
    "upload: a program renamed .png": (
        lambda s: _upload(s, b"MZ\x90\x00" + b"\x00" * 200, "exercise.png"),
        {200},
        ["file: ", "a Windows program"],
    ),
    "upload: an SVG with a script renamed .png": (
        lambda s: _upload(
            s, b"<svg xmlns='http://www.w3.org/2000/svg'><script>x()</script></svg>", "a.png"
        ),
        {200},
        ["file: ", "SVG"],
    ),
    "upload: too large": (
        lambda s: _upload(s, _noise_png(), "big.png"),
        {200},
        ["file: ", "limit"],
    ),
}


@pytest.fixture
def scene(world: World, settings: Any, tmp_path: Path) -> Scene:
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.PROGRAM_IMAGE_MAX_BYTES = 20_000  # the noise picture is ~120 kB
    program = issued_program(world, count=2)
    _link, token = link_create(program=program, by=world.ot)
    return Scene(world=world, program=program, token=token, media_root=tmp_path / "media")


@pytest.mark.parametrize("name", list(CASES))
def test_bad_input_is_refused_naming_the_field_and_nothing_is_saved(
    scene: Scene, name: str
) -> None:
    send, statuses, words = CASES[name]
    links_before = PatientLink.objects.filter(revoked_at__isnull=True).count()
    before = _state(scene)
    answer = send(scene)
    assert answer.status in statuses, (answer.status, answer.text[:500])
    assert answer.status < 500
    for word in words:
        assert word in answer.text, (word, answer.text[:2000])
    after = _state(scene)
    if name.startswith("revoked"):
        # The case itself revoked the link (that is its set-up, not the refused input).
        assert PatientLink.objects.filter(revoked_at__isnull=True).count() == links_before - 1
        before.pop("PatientLink"), after.pop("PatientLink")
    assert after == before


def test_a_real_picture_and_a_right_log_are_saved_by_the_same_paths(scene: Scene) -> None:
    """The control: the requests above differ from accepted ones only in the bad field."""
    small = io.BytesIO()
    Image.new("RGB", (40, 30), (200, 120, 40)).save(small, format="PNG")
    assert "File added." in _upload(scene, small.getvalue(), "start.png").text
    assert EntryMedia.objects.count() == 1
    assert _log(scene, pain_after="2").status == 302
    assert SessionLog.objects.count() == 1
    answer = _page(
        scene,
        reverse("programs:item-update", args=[scene.program.pk, scene.item.pk]),
        {"sets": "3", "reps": "10", "notes": "changed", "section": ""},
    )
    assert "Saved " in answer.text
    assert (scene.item.sets, scene.item.notes) == (3, "changed")

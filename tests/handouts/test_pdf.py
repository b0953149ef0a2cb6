"""The PDF handout, read back with a real PDF reader (pypdf)."""

from __future__ import annotations

import io
import re
from datetime import date

from PIL import Image as PILImage
from pypdf import PdfReader

from handrail.handouts import Handout, HandoutImage, HandoutItem, render_handout

CREDIT = "Illustration: Everkinetic, CC BY-SA 4.0 (creativecommons.org/licenses/by-sa/4.0)"


def picture(colour: str, kind: str = "PNG", size: tuple[int, int] = (320, 240)) -> bytes:
    buffer = io.BytesIO()
    PILImage.new("RGB", size, colour).save(buffer, kind)
    return buffer.getvalue()


def text_of(pdf: bytes) -> str:
    reader = PdfReader(io.BytesIO(pdf))
    # Collapse whitespace: the reader breaks long lines where the PDF wraps them.
    return re.sub(r"\s+", " ", " ".join(page.extract_text() for page in reader.pages))


def item(title: str, **overrides: object) -> HandoutItem:
    fields: dict[str, object] = {
        "title": title,
        "dose": "2 sets of 10 · hold 5 s · 2 times a day",
        "steps": ("Sit tall at the edge of a firm chair.", "Stand up without using your hands."),
        "precautions": ("Keep the operated hip from bending past 90 degrees.",),
        "images": (
            HandoutImage(picture("red"), "Start", CREDIT),
            HandoutImage(picture("blue", "JPEG"), "End", CREDIT),
        ),
    }
    fields.update(overrides)
    return HandoutItem(**fields)  # type: ignore[arg-type]


TITLES = (
    "Sit to stand",
    "Bridging",
    "Dressing the lower body with a reacher",
    "Heel slides",
)


def handout(**overrides: object) -> Handout:
    fields: dict[str, object] = {
        "clinic_name": "Riverbend Outpatient Rehab",
        "program_title": "Total hip precautions: ADLs",
        "items": tuple(item(title) for title in TITLES),
        "patient_first_name": "Dolores",
        "issued_on": date(2026, 12, 5),
        "version": 2,
        "clinic_phone": "555-0100",
    }
    fields.update(overrides)
    return Handout(**fields)  # type: ignore[arg-type]


class RenderHandoutTests:
    def test_it_writes_a_pdf_holding_the_first_name_and_every_item_title(self) -> None:
        pdf = render_handout(handout())
        assert pdf.startswith(b"%PDF-")
        text = text_of(pdf)
        assert "Dolores" in text
        for title in TITLES:
            assert title in text
        assert "Riverbend Outpatient Rehab" in text
        assert "Total hip precautions: ADLs" in text
        assert "Version 2" in text and "2026-12-05" in text

    def test_it_prints_dose_steps_precautions_and_notes(self) -> None:
        pdf = render_handout(
            handout(items=(item("Heel slides", notes="Do these before getting up."),))
        )
        text = text_of(pdf)
        assert "2 sets of 10 · hold 5 s · 2 times a day" in text
        assert "1. Sit tall at the edge of a firm chair." in text
        assert "2. Stand up without using your hands." in text
        assert "Keep the operated hip from bending past 90 degrees." in text
        assert "Do these before getting up." in text

    def test_it_embeds_png_jpeg_and_webp_pictures_and_prints_the_credit_line(self) -> None:
        images = (
            HandoutImage(picture("red"), "Start", CREDIT),
            HandoutImage(picture("blue", "JPEG"), "End", CREDIT),
            HandoutImage(picture("green", "WEBP", (200, 400)), "", CREDIT),
        )
        pdf = render_handout(handout(items=(item("Bridging", images=images),)))
        reader = PdfReader(io.BytesIO(pdf))
        assert len(reader.pages[0].images) == 3
        text = text_of(pdf)
        # Under each picture and once more among the credits at the end.
        assert text.count("Everkinetic, CC BY-SA 4.0") == 4
        assert "Picture credits" in text

    def test_it_prints_no_credit_section_without_credited_pictures(self) -> None:
        pdf = render_handout(handout(items=(item("Bridging", images=()),)))
        assert "Picture credits" not in text_of(pdf)
        assert len(PdfReader(io.BytesIO(pdf)).pages[0].images) == 0

    def test_it_escapes_markup_in_every_text(self) -> None:
        pdf = render_handout(
            handout(
                clinic_name="A & B <Rehab>",
                patient_first_name="<b>Zoë</b>",
                items=(item("Sit <-> stand & reach", steps=("Hold <5> s & relax",)),),
            )
        )
        text = text_of(pdf)
        assert "A & B <Rehab>" in text
        assert "<b>Zoë</b>" in text
        assert "Sit <-> stand & reach" in text
        assert "Hold <5> s & relax" in text

    def test_it_prints_a_blank_template_with_lines_to_fill_in(self) -> None:
        pdf = render_handout(handout(patient_first_name=None, issued_on=None, version=None))
        text = text_of(pdf)
        assert "Name: ____" in text
        assert "For:" not in text
        assert text.count("Sets ____ Reps ____") == len(TITLES)
        assert text.count("Notes: ____") == len(TITLES)
        for title in TITLES:
            assert title in text

    def test_it_replaces_a_broken_picture_with_a_notice(self) -> None:
        broken = HandoutImage(b"not a picture at all", "Start", "")
        pdf = render_handout(handout(items=(item("Bridging", images=(broken,)),)))
        text = text_of(pdf)
        assert "(picture could not be shown)" in text
        assert "Bridging" in text

    def test_it_runs_over_several_pages_with_the_footer_on_each(self) -> None:
        items = tuple(item(f"Exercise number {n}") for n in range(1, 13))
        pdf = render_handout(handout(items=items))
        reader = PdfReader(io.BytesIO(pdf))
        assert len(reader.pages) >= 3
        for number, page in enumerate(reader.pages, start=1):
            assert f"page {number}" in page.extract_text()
        text = text_of(pdf)
        for n in range(1, 13):
            assert f"{n}. Exercise number {n}" in text

    def test_it_starts_a_section_heading_where_the_section_changes(self) -> None:
        items = (
            item("Heel slides", section="Warm-up"),
            item("Bridging", section="Warm-up"),
            item("Sit to stand", section="Strength"),
        )
        text = text_of(render_handout(handout(items=items)))
        assert text.count("Warm-up") == 1
        assert text.index("Warm-up") < text.index("Heel slides") < text.index("Strength")
        assert text.index("Strength") < text.index("Sit to stand")

    def test_it_says_so_when_the_program_has_no_items(self) -> None:
        text = text_of(render_handout(handout(items=())))
        assert "No items in this program yet." in text

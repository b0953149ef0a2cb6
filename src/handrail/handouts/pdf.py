"""The home-program handout as a PDF (reportlab's platypus, no system libraries needed).

`render_handout(handout)` returns the PDF's bytes. A `Handout` without a patient's first name
is a blank template: the name, date, dose and notes are lines to fill in by hand. Every text
that reaches the PDF is escaped first: platypus paragraphs read a small XML markup, so a
title such as "Sit <-> stand & reach" would otherwise break the page or inject markup.

Fonts: Bitstream Vera, which ships inside the reportlab wheel (reportlab/fonts), so accented
names print the same on every machine without a system font package.
"""

from __future__ import annotations

import io
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from html import escape
from pathlib import Path

from reportlab.lib import colors
from reportlab.lib.enums import TA_LEFT
from reportlab.lib.pagesizes import LETTER
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import inch
from reportlab.lib.utils import ImageReader
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    Flowable,
    Image,
    KeepTogether,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

MAX_PICTURES_PER_ROW = 3
PICTURE_MAX_WIDTH = 2.3 * inch
PICTURE_MAX_HEIGHT = 1.9 * inch
FILL_IN = "_" * 18


@dataclass(frozen=True)
class HandoutImage:
    """One picture of an item: the file's bytes (JPEG, PNG or WebP), an optional caption
    ("Start", "End") and the credit line its licence asks for (printed under the picture
    and again at the end of the handout)."""

    data: bytes
    caption: str = ""
    credit: str = ""


@dataclass(frozen=True)
class HandoutItem:
    title: str
    dose: str = ""
    steps: tuple[str, ...] = ()
    precautions: tuple[str, ...] = ()
    notes: str = ""
    section: str = ""
    images: tuple[HandoutImage, ...] = ()


@dataclass(frozen=True)
class Handout:
    clinic_name: str
    program_title: str
    items: tuple[HandoutItem, ...]
    # None makes a blank template: lines to write the name, date, doses and notes on.
    patient_first_name: str | None = None
    issued_on: date | None = None
    version: int | None = None
    clinic_phone: str = ""
    credits: tuple[str, ...] = field(default=())

    @property
    def blank(self) -> bool:
        return self.patient_first_name is None

    def credit_lines(self) -> list[str]:
        """Every distinct credit line, in first-seen order (pictures first, then extras)."""
        seen: dict[str, None] = {}
        for item in self.items:
            for image in item.images:
                if image.credit.strip():
                    seen.setdefault(image.credit.strip(), None)
        for credit in self.credits:
            if credit.strip():
                seen.setdefault(credit.strip(), None)
        return list(seen)


_FONTS_LOCK = threading.Lock()
_FONTS_READY = False
REGULAR = "HandrailVera"
BOLD = "HandrailVera-Bold"
ITALIC = "HandrailVera-Italic"


def _register_fonts() -> None:
    global _FONTS_READY
    with _FONTS_LOCK:
        if _FONTS_READY:
            return
        import reportlab

        folder = Path(reportlab.__file__).parent / "fonts"
        pdfmetrics.registerFont(TTFont(REGULAR, str(folder / "Vera.ttf")))
        pdfmetrics.registerFont(TTFont(BOLD, str(folder / "VeraBd.ttf")))
        pdfmetrics.registerFont(TTFont(ITALIC, str(folder / "VeraIt.ttf")))
        pdfmetrics.registerFontFamily(REGULAR, normal=REGULAR, bold=BOLD, italic=ITALIC)
        _FONTS_READY = True


def _styles() -> dict[str, ParagraphStyle]:
    base = ParagraphStyle("body", fontName=REGULAR, fontSize=10.5, leading=14, alignment=TA_LEFT)
    return {
        "body": base,
        "clinic": ParagraphStyle("clinic", parent=base, fontName=BOLD, fontSize=16, leading=20),
        "title": ParagraphStyle("title", parent=base, fontName=BOLD, fontSize=13, leading=17),
        "meta": ParagraphStyle("meta", parent=base, fontSize=10, leading=14),
        "section": ParagraphStyle(
            "section",
            parent=base,
            fontName=BOLD,
            fontSize=12,
            leading=16,
            spaceBefore=10,
            textColor=colors.HexColor("#1f4e79"),
        ),
        "item": ParagraphStyle(
            "item", parent=base, fontName=BOLD, fontSize=12, leading=16, spaceBefore=8
        ),
        "dose": ParagraphStyle("dose", parent=base, fontName=BOLD, spaceAfter=2),
        "step": ParagraphStyle("step", parent=base, leftIndent=14, firstLineIndent=-14),
        "caution": ParagraphStyle("caution", parent=base, fontSize=10, leading=13),
        "caption": ParagraphStyle("caption", parent=base, fontSize=7.5, leading=9.5),
        "credit": ParagraphStyle("credit", parent=base, fontSize=8.5, leading=11),
    }


def _text(value: str) -> str:
    """Plain text -> platypus markup: escaped, line breaks kept."""
    return "<br/>".join(escape(line, quote=False) for line in value.splitlines()) or ""


def render_handout(handout: Handout) -> bytes:
    """The handout as PDF bytes (US Letter)."""
    _register_fonts()
    styles = _styles()
    buffer = io.BytesIO()
    document = SimpleDocTemplate(
        buffer,
        pagesize=LETTER,
        leftMargin=0.7 * inch,
        rightMargin=0.7 * inch,
        topMargin=0.7 * inch,
        bottomMargin=0.8 * inch,
        title=handout.program_title,
        author=handout.clinic_name,
        subject="Home program",
        creator="Handrail",
    )
    story: list[Flowable] = [*_header(handout, styles)]
    section = ""
    for number, item in enumerate(handout.items, start=1):
        if item.section.strip() and item.section.strip() != section:
            section = item.section.strip()
            story.append(Paragraph(_text(section), styles["section"]))
        story.append(KeepTogether(_item(number, item, handout, styles, document.width)))
    if not handout.items:
        story.append(Paragraph("No items in this program yet.", styles["body"]))
    credits = handout.credit_lines()
    if credits:
        story.append(Spacer(1, 12))
        story.append(Paragraph("<b>Picture credits</b>", styles["credit"]))
        story.extend(Paragraph(_text(credit), styles["credit"]) for credit in credits)

    def footer(canvas: Canvas, doc: SimpleDocTemplate) -> None:
        canvas.saveState()
        canvas.setFont(REGULAR, 8)
        canvas.setFillColor(colors.HexColor("#555555"))
        left = f"{handout.clinic_name} · {handout.program_title}"
        canvas.drawString(doc.leftMargin, 0.45 * inch, left[:110])
        canvas.drawRightString(
            doc.leftMargin + doc.width, 0.45 * inch, f"page {canvas.getPageNumber()}"
        )
        canvas.restoreState()

    document.build(story, onFirstPage=footer, onLaterPages=footer)
    return buffer.getvalue()


def _header(handout: Handout, styles: dict[str, ParagraphStyle]) -> Iterable[Flowable]:
    yield Paragraph(_text(handout.clinic_name), styles["clinic"])
    if handout.clinic_phone.strip():
        yield Paragraph(f"Questions? Call {_text(handout.clinic_phone)}", styles["meta"])
    yield Spacer(1, 4)
    yield Paragraph(_text(handout.program_title), styles["title"])
    if handout.blank:
        yield Paragraph(f"Name: {FILL_IN}{FILL_IN}&nbsp;&nbsp;Date: {FILL_IN}", styles["meta"])
    else:
        parts = [f"For: {_text(handout.patient_first_name or '')}"]
        if handout.issued_on is not None:
            parts.append(f"Date: {handout.issued_on.isoformat()}")
        if handout.version is not None:
            parts.append(f"Version {handout.version}")
        yield Paragraph(" · ".join(parts), styles["meta"])
    yield Paragraph(
        "Stop and call the clinic if an exercise causes sharp pain, numbness or dizziness.",
        styles["caution"],
    )
    yield Spacer(1, 6)


def _item(
    number: int,
    item: HandoutItem,
    handout: Handout,
    styles: dict[str, ParagraphStyle],
    width: float,
) -> list[Flowable]:
    flowables: list[Flowable] = [Paragraph(f"{number}. {_text(item.title)}", styles["item"])]
    if item.dose.strip():
        flowables.append(Paragraph(_text(item.dose), styles["dose"]))
    if handout.blank:
        flowables.append(
            Paragraph(
                "Sets ____ Reps ____ Hold ____ s · ____ times a day · ____ days a week",
                styles["meta"],
            )
        )
    if item.images:
        flowables.append(_pictures(item.images, styles, width))
    for index, step in enumerate(item.steps, start=1):
        flowables.append(Paragraph(f"{index}. {_text(step)}", styles["step"]))
    if item.precautions:
        flowables.append(_precautions(item.precautions, styles, width))
    if item.notes.strip():
        flowables.append(Paragraph(f"<i>Note:</i> {_text(item.notes)}", styles["body"]))
    if handout.blank:
        flowables.append(Paragraph(f"Notes: {FILL_IN * 3}", styles["meta"]))
    flowables.append(Spacer(1, 4))
    return flowables


def _pictures(
    images: tuple[HandoutImage, ...], styles: dict[str, ParagraphStyle], width: float
) -> Flowable:
    cells: list[list[Flowable]] = []
    for image in images:
        cell: list[Flowable] = [_picture(image, styles)]
        caption = " · ".join(p for p in (image.caption.strip(), image.credit.strip()) if p)
        if caption:
            cell.append(Paragraph(_text(caption), styles["caption"]))
        cells.append(cell)
    rows = [
        cells[start : start + MAX_PICTURES_PER_ROW]
        for start in range(0, len(cells), MAX_PICTURES_PER_ROW)
    ]
    column = width / MAX_PICTURES_PER_ROW
    rows = [row + [[]] * (MAX_PICTURES_PER_ROW - len(row)) for row in rows]
    table = Table(rows, colWidths=[column] * MAX_PICTURES_PER_ROW, hAlign="LEFT")
    table.setStyle(
        TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LEFTPADDING", (0, 0), (-1, -1), 0),
                ("RIGHTPADDING", (0, 0), (-1, -1), 8),
                ("TOPPADDING", (0, 0), (-1, -1), 4),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 4),
            ]
        )
    )
    return table


def _picture(image: HandoutImage, styles: dict[str, ParagraphStyle]) -> Flowable:
    # The web app accepts only pictures that Pillow could verify at upload, but a file that
    # has gone missing or bad in storage since must cost the patient one picture, not the
    # whole handout: reportlab/Pillow raise many exception types for a broken image.
    try:
        reader = ImageReader(io.BytesIO(image.data))
        pixel_width, pixel_height = reader.getSize()
    except Exception:
        return Paragraph("(picture could not be shown)", styles["caption"])
    if pixel_width <= 0 or pixel_height <= 0:
        return Paragraph("(picture could not be shown)", styles["caption"])
    scale = min(PICTURE_MAX_WIDTH / pixel_width, PICTURE_MAX_HEIGHT / pixel_height)
    flowable = Image(
        io.BytesIO(image.data), width=pixel_width * scale, height=pixel_height * scale
    )
    flowable.hAlign = "LEFT"
    return flowable


def _precautions(
    precautions: tuple[str, ...], styles: dict[str, ParagraphStyle], width: float
) -> Flowable:
    lines = [Paragraph("<b>Take care</b>", styles["caution"])]
    lines.extend(Paragraph(f"• {_text(line)}", styles["caution"]) for line in precautions)
    box = Table([[lines]], colWidths=[width])
    box.setStyle(
        TableStyle(
            [
                ("BACKGROUND", (0, 0), (-1, -1), colors.HexColor("#fff4e5")),
                ("BOX", (0, 0), (-1, -1), 0.5, colors.HexColor("#e0a040")),
                ("LEFTPADDING", (0, 0), (-1, -1), 6),
                ("TOPPADDING", (0, 0), (-1, -1), 4),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 4),
            ]
        )
    )
    return box

"""The appeal letter for a denied or underpaid claim, as a PDF, with the signed note attached.

`render_appeal(letter)` takes plain values and returns the PDF's bytes (reportlab platypus;
Bitstream Vera from the reportlab wheel so names print the same everywhere). The patient is
named by initials and member id only: the letter travels by fax and mail.

# Sources
- Medicare Part B first-level appeal ("redetermination"): 42 CFR 405.940-405.958; a request
  names the beneficiary, the Medicare number, the service and date, and why the requester
  disagrees (405.944(b)), within 120 days of receiving the initial determination (405.942).
  CMS Pub. 100-04 chapter 29 section 310.
- Commercial plans: the plan's own appeal policy (most ask for the same content).
"""

from __future__ import annotations

import io
import threading
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from html import escape
from pathlib import Path
from typing import Any, Final

from reportlab.lib.pagesizes import LETTER
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import inch
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import (
    Flowable,
    PageBreak,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from handrail.claims.model import FieldError

REGULAR: Final = "AppealVera"
BOLD: Final = "AppealVera-Bold"
_FONTS_LOCK = threading.Lock()
_fonts_ready = False


class AppealInputError(FieldError):
    """A letter that cannot be written: `field_name` names the field."""


@dataclass(frozen=True)
class AppealClinic:
    name: str
    npi: str
    tax_id: str
    address_lines: tuple[str, ...]
    phone: str = ""


@dataclass(frozen=True)
class AppealPayer:
    name: str
    address_lines: tuple[str, ...] = ()
    medicare: bool = True


@dataclass(frozen=True)
class AppealPatient:
    initials: str
    member_id: str


@dataclass(frozen=True)
class AppealLine:
    """A line appealed: the code as billed, what was charged and paid, and the reason codes
    as the remittance gave them (e.g. "CO-97", "N20")."""

    code: str
    modifiers: tuple[str, ...]
    units: int
    charge: Decimal
    paid: Decimal
    reasons: tuple[str, ...]


@dataclass(frozen=True)
class AppealClaim:
    control_number: str
    payer_claim_number: str
    service_date: date
    remittance_date: date | None
    lines: tuple[AppealLine, ...]


@dataclass(frozen=True)
class SignedNote:
    text: str
    signed_by: str
    signed_on: date


@dataclass(frozen=True)
class AppealLetter:
    clinic: AppealClinic
    payer: AppealPayer
    patient: AppealPatient
    claim: AppealClaim
    argument: str
    note: SignedNote
    written_on: date
    signer: str
    signer_title: str = ""

    @property
    def title(self) -> str:
        return "Request for redetermination" if self.payer.medicare else "Request for claim appeal"


def appeal_problems(letter: AppealLetter) -> list[AppealInputError]:
    """Every missing piece, each naming its field; an empty list when the letter can go."""
    required = {
        "clinic.name": letter.clinic.name,
        "clinic.npi": letter.clinic.npi,
        "payer.name": letter.payer.name,
        "patient.initials": letter.patient.initials,
        "patient.member_id": letter.patient.member_id,
        "claim.payer_claim_number": letter.claim.payer_claim_number,
        "argument": letter.argument,
        "note.text": letter.note.text,
        "note.signed_by": letter.note.signed_by,
        "signer": letter.signer,
    }
    problems = [
        AppealInputError(name, "is required")
        for name, value in required.items()
        if not value.strip()
    ]
    if not letter.claim.lines:
        problems.append(AppealInputError("claim.lines", "name at least one line to appeal"))
    return problems


def render_appeal(letter: AppealLetter) -> bytes:
    """The letter (page 1 on) and the signed note (from a new page) as PDF bytes. Raises
    AppealInputError for the first missing field. The same letter gives the same bytes."""
    problems = appeal_problems(letter)
    if problems:
        raise problems[0]
    _register_fonts()
    styles = _styles()
    buffer = io.BytesIO()
    document = SimpleDocTemplate(
        buffer,
        pagesize=LETTER,
        leftMargin=0.9 * inch,
        rightMargin=0.9 * inch,
        topMargin=0.8 * inch,
        bottomMargin=0.8 * inch,
        title=f"{letter.title}: claim {letter.claim.payer_claim_number}",
        author=letter.clinic.name,
        creator="Handrail",
        invariant=True,
    )
    story = [*_letter(letter, styles, document.width), PageBreak(), *_note(letter, styles)]
    document.build(story)
    return buffer.getvalue()


def _letter(
    letter: AppealLetter, styles: dict[str, ParagraphStyle], width: float
) -> list[Flowable]:
    clinic, claim = letter.clinic, letter.claim
    story: list[Flowable] = [
        Paragraph(_text(clinic.name), styles["heading"]),
        Paragraph(_lines(*clinic.address_lines, clinic.phone), styles["body"]),
        Paragraph(_text(f"NPI {clinic.npi} · TIN {clinic.tax_id}"), styles["body"]),
        Spacer(1, 14),
        Paragraph(_text(letter.written_on.strftime("%B %-d, %Y")), styles["body"]),
        Spacer(1, 10),
        Paragraph(_lines(letter.payer.name, *letter.payer.address_lines), styles["body"]),
        Spacer(1, 14),
        Paragraph(_text(letter.title), styles["title"]),
        Spacer(1, 6),
    ]
    facts = [
        ("Patient", letter.patient.initials),
        ("Member id", letter.patient.member_id),
        ("Payer claim number", claim.payer_claim_number),
        ("Our claim number", claim.control_number),
        ("Date of service", claim.service_date.isoformat()),
    ]
    if claim.remittance_date is not None:
        facts.append(("Remittance dated", claim.remittance_date.isoformat()))
    story.append(_table([[a, b] for a, b in facts], [1.8 * inch, width - 1.8 * inch], styles))
    story.append(Spacer(1, 10))
    rows = [["Code", "Units", "Charged", "Paid", "Reason codes"]]
    rows.extend(
        [
            ":".join((line.code, *line.modifiers)),
            str(line.units),
            f"${line.charge:,.2f}",
            f"${line.paid:,.2f}",
            ", ".join(line.reasons),
        ]
        for line in claim.lines
    )
    story.append(_table(rows, [1.5 * inch, 0.6 * inch, 1 * inch, 1 * inch, None], styles, True))
    story.append(Spacer(1, 12))
    story.append(
        Paragraph(
            _text(
                "We ask you to review the determination of the line(s) above. The services "
                "were medically necessary, performed and documented as billed; our reasons "
                "follow."
            ),
            styles["body"],
        )
    )
    story.append(Spacer(1, 6))
    story.extend(
        Paragraph(_text(paragraph), styles["body"])
        for paragraph in letter.argument.split("\n\n")
        if paragraph.strip()
    )
    story.append(Spacer(1, 6))
    story.append(
        Paragraph(
            _text(
                f"Enclosed: the signed treatment note of {claim.service_date.isoformat()} "
                f"(signed by {letter.note.signed_by} on {letter.note.signed_on.isoformat()})."
            ),
            styles["body"],
        )
    )
    story.append(Spacer(1, 24))
    story.append(Paragraph("Sincerely,", styles["body"]))
    story.append(Spacer(1, 18))
    story.append(Paragraph(_lines(letter.signer, letter.signer_title), styles["body"]))
    return story


def _note(letter: AppealLetter, styles: dict[str, ParagraphStyle]) -> list[Flowable]:
    note = letter.note
    story: list[Flowable] = [
        Paragraph(_text("Enclosure: signed treatment note"), styles["title"]),
        Paragraph(
            _text(
                f"Patient {letter.patient.initials} · member id {letter.patient.member_id} · "
                f"date of service {letter.claim.service_date.isoformat()}"
            ),
            styles["body"],
        ),
        Spacer(1, 8),
    ]
    story.extend(Paragraph(_text(block), styles["note"]) for block in note.text.split("\n\n"))
    story.append(Spacer(1, 10))
    story.append(
        Paragraph(
            _text(f"Electronically signed by {note.signed_by} on {note.signed_on.isoformat()}."),
            styles["body"],
        )
    )
    return story


def _table(
    rows: list[list[str]],
    widths: list[float | None],
    styles: dict[str, ParagraphStyle],
    header: bool = False,
) -> Table:
    cells = [[Paragraph(_text(cell), styles["cell"]) for cell in row] for row in rows]
    table = Table(cells, colWidths=widths, hAlign="LEFT")
    commands: list[Any] = [
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
        ("TOPPADDING", (0, 0), (-1, -1), 2),
    ]
    if header:
        commands.append(("LINEBELOW", (0, 0), (-1, 0), 0.5, "#555555"))
    table.setStyle(TableStyle(commands))
    return table


def _register_fonts() -> None:
    global _fonts_ready
    with _FONTS_LOCK:
        if _fonts_ready:
            return
        import reportlab

        folder = Path(reportlab.__file__).parent / "fonts"
        pdfmetrics.registerFont(TTFont(REGULAR, str(folder / "Vera.ttf")))
        pdfmetrics.registerFont(TTFont(BOLD, str(folder / "VeraBd.ttf")))
        pdfmetrics.registerFontFamily(REGULAR, normal=REGULAR, bold=BOLD)
        _fonts_ready = True


def _styles() -> dict[str, ParagraphStyle]:
    base = ParagraphStyle("body", fontName=REGULAR, fontSize=10.5, leading=14, spaceAfter=2)
    return {
        "body": base,
        "heading": ParagraphStyle("heading", parent=base, fontName=BOLD, fontSize=14, leading=18),
        "title": ParagraphStyle("title", parent=base, fontName=BOLD, fontSize=12.5, leading=17),
        "cell": ParagraphStyle("cell", parent=base, fontSize=9.5, leading=12, spaceAfter=0),
        "note": ParagraphStyle("note", parent=base, fontSize=10, leading=13, spaceAfter=6),
    }


def _text(value: str) -> str:
    """Plain text -> platypus markup: escaped (a note may contain "<" or "&"), breaks kept."""
    return "<br/>".join(escape(line, quote=False) for line in value.splitlines())


def _lines(*values: str) -> str:
    """Lines of an address or signature, the empty ones left out."""
    return "<br/>".join(escape(value, quote=False) for value in values if value.strip())

from __future__ import annotations

import io
from dataclasses import replace
from datetime import date
from decimal import Decimal

import pytest
from pypdf import PdfReader

from handrail.claims.appeal import (
    AppealClaim,
    AppealClinic,
    AppealInputError,
    AppealLetter,
    AppealLine,
    AppealPatient,
    AppealPayer,
    SignedNote,
    appeal_problems,
    render_appeal,
)

NOTE = (
    "S: Patient reports less pain on stairs.\n\n"
    "O: 97530 8:05-8:20 sit-to-stand training; 97140 8:25-8:40 soft tissue mobilisation, "
    "left knee <separate interval> & separate area."
)


def _letter(**changes: object) -> AppealLetter:
    letter = AppealLetter(
        clinic=AppealClinic(
            "Acme Physical Therapy LLC", "1234567893", "37-1234567",
            ("123 Main St", "Springfield, IL 62701"), "217-555-1234",
        ),
        payer=AppealPayer("Medicare Part B", ("PO Box 1", "Indianapolis, IN 46206")),
        patient=AppealPatient("J. D.", "1EG4TE5MK73"),
        claim=AppealClaim(
            control_number="PTCLM0001",
            payer_claim_number="26123456789000",
            service_date=date(2026, 11, 20),
            remittance_date=date(2026, 12, 1),
            lines=(
                AppealLine("97140", ("GP",), 1, Decimal("90.00"), Decimal("0.00"),
                           ("CO-97", "N20")),
            ),
        ),
        argument="97140 was performed in a separate 15-minute interval from 97530.\n\n"
        "A corrected claim adds XU to 97140.",
        note=SignedNote(NOTE, "Jane Smith, PT", date(2026, 11, 20)),
        written_on=date(2026, 12, 5),
        signer="Jane Biller",
        signer_title="Billing manager",
    )  # fmt: skip
    return replace(letter, **changes)  # type: ignore[arg-type]


def _pages(pdf: bytes) -> list[str]:
    """Each page's text with line wraps turned into spaces."""
    reader = PdfReader(io.BytesIO(pdf))
    return [" ".join(page.extract_text().split()) for page in reader.pages]


class RenderAppealTests:
    def test_the_letter_names_the_claim_the_line_and_the_argument(self) -> None:
        pdf = render_appeal(_letter())
        assert pdf.startswith(b"%PDF-")
        letter, note = _pages(pdf)
        for expected in (
            "Request for redetermination",
            "December 5, 2026",
            "NPI 1234567893",
            "26123456789000",
            "PTCLM0001",
            "2026-11-20",
            "97140:GP",
            "$90.00",
            "CO-97, N20",
            "separate 15-minute interval",
            "A corrected claim adds XU to 97140.",
            "Jane Biller",
        ):
            assert expected in letter, expected
        assert "Enclosure: signed treatment note" in note
        assert "left knee <separate interval> & separate area." in note
        assert "Electronically signed by Jane Smith, PT on 2026-11-20." in note

    def test_the_patient_is_named_by_initials_only(self) -> None:
        text = "".join(_pages(render_appeal(_letter())))
        assert "J. D." in text
        assert "John" not in text

    def test_a_commercial_payer_gets_an_appeal_not_a_redetermination(self) -> None:
        payer = AppealPayer("Acme Health Plan", medicare=False)
        first = _pages(render_appeal(_letter(payer=payer)))[0]
        assert "Request for claim appeal" in first
        assert "redetermination" not in first

    def test_the_same_letter_gives_the_same_bytes(self) -> None:
        assert render_appeal(_letter()) == render_appeal(_letter())

    def test_the_document_title_names_the_claim(self) -> None:
        reader = PdfReader(io.BytesIO(render_appeal(_letter())))
        assert reader.metadata is not None
        assert reader.metadata.title == "Request for redetermination: claim 26123456789000"

    def test_a_missing_argument_is_refused_naming_the_field(self) -> None:
        with pytest.raises(AppealInputError) as raised:
            render_appeal(_letter(argument="  "))
        assert raised.value.field_name == "argument"

    def test_every_missing_piece_is_named(self) -> None:
        letter = _letter(
            note=SignedNote("", "", date(2026, 11, 20)),
            claim=replace(_letter().claim, lines=(), payer_claim_number=""),
        )
        assert [p.field_name for p in appeal_problems(letter)] == [
            "claim.payer_claim_number",
            "note.text",
            "note.signed_by",
            "claim.lines",
        ]

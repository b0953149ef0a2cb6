"""What the status code of a fee schedule row means for payment.

Source: CMS PFS relative value file documentation (RVU25D.pdf, record layout "Status Code" and
Attachment A): "Only RVUs associated with status codes of A, R, or T are used for Medicare
payment." Every other status is paid nothing under the fee schedule, whatever RVUs the row
shows. The meanings below are our own summaries of Attachment A.
"""

from __future__ import annotations

from dataclasses import dataclass

from handrail.rules.model import Source

SOURCE_STATUS_CODES = Source(
    "CMS PFS relative value file documentation (RVU25D), status code, Attachment A"
)


@dataclass(frozen=True, slots=True)
class FeeStatus:
    code: str
    paid: bool  # its RVUs are used for Medicare payment
    meaning: str  # our words, short enough for a sentence
    caveat: str = ""  # for a paid status: the condition on its payment


FEE_STATUSES: dict[str, FeeStatus] = {
    status.code: status
    for status in (
        FeeStatus("A", True, "active: paid separately when covered"),
        FeeStatus("B", False, "bundled into other services"),
        FeeStatus("C", False, "priced by the Medicare contractor (MAC) case by case"),
        FeeStatus("D", False, "deleted code"),
        FeeStatus("E", False, "excluded from the fee schedule by regulation"),
        FeeStatus("F", False, "deleted or discontinued code"),
        FeeStatus("G", False, "not valid for Medicare (another code is used)"),
        FeeStatus("H", False, "deleted modifier"),
        FeeStatus("I", False, "not valid for Medicare"),
        FeeStatus("J", False, "anesthesia service, not priced with RVUs"),
        FeeStatus("M", False, "measurement code, reported for quality reporting only"),
        FeeStatus("N", False, "not covered by Medicare"),
        FeeStatus("P", False, "bundled or excluded, no separate payment"),
        FeeStatus(
            "R",
            True,
            "restricted coverage",
            "paid only when Medicare's special coverage instructions for it are met",
        ),
        FeeStatus(
            "T",
            True,
            "injection paid only on its own",
            "paid only when no other fee schedule service is billed that day by the same "
            "provider; otherwise bundled into it",
        ),
        FeeStatus(
            "X", False, "statutory exclusion: not a physician service under the fee schedule"
        ),
    )
}


def fee_status(code: str) -> FeeStatus:
    """The meaning of a status letter; a letter the documentation does not define is unpaid."""
    found = FEE_STATUSES.get(code)
    if found is None:
        return FeeStatus(code, False, "a status code the RVU file documentation does not define")
    return found


def not_paid_reason(code: str) -> str | None:
    """Why a row of this status is paid $0.00 under the fee schedule, or None if it is paid."""
    status = fee_status(code)
    return None if status.paid else status.meaning

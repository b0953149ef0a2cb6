"""Values shared by every rule: sources, findings and explanation steps."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class Severity(StrEnum):
    """How bad a finding is.

    ERROR: the line or claim will be denied as it stands.
    WARNING: an audit risk or a likely denial the user should look at.
    INFO: worth knowing; nothing to fix.
    """

    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


@dataclass(frozen=True, slots=True)
class Source:
    """Where a rule or a figure comes from.

    `citation` is what a biller would look up ("CMS Pub 100-04 ch.5 §20.2").
    `verified` is False for facts the reference material marks unverified; the UI and
    the CLI print those with an "unverified" label.
    """

    citation: str
    verified: bool = True
    note: str = ""

    def label(self) -> str:
        text = self.citation
        if not self.verified:
            text += " [unverified]"
        return text


@dataclass(frozen=True, slots=True)
class Finding:
    """One documentation, coding or billing problem found in a visit."""

    severity: Severity
    rule: str  # stable id, e.g. "doc.97535.missing-baseline"
    message: str
    fix: str
    source: Source
    line: int | None = None  # index of the visit line it concerns, if any
    # The code it concerns, when the step that found it knows the code but not the line
    # (NCCI and MUE edits count codes per day): the visit gives it the code's line.
    code: str | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "severity": self.severity.value,
            "rule": self.rule,
            "message": self.message,
            "fix": self.fix,
            "source": self.source.label(),
        }
        if self.line is not None:
            out["line"] = self.line
        return out


@dataclass(slots=True)
class Explanation:
    """Plain-language steps that show how an answer was reached, in order."""

    steps: list[str] = field(default_factory=list)

    def add(self, step: str, source: Source | None = None) -> None:
        self.steps.append(f"{step} ({source.label()})" if source else step)

    def extend(self, other: Explanation) -> None:
        self.steps.extend(other.steps)


def printable(text: str) -> str:
    """`text` safe for one line of UTF-8 output: line breaks, other control characters and
    lone surrogates (which JSON can smuggle in as "\\udcff") are written as escapes."""
    if text.isascii() and text.isprintable():
        return text
    out = []
    for char in text:
        if char.isprintable() and not 0xD800 <= ord(char) <= 0xDFFF:
            out.append(char)
        else:
            out.append(char.encode("unicode_escape").decode("ascii"))
    return "".join(out)


class RuleInputError(ValueError):
    """Input the engine cannot evaluate: `field` names what is wrong, the message how to fix it."""

    def __init__(self, field: str, message: str) -> None:
        field, message = printable(field), printable(message)
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message

"""Plain-language summaries of each catalog code and its boundaries to neighbouring codes.

Written in our own words: no AMA CPT descriptor text (not even the CMS short names).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class CodeText:
    summary: str
    boundaries: tuple[str, ...]


CODE_TEXT: dict[str, CodeText] = {}

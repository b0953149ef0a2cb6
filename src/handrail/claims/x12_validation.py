"""The X12 grammar check of a file, by pyx12 (its 005010 maps: segments, loops, element
types, code lists, SE/GE/IEA counts). What pyx12 does not check, Handrail checks itself:
`x837p.batch_problems` for claims, `x835.balance_problems` for remittances."""

from __future__ import annotations

import contextlib
import io
import json
import logging
from dataclasses import dataclass

import pyx12.params
import pyx12.x12n_document


@dataclass(frozen=True)
class X12Error:
    """One error pyx12 found: the segment it was reading and what is wrong."""

    segment: str
    message: str

    def __str__(self) -> str:
        return f"{self.segment}: {self.message}" if self.segment else self.message


def x12_errors(text: str) -> list[X12Error]:
    """Every error pyx12 reports for the file; an empty list when it is valid."""
    # pyx12 also logs each error at ERROR level; the caller reports them, so stay quiet.
    logger = logging.getLogger("pyx12")
    logger.propagate = False
    logger.disabled = True
    acknowledgement, report = io.StringIO(), io.StringIO()
    # x12n_document also prints its error summary to stdout.
    with contextlib.redirect_stdout(io.StringIO()):
        valid = pyx12.x12n_document.x12n_document(
            param=pyx12.params.params(),
            src_file=io.StringIO(text),
            fd_997=acknowledgement,
            fd_html=None,
            fd_xmldoc=None,
            fd_json=report,
        )
    errors = list(_errors_in(json.loads(report.getvalue() or "{}")))
    if not valid and not errors:
        errors.append(X12Error("", "pyx12 rejected the file without naming a segment"))
    return errors


def _errors_in(node: object, segment: str = "") -> list[X12Error]:
    """pyx12's JSON report nests errors under the loops and segments where it found them."""
    found: list[X12Error] = []
    if isinstance(node, dict):
        here = segment
        if node.get("seg_id"):
            here = f"{node['seg_id']} (line {node.get('cur_line', '?')})"
        if "err_str" in node:
            found.append(X12Error(here, str(node["err_str"])))
        for value in node.values():
            if isinstance(value, dict | list):
                found.extend(_errors_in(value, here))
    elif isinstance(node, list):
        for item in node:
            found.extend(_errors_in(item, segment))
    return found

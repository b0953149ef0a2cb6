"""How the CLI reports bad input: one line on stderr, exit status 2, never a traceback."""

from __future__ import annotations

EXIT_OK = 0
EXIT_BAD_INPUT = 2
EXIT_INTERNAL = 1  # a defect in Handrail, reported in one line


class CliError(Exception):
    """A user-facing problem; the message says what was wrong and how to fix it."""

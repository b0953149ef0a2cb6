"""Patient handouts: the printable home program (PDF), built from plain data.

Nothing here imports Django: the web app gathers a program into `Handout` and asks for bytes,
so the same code prints an issued program, a blank template and the benchmark's program.
"""

from __future__ import annotations

from handrail.handouts.pdf import (
    Handout,
    HandoutImage,
    HandoutItem,
    render_handout,
)

__all__ = ["Handout", "HandoutImage", "HandoutItem", "render_handout"]

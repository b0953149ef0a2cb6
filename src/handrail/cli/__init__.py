"""The `handrail` command line: a thin interface over the rules engine and the data store."""

from __future__ import annotations

"""Official data: built-in CMS tables, importers of CMS/CDC release files, and the layered
table providers the rules engine reads (`load_ruleset`)."""

from __future__ import annotations

from handrail.officialdata.errors import OfficialDataError
from handrail.officialdata.loading import load_ruleset

__all__ = ["OfficialDataError", "load_ruleset"]

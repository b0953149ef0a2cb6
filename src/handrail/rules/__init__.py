"""The billing rules engine.

Pure Python: this package never imports Django or a database layer (an import-linter
contract in pyproject.toml enforces it). Every answer carries plain-language explanation
steps and the source of each rule, and every rule or table is chosen by date of service.
"""

from __future__ import annotations

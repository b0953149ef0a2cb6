"""`python -m handrail` runs the command line."""

from __future__ import annotations

import sys

from handrail.cli.main import main

sys.exit(main())

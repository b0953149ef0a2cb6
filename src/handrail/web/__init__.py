"""The Handrail clinic web application (Django 5.2 LTS).

Layout: `settings.py` (environment through typed helpers in `env.py`), one Django app per
area (`clinic`, `care`, `visits`, `audit`, `api`). Business logic lives in each app's
`services.py` (writes) and `selectors.py` (reads); views and API endpoints stay thin.
The rules engine (`handrail.rules`) is called from `handrail.web.visits.engine` only.
"""

from __future__ import annotations

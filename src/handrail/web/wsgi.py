"""WSGI entry point for production servers (gunicorn handrail.web.wsgi). Needs SECRET_KEY or
SECRET_KEY_FILE in the environment; see handrail/web/settings.py for every variable."""

from __future__ import annotations

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "handrail.web.settings")

application = get_wsgi_application()

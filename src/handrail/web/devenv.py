"""Development defaults for `make run` and `manage.py`: a generated secret key in var/.

The key is created once under `<repo>/var/secret_key` (git-ignored, mode 0600) and handed to
the settings through `SECRET_KEY_FILE`. Production sets `SECRET_KEY` or `SECRET_KEY_FILE`
itself and runs `handrail.web.wsgi`, which never calls this.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[3]
VAR_DIR = Path(os.environ.get("HANDRAIL_VAR_DIR", str(REPO_ROOT / "var")))


def ensure_dev_secret_key() -> Path:
    """Create var/secret_key if missing and point SECRET_KEY_FILE at it (unless one is set)."""
    path = VAR_DIR / "secret_key"
    if os.environ.get("SECRET_KEY") or os.environ.get("SECRET_KEY_FILE"):
        return path
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(secrets.token_urlsafe(50) + "\n")
    os.environ["SECRET_KEY_FILE"] = str(path)
    return path


def setup_dev_environment() -> None:
    """Generated key unless one is set, and our settings module. DEBUG is left to the
    environment (off by default, `make run` included: users never see Django's debug page)."""
    ensure_dev_secret_key()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "handrail.web.settings")

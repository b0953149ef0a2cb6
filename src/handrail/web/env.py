"""Typed environment helpers that fail loudly (after healthchecks' `hc/settings.py`).

Every setting read from the environment goes through one of these. A bad value raises
`ImproperlyConfigured` naming the variable and what it expects. Secrets may also come from a
file named by `<NAME>_FILE` (Docker/Kubernetes secrets), never from the repository.
"""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import urlsplit

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_str(name: str, default: str) -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name}={raw!r}: write 1/true/yes/on or 0/false/no/off")


def env_int(name: str, default: int, *, minimum: int = 0) -> int:
    raw = os.environ.get(name)
    if raw is None:
        return default
    try:
        value = int(raw.strip())
    except ValueError:
        raise ImproperlyConfigured(f"{name}={raw!r}: must be a whole number") from None
    if value < minimum:
        raise ImproperlyConfigured(f"{name}={raw!r}: must be {minimum} or more")
    return value


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None:
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


def env_secret(name: str) -> str | None:
    """`NAME` or the contents of the file named by `NAME_FILE` (stripped); None when neither."""
    value = os.environ.get(name)
    file_name = os.environ.get(f"{name}_FILE")
    if value and file_name:
        raise ImproperlyConfigured(f"set {name} or {name}_FILE, not both")
    if value:
        return value
    if file_name:
        path = Path(file_name)
        try:
            text = path.read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise ImproperlyConfigured(
                f"{name}_FILE={file_name!r}: cannot read it ({exc})"
            ) from None
        if not text:
            raise ImproperlyConfigured(f"{name}_FILE={file_name!r}: the file is empty")
        return text
    return None


def env_required_secret(name: str, hint: str, *, minimum_length: int = 50) -> str:
    """A required secret of at least `minimum_length` characters. 50 for SECRET_KEY: what
    Django's deploy check (security.W009) asks, so a key accepted here passes it."""
    value = env_secret(name)
    if value is None:
        raise ImproperlyConfigured(f"{name} (or {name}_FILE) is not set. {hint}")
    if len(value) < minimum_length:
        raise ImproperlyConfigured(
            f"{name} is too short ({len(value)} characters): use {minimum_length} or more "
            f"random characters. {hint}"
        )
    return value


_LOOPBACK = {"127.0.0.1", "localhost", "::1"}


def env_hub_url(name: str) -> str:
    """The address of another Handrail server, e.g. https://hub.example.org (no path, query
    or credentials); "" when unset. https:// only, except http:// to this machine (a hub
    served beside this one, or a test's), so a key never crosses a network in clear."""
    raw = os.environ.get(name, "").strip()
    if not raw:
        return ""
    hint = "write the hub's address, e.g. https://hub.example.org"
    try:
        parts = urlsplit(raw)
        parts.port  # noqa: B018 (raises ValueError for a port that is not a number)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={raw!r}: not an address; {hint}") from None
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise ImproperlyConfigured(f"{name}={raw!r}: {hint}")
    if parts.scheme == "http" and parts.hostname not in _LOOPBACK:
        raise ImproperlyConfigured(
            f"{name}={raw!r}: use https:// (http:// only for a hub on this machine)"
        )
    if parts.username or parts.password or parts.query or parts.fragment:
        raise ImproperlyConfigured(f"{name}={raw!r}: no credentials, query or #; {hint}")
    if parts.path not in ("", "/"):
        raise ImproperlyConfigured(f"{name}={raw!r}: the server's address only, no path; {hint}")
    return f"{parts.scheme}://{parts.netloc}"

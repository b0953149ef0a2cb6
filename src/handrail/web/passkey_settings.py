"""The relying party of passkeys (WebAuthn): which domain a passkey belongs to and which
page addresses (origins) may use it. Read once at start by the settings.

WebAuthn scopes every passkey to an RP ID, a domain name (never an IP address): a passkey
made on clinic.example.org works on that domain and its subdomains only, and the browser
writes the page's origin into what the authenticator signs, which the server checks
against the origins it expects (W3C Web Authentication Level 3, sections 5.1.3 and 7.1).

- `WEBAUTHN_RP_ID` unset: the host of SITE_URL when it is a domain name, otherwise the
  first domain name in ALLOWED_HOSTS (`localhost` with the defaults). None there (only
  addresses or `*`): passkeys are off, and the pages say why.
- `WEBAUTHN_ORIGINS` unset: SITE_URL's origin when its host is the RP ID or below it,
  otherwise `https://<RP ID>` (behind HTTPS) or `http://<RP ID>` with SITE_URL's port.
  Browsers allow passkeys on https:// pages and on http://localhost only; a derived origin
  that is neither turns passkeys off instead of stopping the app.
- Set explicitly, a value that cannot work stops the app at start with what to change.
"""

from __future__ import annotations

import ipaddress
import logging
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.core.exceptions import ImproperlyConfigured
from django.http.request import validate_host


@dataclass(frozen=True)
class RelyingParty:
    rp_id: str  # "" when passkeys are off
    origins: list[str]
    off_reason: str  # why passkeys are off ("" when on)

    @property
    def enabled(self) -> bool:
        return bool(self.rp_id)


def _is_domain(host: str) -> bool:
    if not host or host == "*" or host.startswith("[") or ":" in host:
        return False
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return all(part for part in host.split("."))
    return False


def _within(host: str, rp_id: str) -> bool:
    return host == rp_id or host.endswith("." + rp_id)


def _secure(origin: str) -> bool:
    parts = urlsplit(origin)
    return parts.scheme == "https" or (parts.scheme == "http" and parts.hostname == "localhost")


def _origin_problem(origin: str, rp_id: str, allowed_hosts: list[str]) -> str:
    """What is wrong with one origin ("" when it can work)."""
    parts = urlsplit(origin)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.path not in ("", "/"):
        return f"{origin!r} is not an origin: write scheme://host[:port], e.g. https://{rp_id}"
    if parts.query or parts.fragment or parts.username:
        return f"{origin!r} is not an origin: write scheme://host[:port] only"
    if not _within(parts.hostname, rp_id):
        return f"{origin!r} is not on {rp_id} or below it (WEBAUTHN_RP_ID)"
    if not _secure(origin):
        return f"{origin!r}: browsers allow passkeys on https:// pages and http://localhost only"
    if not validate_host(parts.hostname, allowed_hosts):
        return f"{origin!r}: its host is not in ALLOWED_HOSTS, so the app would refuse it"
    return ""


def relying_party(
    *,
    rp_id: str,
    origins: list[str],
    site_url: str,
    allowed_hosts: list[str],
    https: bool,
) -> RelyingParty:
    """The RP ID and origins from the settings (see the module docstring)."""
    explicit_rp = bool(rp_id)
    if explicit_rp:
        rp_id = rp_id.strip().lower()
        if not _is_domain(rp_id):
            raise ImproperlyConfigured(
                f"WEBAUTHN_RP_ID={rp_id!r}: write the domain name the clinic's staff open "
                "(e.g. clinic.example.org), not an address, port or URL"
            )
    else:
        site_host = (urlsplit(site_url).hostname or "").lower()
        candidates = [site_host, *(h.lstrip(".").lower() for h in allowed_hosts)]
        rp_id = next((h for h in candidates if _is_domain(h)), "")
        if not rp_id:
            return RelyingParty(
                "",
                [],
                "passkeys need a domain name: set WEBAUTHN_RP_ID (or a name in ALLOWED_HOSTS)",
            )
    if origins:
        origins = [o.strip().rstrip("/") for o in origins]
        for origin in origins:
            if problem := _origin_problem(origin, rp_id, allowed_hosts):
                raise ImproperlyConfigured(f"WEBAUTHN_ORIGINS: {problem}")
        return RelyingParty(rp_id, origins, "")
    site = urlsplit(site_url)
    if site.hostname and _within(site.hostname.lower(), rp_id):
        derived = f"{site.scheme}://{site.netloc.lower()}"
    elif https:
        derived = f"https://{rp_id}"
    else:
        derived = f"http://{rp_id}" + (f":{site.port}" if site.port else "")
    if problem := _origin_problem(derived, rp_id, allowed_hosts):
        if explicit_rp:
            raise ImproperlyConfigured(
                f"WEBAUTHN_RP_ID={rp_id!r}: the derived origin {problem}; "
                "set WEBAUTHN_ORIGINS to the address staff open"
            )
        return RelyingParty("", [], f"passkeys are off: {problem}; set WEBAUTHN_ORIGINS")
    return RelyingParty(rp_id, [derived], "")


class PasskeyRefusalFilter(logging.Filter):
    """django-otp-webauthn logs every refused passkey answer (a wrong origin, a bad
    signature) with `logger.exception`: an ERROR and a traceback for what is a client's
    mistake or an attack. One WARNING line with py_webauthn's reason says enough."""

    def filter(self, record: logging.LogRecord) -> bool:
        # A record may pass this filter more than once (on the logger and on each handler
        # that carries it): rewrite it the first time only.
        if getattr(record, "passkey_refusal", False):
            return True
        record.passkey_refusal = True
        record.msg = f"passkey refused: {record.getMessage()}"
        record.args = ()
        record.exc_info = None
        record.exc_text = None
        record.levelno = logging.WARNING
        record.levelname = "WARNING"
        return True

"""The unsubscribe link: a signed token naming one consent, checked without signing in.

Signed with the app's SECRET_KEY (django.core.signing, HMAC-SHA256) under its own salt, so it
cannot be forged or turned into another kind of token. It does not expire: an unsubscribe
link in an old email must still work (RFC 8058 asks that it keep working). Rotating the
secret key breaks old links; the patient can still ask the clinic.
"""

from __future__ import annotations

from django.core import signing

SALT = "handrail.messaging.unsubscribe"


def unsubscribe_token(consent_id: int) -> str:
    return signing.dumps({"consent": consent_id}, salt=SALT, compress=False)


def consent_id_from_token(token: str) -> int | None:
    """The consent's id, or None for a token that was not made here or was altered."""
    if len(token) > 200:
        return None
    try:
        data = signing.loads(token, salt=SALT)
    except signing.BadSignature:
        return None
    if not isinstance(data, dict) or not isinstance(data.get("consent"), int):
        return None
    return int(data["consent"])

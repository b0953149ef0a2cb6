"""Password rules of our own, next to Django's validators in AUTH_PASSWORD_VALIDATORS.

NIST SP 800-63B section 5.1.1.2 ("Memorized Secret Verifiers") asks verifiers to refuse
passwords that contain context-specific words such as the username; Django's
UserAttributeSimilarityValidator only refuses passwords *similar as a whole* to the
username, so "paula-2026-spring" passes it for the user "paula". This one refuses those.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError

# A username shorter than this ("pt", "ot") is a fragment of too many ordinary words to
# refuse every password holding it; the similarity validator still compares them whole.
MIN_USERNAME_LENGTH = 3


class UsernameInPasswordValidator:
    """Refuse a password that contains the username (any case)."""

    def validate(self, password: str, user: Any = None) -> None:
        username = str(getattr(user, "username", "") or "").strip().casefold()
        if len(username) >= MIN_USERNAME_LENGTH and username in password.casefold():
            raise ValidationError(
                "The password contains the username; choose one without it.",
                code="password_contains_username",
            )

    def get_help_text(self) -> str:
        return "Your password can't contain your username."

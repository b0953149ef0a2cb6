"""Settings read the environment through helpers that fail loudly (no database needed)."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from handrail.web.env import env_bool, env_int, env_list, env_required_secret, env_secret


class EnvTests:
    def test_it_reads_booleans_and_refuses_anything_else(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setenv("HTTPS", "yes")
        assert env_bool("HTTPS", False) is True
        monkeypatch.setenv("HTTPS", "maybe")
        with pytest.raises(ImproperlyConfigured, match=r"HTTPS='maybe': write 1/true"):
            env_bool("HTTPS", False)

    def test_it_refuses_a_bad_number(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("LOGIN_FAILURE_LIMIT", "0")
        with pytest.raises(ImproperlyConfigured, match="must be 1 or more"):
            env_int("LOGIN_FAILURE_LIMIT", 5, minimum=1)
        monkeypatch.setenv("LOGIN_FAILURE_LIMIT", "five")
        with pytest.raises(ImproperlyConfigured, match="must be a whole number"):
            env_int("LOGIN_FAILURE_LIMIT", 5, minimum=1)

    def test_it_splits_lists(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("ALLOWED_HOSTS", "clinic.example, ,127.0.0.1")
        assert env_list("ALLOWED_HOSTS", []) == ["clinic.example", "127.0.0.1"]

    def test_it_reads_a_secret_from_a_file(
        self, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
    ) -> None:
        secret = tmp_path / "key"
        secret.write_text("s" * 50 + "\n", encoding="utf-8")
        monkeypatch.delenv("SECRET_KEY", raising=False)
        monkeypatch.setenv("SECRET_KEY_FILE", str(secret))
        assert env_secret("SECRET_KEY") == "s" * 50

    def test_it_refuses_both_a_secret_and_its_file(
        self, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
    ) -> None:
        monkeypatch.setenv("SECRET_KEY", "x" * 50)
        monkeypatch.setenv("SECRET_KEY_FILE", str(tmp_path / "key"))
        with pytest.raises(
            ImproperlyConfigured, match="set SECRET_KEY or SECRET_KEY_FILE, not both"
        ):
            env_secret("SECRET_KEY")

    def test_it_requires_a_long_enough_secret_key(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.delenv("SECRET_KEY_FILE", raising=False)
        monkeypatch.delenv("SECRET_KEY", raising=False)
        with pytest.raises(
            ImproperlyConfigured, match=r"SECRET_KEY \(or SECRET_KEY_FILE\) is not set"
        ):
            env_required_secret("SECRET_KEY", "hint")
        monkeypatch.setenv("SECRET_KEY", "short")
        with pytest.raises(ImproperlyConfigured, match="too short"):
            env_required_secret("SECRET_KEY", "hint")
        # 32 to 49 characters: refused too, as Django's deploy check would (security.W009).
        monkeypatch.setenv("SECRET_KEY", "k" * 49)
        with pytest.raises(
            ImproperlyConfigured,
            match=r"SECRET_KEY is too short \(49 characters\): use 50 or more random characters",
        ):
            env_required_secret("SECRET_KEY", "hint")
        monkeypatch.setenv("SECRET_KEY", "k" * 50)
        assert env_required_secret("SECRET_KEY", "hint") == "k" * 50

    def test_it_names_an_unreadable_secret_file(
        self, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
    ) -> None:
        monkeypatch.delenv("DATABASE_URL", raising=False)
        monkeypatch.setenv("DATABASE_URL_FILE", str(tmp_path / "missing"))
        with pytest.raises(ImproperlyConfigured, match="DATABASE_URL_FILE=.*cannot read it"):
            env_secret("DATABASE_URL")

"""Password hashing with argon2id (docs/security.md A1) and the checks on new passwords (A4)."""

from __future__ import annotations

import secrets
from functools import lru_cache
from pathlib import Path

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError

from app.core.i18n import gettext as _
from app.core.i18n import ngettext
from app.settings import Settings

MIN_LENGTH = 12
MAX_LENGTH = 1024
COMMON_PASSWORDS = Path(__file__).resolve().parent / "common-passwords.txt"


@lru_cache(maxsize=8)
def _hasher(time_cost: int, memory_kib: int) -> PasswordHasher:
    return PasswordHasher(time_cost=time_cost, memory_cost=memory_kib, parallelism=1, type=Type.ID)


def hasher(settings: Settings | None = None) -> PasswordHasher:
    """The argon2id hasher for the configured cost (OWASP minimum: 19 MiB, 2 iterations)."""
    settings = settings or Settings()
    return _hasher(settings.password_time_cost, settings.password_memory_kib)


def hash_password(password: str, settings: Settings | None = None) -> str:
    return hasher(settings).hash(password)


def verify_password(password_hash: str, password: str, settings: Settings | None = None) -> bool:
    """True when `password` matches; never raises on a malformed hash."""
    try:
        return hasher(settings).verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str, settings: Settings) -> bool:
    """True when the hash was made with other parameters than the configured ones."""
    try:
        return hasher(settings).check_needs_rehash(password_hash)
    except InvalidHashError:
        return True


@lru_cache(maxsize=1)
def _dummy_hash(time_cost: int, memory_kib: int) -> str:
    return _hasher(time_cost, memory_kib).hash(secrets.token_urlsafe(16))


def burn_verification_time(password: str, settings: Settings) -> None:
    """Verify against a throwaway hash so that an unknown account costs as long as a known one (A2)."""
    verify_password(
        _dummy_hash(settings.password_time_cost, settings.password_memory_kib), password, settings
    )


@lru_cache(maxsize=1)
def _common() -> frozenset[str]:
    lines = COMMON_PASSWORDS.read_text(encoding="utf-8").splitlines()
    return frozenset(line.strip().lower() for line in lines if line.strip() and not line.startswith("#"))


def password_problem(password: str, *, email: str = "") -> str | None:
    """Why a new password is refused, or None: length and common-password checks, no composition rules."""
    if len(password) < MIN_LENGTH:
        return ngettext(
            "Use at least %(num)s character; a few unrelated words make a strong password.",
            "Use at least %(num)s characters; a few unrelated words make a strong password.",
            MIN_LENGTH,
        )
    if len(password) > MAX_LENGTH:
        return ngettext("Use at most %(num)s character.", "Use at most %(num)s characters.", MAX_LENGTH)
    lowered = password.lower()
    if lowered in _common() or (email and lowered == email.lower()):
        return _("This password is among the most common ones; choose another.")
    return None


def generate_password() -> str:
    """A one-time password printed to an operator (about 120 bits)."""
    return secrets.token_urlsafe(15)

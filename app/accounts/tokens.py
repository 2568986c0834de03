"""Single-use tokens for emailed links (invitations, password resets): 256 random bits, stored only hashed."""

from __future__ import annotations

import hashlib
import secrets

TOKEN_BYTES = 32


def new_token() -> tuple[str, str]:
    """A fresh token for the link and the hash to store (the database never holds the token itself)."""
    token = secrets.token_urlsafe(TOKEN_BYTES)
    return token, hash_token(token)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def plausible(token: str) -> bool:
    """Cheap shape check before any lookup: the tokens made here are 43 URL-safe characters."""
    return 20 <= len(token) <= 128 and all(c.isalnum() or c in "-_" for c in token)

"""Random secrets for links and cookies; only their SHA-256 is ever stored."""

from __future__ import annotations

import hashlib
import secrets


def new_token(nbytes: int = 32) -> tuple[str, str]:
    """A fresh URL-safe secret and its hash (store the hash, hand out the secret)."""
    raw = secrets.token_urlsafe(nbytes)
    return raw, hash_token(raw)


def hash_token(raw: str) -> str:
    """The stored form of a secret token."""
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()

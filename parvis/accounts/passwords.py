"""Password hashing (argon2id) and strength checks (zxcvbn)."""

from __future__ import annotations

import re

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from zxcvbn import zxcvbn

from parvis.errors import InvalidInput

_hasher = PasswordHasher()
MIN_LENGTH = 10
MAX_LENGTH = 256


def use_parameters(time_cost: int, memory_kib: int) -> None:
    """Set the argon2 cost (settings call this at start-up; tests lower it to run fast)."""
    global _hasher
    _hasher = PasswordHasher(time_cost=time_cost, memory_cost=memory_kib)


def hash_password(password: str) -> str:
    """Hash a password for storage."""
    return _hasher.hash(password)


def verify_password(stored_hash: str, password: str) -> bool:
    """True when `password` matches; never raises on a wrong or malformed hash."""
    try:
        return _hasher.verify(stored_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(stored_hash: str) -> bool:
    """True when the hash was made with weaker parameters than today's."""
    return _hasher.check_needs_rehash(stored_hash)


def check_strength(password: str, min_score: int, user_inputs: list[str]) -> None:
    """Refuse short or guessable passwords with advice on how to choose a better one."""
    if len(password) < MIN_LENGTH:
        raise InvalidInput(
            f"Password too short: use at least {MIN_LENGTH} characters.", field="password"
        )
    if len(password) > MAX_LENGTH:
        raise InvalidInput(
            f"Password too long: use at most {MAX_LENGTH} characters.", field="password"
        )
    words = {part for value in user_inputs for part in re.split(r"[@._+\-\s]+", value.lower())}
    words.update(value.lower() for value in user_inputs)
    result = zxcvbn(password[:100], user_inputs=sorted(word for word in words if len(word) > 2))
    if result["score"] < min_score:
        advice = result["feedback"].get("warning") or "It is too easy to guess."
        suggestions = " ".join(result["feedback"].get("suggestions") or [])
        raise InvalidInput(
            f"Password too weak: {advice} {suggestions}".strip()
            + " Try a longer phrase of unrelated words.",
            field="password",
        )

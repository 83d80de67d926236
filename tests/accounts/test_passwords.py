"""Password hashing and strength rules."""

import pytest

from parvis.accounts import passwords
from parvis.errors import InvalidInput


def test_hash_verifies_only_the_right_password() -> None:
    stored = passwords.hash_password("a long and unusual phrase")
    assert stored.startswith("$argon2id$")
    assert passwords.verify_password(stored, "a long and unusual phrase")
    assert not passwords.verify_password(stored, "a long and unusual phrasE")
    assert not passwords.verify_password("not-a-hash", "anything")


def test_strength_check_refuses_guessable_and_personal_passwords() -> None:
    with pytest.raises(InvalidInput, match="short"):
        passwords.check_strength("abc", 3, [])
    with pytest.raises(InvalidInput, match="weak"):
        passwords.check_strength("qwertyuiop123", 3, [])
    with pytest.raises(InvalidInput, match="weak"):
        passwords.check_strength("mariannedupont", 3, ["marianne.dupont@example.org"])
    passwords.check_strength("violet tractor anthem 1987 quietly", 3, [])

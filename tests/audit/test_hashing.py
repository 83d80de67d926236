"""The log's short-input SHA-256 and HMAC-SHA256 are exactly `hashlib`'s and `hmac`'s."""

from __future__ import annotations

import hashlib
import hmac
import random

from parvis.audit import hashing


def test_sha256_is_hashlibs_on_every_length_around_the_block() -> None:
    rng = random.Random(6962)
    for length in range(200):
        data = rng.randbytes(length)
        assert hashing.sha256(data) == hashlib.sha256(data).digest()


def test_hmac_is_the_standard_librarys_for_every_key_length() -> None:
    rng = random.Random(2104)
    for key_length in (0, 1, 16, 63, 64, 65, 200):  # the log's salts are 16 bytes
        for message_length in (0, 10, 64, 300):
            key, message = rng.randbytes(key_length), rng.randbytes(message_length)
            assert hashing.hmac_sha256(key, message) == hmac.digest(key, message, "sha256")


def test_the_built_in_sha256_is_used_where_the_interpreter_has_it() -> None:
    assert hashing.small_sha256 is not hashlib.sha256  # CPython 3.11+ ships `_sha256`/`_sha2`

"""SHA-256 and HMAC-SHA256 for the short inputs the log hashes on every decision (its Merkle
nodes, its keyed commitments), cheap when the caches are cold.

OpenSSL 3 (behind `hashlib` and `hmac`) sets every new hash or MAC up through its provider
layer. On a short input that set-up is most of the cost, and a decision is rare among posts,
so it runs with the caches cold: measured here, ~12 µs for one SHA-256 of 65 bytes against
~5 µs for CPython's own C SHA-256 (the same function, the same output), and ~25 µs for
`hmac.digest` against ~10 µs for RFC 2104 spelt out over that SHA-256. The standard library's
pure-Python `hmac.HMAC` over the built-in hash costs as much as OpenSSL's, hence the few lines
below. Long inputs (a leaf's whole data) stay with OpenSSL, which is ~5 times faster on them.
`tests/audit/test_hashing.py` checks both against `hashlib` and `hmac` on random inputs.
"""

from __future__ import annotations

import hashlib
import hmac
import importlib
from collections.abc import Callable
from typing import Any

BLOCK_SIZE = 64  # SHA-256's block, in bytes
_INNER = int.from_bytes(b"\x36" * BLOCK_SIZE, "big")
_OUTER = int.from_bytes(b"\x5c" * BLOCK_SIZE, "big")


def _builtin_sha256() -> Callable[[bytes], Any]:
    """CPython's own SHA-256 constructor (`_sha2` from 3.12, `_sha256` in 3.11), or hashlib's
    where an interpreter has neither."""
    for module in ("_sha2", "_sha256"):
        try:
            constructor: Callable[[bytes], Any] = importlib.import_module(module).sha256
        except (ImportError, AttributeError):
            continue
        return constructor
    return hashlib.sha256


small_sha256 = _builtin_sha256()


def sha256(data: bytes) -> bytes:
    """SHA-256 of a short input (a Merkle node: 65 bytes)."""
    digest: bytes = small_sha256(data).digest()
    return digest


def hmac_sha256(key: bytes, message: bytes) -> bytes:
    """HMAC-SHA256 (RFC 2104) of a short message under a key of at most one block."""
    if len(key) > BLOCK_SIZE:  # RFC 2104 hashes such a key first; the log's salts are 16 bytes
        return hmac.digest(key, message, "sha256")
    padded = int.from_bytes(key.ljust(BLOCK_SIZE, b"\x00"), "big")
    inner = small_sha256((padded ^ _INNER).to_bytes(BLOCK_SIZE, "big") + message).digest()
    digest: bytes = small_sha256((padded ^ _OUTER).to_bytes(BLOCK_SIZE, "big") + inner).digest()
    return digest

"""Signed tree heads: what is signed, and their JSON form (shared by the server, `verify` and
the witness).

The signed bytes are a fixed prefix naming this format, then the tree size and timestamp
(milliseconds since the Unix epoch) as big-endian 64-bit integers, then the 32-byte root hash.
The prefix keeps a signature made for a tree head from being valid for anything else.
"""

from __future__ import annotations

import base64
import hashlib
import struct
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

HEAD_PREFIX = b"parvis tree head v1\n"


class HeadError(ValueError):
    """A tree head is malformed or its signature does not verify."""


def b64(data: bytes) -> str:
    """Standard base64 text (as Certificate Transparency's JSON API uses)."""
    return base64.b64encode(data).decode("ascii")


def unb64(text: object, what: str, size: int | None = None) -> bytes:
    """Decode base64 text, refusing anything malformed or of the wrong length."""
    if not isinstance(text, str):
        raise HeadError(f"{what} must be base64 text")
    try:
        data = base64.b64decode(text, validate=True)
    except ValueError as exc:
        raise HeadError(f"{what} is not valid base64") from exc
    if size is not None and len(data) != size:
        raise HeadError(f"{what} must be {size} bytes, not {len(data)}")
    return data


def key_id(public_key: bytes) -> str:
    """A key's fingerprint: SHA-256 of its 32 raw bytes, in hex."""
    return hashlib.sha256(public_key).hexdigest()


def head_message(tree_size: int, timestamp_ms: int, root_hash: bytes) -> bytes:
    """The bytes a tree head signature covers."""
    return HEAD_PREFIX + struct.pack(">QQ", tree_size, timestamp_ms) + root_hash


@dataclass(frozen=True)
class SignedHead:
    """A tree head and its Ed25519 signature."""

    tree_size: int
    root_hash: bytes
    timestamp_ms: int
    signature: bytes
    key_id: str

    def message(self) -> bytes:
        """The signed bytes."""
        return head_message(self.tree_size, self.timestamp_ms, self.root_hash)

    def verify(self, public_key: bytes) -> None:
        """Raise HeadError unless the signature is valid for this key."""
        if key_id(public_key) != self.key_id:
            raise HeadError(
                f"the head of size {self.tree_size} names key {self.key_id[:16]}…, "
                f"not the published key {key_id(public_key)[:16]}…"
            )
        try:
            Ed25519PublicKey.from_public_bytes(public_key).verify(self.signature, self.message())
        except InvalidSignature as exc:
            raise HeadError(
                f"the signature on the head of size {self.tree_size} is invalid"
            ) from exc

    def to_json(self) -> dict[str, Any]:
        """The published form (field names follow CT's get-sth where they mean the same)."""
        return {
            "tree_size": self.tree_size,
            "timestamp": self.timestamp_ms,
            "sha256_root_hash": b64(self.root_hash),
            "tree_head_signature": b64(self.signature),
            "key_id": self.key_id,
        }

    @classmethod
    def from_json(cls, data: object) -> SignedHead:
        """Parse the published form; raises HeadError on anything malformed."""
        if not isinstance(data, dict):
            raise HeadError("a tree head must be a JSON object")
        size, stamp, kid = data.get("tree_size"), data.get("timestamp"), data.get("key_id")
        if not isinstance(size, int) or size < 0 or isinstance(size, bool):
            raise HeadError("tree_size must be a whole number")
        if not isinstance(stamp, int) or stamp < 0 or isinstance(stamp, bool):
            raise HeadError("timestamp must be a whole number of milliseconds")
        if not isinstance(kid, str):
            raise HeadError("key_id must be text")
        return cls(
            tree_size=size,
            root_hash=unb64(data.get("sha256_root_hash"), "sha256_root_hash", 32),
            timestamp_ms=stamp,
            signature=unb64(data.get("tree_head_signature"), "tree_head_signature", 64),
            key_id=kid,
        )

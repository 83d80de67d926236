"""The instance's Ed25519 key for signing tree heads: given in settings, or generated on first
use and kept under the data directory (like the secret key)."""

from __future__ import annotations

import base64
import binascii
import os
from functools import lru_cache
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from parvis.audit.heads import key_id
from parvis.config import Settings


class SigningKeyError(ValueError):
    """The configured signing key cannot be read."""


def key_path(settings: Settings) -> Path:
    """Where the generated key lives (when none is given in settings)."""
    return (
        Path(settings.audit_key_file)
        if settings.audit_key_file
        else (settings.data_dir / "audit_signing_key.pem")
    )


def signing_key(settings: Settings) -> Ed25519PrivateKey:
    """The tree-head signing key for this instance."""
    given = settings.audit_signing_key.get_secret_value().strip()
    if given:
        return _parse(given)
    return _from_file(str(key_path(settings).resolve()))


def public_key_bytes(key: Ed25519PrivateKey) -> bytes:
    """The 32 raw bytes of the public key (what is published)."""
    return key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def fingerprint(key: Ed25519PrivateKey) -> str:
    """The key id that signed heads carry."""
    return key_id(public_key_bytes(key))


def _parse(text: str) -> Ed25519PrivateKey:
    if text.startswith("-----BEGIN"):
        try:
            key = serialization.load_pem_private_key(text.encode(), password=None)
        except ValueError as exc:
            raise SigningKeyError(
                f"the audit signing key is not a readable PEM key: {exc}"
            ) from exc
        if not isinstance(key, Ed25519PrivateKey):
            raise SigningKeyError("the audit signing key must be an Ed25519 key")
        return key
    try:
        seed = base64.b64decode(text, validate=True)
    except binascii.Error as exc:
        raise SigningKeyError("the audit signing key must be PEM or base64 of 32 bytes") from exc
    if len(seed) != 32:
        raise SigningKeyError("a base64 audit signing key must decode to 32 bytes")
    return Ed25519PrivateKey.from_private_bytes(seed)


@lru_cache(maxsize=8)
def _from_file(path: str) -> Ed25519PrivateKey:
    file = Path(path)
    if not file.exists():
        file.parent.mkdir(parents=True, exist_ok=True)
        pem = Ed25519PrivateKey.generate().private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        # Write aside, then link into place: a concurrent worker either wins the link or
        # reads a complete file, never a half-written one.
        temporary = file.with_name(f"{file.name}.{os.getpid()}.tmp")
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(pem)
            handle.flush()
            os.fsync(handle.fileno())
        try:
            os.link(temporary, file)
        except FileExistsError:
            pass  # another worker generated it first: use theirs
        finally:
            temporary.unlink()
    return _parse(file.read_text())

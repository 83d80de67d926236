"""The signing key: generated on first use under the data directory and kept, or given in
settings (PEM or base64 seed); bad keys are refused with a clear error."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from parvis.audit import keys
from parvis.audit.heads import HeadError, SignedHead, head_message, key_id
from parvis.config import Settings


def test_a_key_is_generated_once_under_the_data_directory(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)
    first = keys.public_key_bytes(keys.signing_key(settings))
    stored = tmp_path / "audit_signing_key.pem"
    assert stored.read_text().startswith("-----BEGIN PRIVATE KEY-----")
    assert stored.stat().st_mode & 0o777 == 0o600
    keys._from_file.cache_clear()  # a restarted process reads the same file
    assert keys.public_key_bytes(keys.signing_key(settings)) == first


def test_a_key_given_in_settings_is_used_and_signs_verifiable_heads(tmp_path: Path) -> None:
    seed = bytes(range(32))
    private = Ed25519PrivateKey.from_private_bytes(seed)
    pem = private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    expected = keys.public_key_bytes(private)
    for given in (base64.b64encode(seed).decode(), pem):
        settings = Settings(data_dir=tmp_path, audit_signing_key=given)
        key = keys.signing_key(settings)
        assert keys.public_key_bytes(key) == expected
        root, when = b"\x01" * 32, 1_700_000_000_000
        signature = key.sign(head_message(3, when, root))
        SignedHead(3, root, when, signature, key_id(expected)).verify(expected)
        forged = bytes([signature[0] ^ 1]) + signature[1:]
        with pytest.raises(HeadError):
            SignedHead(3, root, when, forged, key_id(expected)).verify(expected)
    assert not (tmp_path / "audit_signing_key.pem").exists()


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ("not base64!", "PEM or base64"),
        (base64.b64encode(b"short").decode(), "32 bytes"),
        ("-----BEGIN PRIVATE KEY-----\nnope\n-----END PRIVATE KEY-----", "readable PEM"),
    ],
)
def test_bad_keys_are_refused_clearly(tmp_path: Path, given: str, message: str) -> None:
    settings = Settings(data_dir=tmp_path, audit_signing_key=given)
    with pytest.raises(keys.SigningKeyError, match=message):
        keys.signing_key(settings)

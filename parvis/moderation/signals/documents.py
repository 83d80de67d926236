"""Documents: the text of a PDF and a near-duplicate fingerprint of it.

The fingerprint is a 64-bit SimHash over word 3-shingles, so a dossier re-saved, re-compressed
or renamed keeps (almost) the same fingerprint while its SHA-256 changes. It is written here
rather than taken from a library: `simhash` (PyPI) has been unmaintained since 2022 and hashes
every shingle through a slow per-bit loop, and datasketch's MinHash needs NumPy and 128 values
per document, where one 64-bit value in one column is all a list match needs.
"""

from __future__ import annotations

import hashlib
import io
import re
from dataclasses import dataclass

from pypdf import PdfReader
from pypdf.errors import PdfReadError

MAX_PAGES = 600
MAX_CHARS = 2_000_000
NEAR_DUPLICATE_BITS = 3
_WORD_RE = re.compile(r"\w+")
_LANE = 24  # bits per counter lane; enough for 16 million shingles
_LANE_MASK = (1 << _LANE) - 1
# _SPREAD[b] places the 8 bits of byte b into 8 lanes of _LANE bits, so that adding spread
# hashes counts, per bit position, how many shingles set it (all 64 counters in one big int).
_SPREAD = [sum(((byte >> bit) & 1) << (bit * _LANE) for bit in range(8)) for byte in range(256)]


@dataclass(frozen=True)
class DocumentText:
    """What was read from a document: its text (possibly truncated) and page count."""

    text: str
    pages: int
    truncated: bool


def extract_text(data: bytes) -> DocumentText:
    """The text of a PDF, page by page, bounded in pages and characters; empty when unreadable."""
    try:
        reader = PdfReader(io.BytesIO(data))
        total = len(reader.pages)
        parts: list[str] = []
        size = 0
        truncated = total > MAX_PAGES
        for page in reader.pages[:MAX_PAGES]:
            chunk = page.extract_text() or ""
            parts.append(chunk)
            size += len(chunk)
            if size >= MAX_CHARS:
                truncated = True
                break
    except (PdfReadError, ValueError, KeyError, OSError, TypeError):
        return DocumentText("", 0, False)
    return DocumentText("\n".join(parts)[:MAX_CHARS], total, truncated)


def fingerprint(text: str) -> str:
    """The 64-bit SimHash of `text` as 16 hex digits ("" when the text has no words)."""
    words = _WORD_RE.findall(text.casefold())
    if not words:
        return ""
    shingles = (
        {" ".join(words[i : i + 3]) for i in range(len(words) - 2)} if len(words) > 2 else {*words}
    )
    counters = 0
    for shingle in shingles:
        digest = hashlib.blake2b(shingle.encode(), digest_size=8).digest()
        for position, byte in enumerate(digest):
            counters += _SPREAD[byte] << (position * 8 * _LANE)
    half = len(shingles) / 2
    value = 0
    for bit in range(64):
        if (counters >> (bit * _LANE)) & _LANE_MASK > half:
            value |= 1 << bit
    return f"{value:016x}"


def distance(a: str, b: str) -> int:
    """How many of the 64 bits two fingerprints differ in (64 when either is missing)."""
    if not a or not b:
        return 64
    return (int(a, 16) ^ int(b, 16)).bit_count()


def near_duplicate(a: str, b: str, max_bits: int = NEAR_DUPLICATE_BITS) -> bool:
    """True when two fingerprints are close enough to be the same document."""
    return distance(a, b) <= max_bits

"""Flooding: an account posting faster than the rulebook allows, or the same text again and
again. Pure: the caller passes the account's recent posts (time and text)."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from parvis.moderation.signals.types import Signal

_SPACE_RE = re.compile(r"\s+")
DEFAULT_POSTS_PER_MINUTE = 20
DEFAULT_DUPLICATES_PER_HOUR = 5


@dataclass(frozen=True)
class FloodThresholds:
    """How much is too much: posts in any minute, identical posts within an hour."""

    posts_per_minute: int = DEFAULT_POSTS_PER_MINUTE
    duplicates_per_hour: int = DEFAULT_DUPLICATES_PER_HOUR


def text_key(text: str) -> str:
    """Identity of a post's text for duplicate counting: case and spacing ignored."""
    normal = _SPACE_RE.sub(" ", text.casefold()).strip()
    return hashlib.blake2b(normal.encode(), digest_size=12).hexdigest()


def detect(
    recent: Sequence[tuple[datetime, str]],
    now: datetime,
    text: str,
    thresholds: FloodThresholds = FloodThresholds(),
) -> list[Signal]:
    """Flood signals for a new post `text` at `now`, given the account's earlier posts in the
    last hour (time, text). Confidence is 1.0 when a threshold is reached, else no signal."""
    found: list[Signal] = []
    last_minute = sum(1 for at, _ in recent if now - at <= timedelta(minutes=1)) + 1
    if last_minute >= thresholds.posts_per_minute:
        found.append(
            Signal(
                "flood",
                0,
                0,
                1.0,
                {"reason": "rate", "posts_last_minute": last_minute},
            )
        )
    if text.strip():
        key = text_key(text)
        copies = (
            sum(
                1
                for at, earlier in recent
                if now - at <= timedelta(hours=1) and text_key(earlier) == key
            )
            + 1
        )
        if copies >= thresholds.duplicates_per_hour:
            found.append(
                Signal(
                    "flood",
                    0,
                    len(text),
                    1.0,
                    {"reason": "duplicates", "copies_last_hour": copies},
                )
            )
    return found

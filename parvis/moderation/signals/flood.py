"""Flooding: an account posting faster than the rulebook allows, or the same text again and
again. Pure: the caller passes counts of the account's recent posts (`RecentActivity`)."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from parvis.moderation.signals.types import Signal

_SPACE_RE = re.compile(r"\s+")
DEFAULT_POSTS_PER_MINUTE = 20
DEFAULT_DUPLICATES_PER_HOUR = 5


@dataclass(frozen=True)
class FloodThresholds:
    """How much is too much: posts in any minute, identical posts within an hour."""

    posts_per_minute: int = DEFAULT_POSTS_PER_MINUTE
    duplicates_per_hour: int = DEFAULT_DUPLICATES_PER_HOUR


def text_key(text: str) -> str | None:
    """Identity of a post's text for duplicate counting: case and spacing ignored; None for a
    text with nothing in it (a repost), which is nobody's duplicate. Stored with each post
    (`Post.text_key`)."""
    if not text.strip():
        return None
    normal = _SPACE_RE.sub(" ", text.casefold()).strip()
    return hashlib.blake2b(normal.encode(), digest_size=12).hexdigest()


@dataclass(frozen=True)
class RecentActivity:
    """What an account posted before the new post: how many posts in the last minute, and how
    many with the new post's text (same `text_key`) in the last hour."""

    posts_last_minute: int
    copies_last_hour: int


def detect(
    earlier: RecentActivity, text: str, thresholds: FloodThresholds = FloodThresholds()
) -> list[Signal]:
    """Flood signals for a new post `text`, given what the account posted before it (counted
    by the database from the posts' stored `text_key`, not by reading their texts back).
    Confidence is 1.0 when a threshold is reached, else no signal."""
    found: list[Signal] = []
    last_minute = earlier.posts_last_minute + 1
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
        copies = earlier.copies_last_hour + 1
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

"""Watched words: terms moderators put on the watched-words list, found as whole words
regardless of case. A match is a reason to look, never to act alone."""

from __future__ import annotations

import re
from collections.abc import Collection
from functools import lru_cache

from parvis.moderation.signals.types import Signal


@lru_cache(maxsize=8)
def _pattern(words: frozenset[str]) -> re.Pattern[str]:
    alternatives = "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))
    return re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)", re.IGNORECASE)


def detect(text: str, watched: Collection[str]) -> list[Signal]:
    """Every occurrence of a watched word or phrase in `text`."""
    if not watched:
        return []
    return [
        Signal("watched_words", m.start(), m.end(), 1.0, {"word": m.group().casefold()})
        for m in _pattern(frozenset(w.casefold() for w in watched)).finditer(text)
    ]

"""The inline detector set run on every post and edit, behind a cheap pre-filter: texts with
few digits skip the number-based detectors entirely (most posts have none)."""

from __future__ import annotations

from collections.abc import Collection

from parvis.moderation.signals import addresses, contact, identifiers, links, payments
from parvis.moderation.signals.types import Signal

MIN_DIGITS_FOR_NUMBERS = 7


def detect(
    text: str, listed_urls: Collection[str] = (), listed_domains: Collection[str] = ()
) -> list[Signal]:
    """All inline signals in `text`, ordered by position (deterministic for a given input)."""
    found: list[Signal] = []
    digits = sum(ch.isdigit() for ch in text)
    if "@" in text:
        found += contact.emails(text)
    if "://" in text:
        found += links.detect(text, listed_urls, listed_domains)
    if digits:
        found += addresses.detect(text)
    if digits >= MIN_DIGITS_FOR_NUMBERS:
        found += identifiers.detect(text)
        found += payments.cards(text)
        found += payments.ibans(text)
        found += contact.phones(text)
    return sorted(found, key=lambda s: (s.start, s.kind))

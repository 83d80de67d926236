"""Flooding: a burst of posts or the same text again and again raises a flood signal; normal
posting does not."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from parvis.moderation.signals.flood import FloodThresholds, detect

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
LIMITS = FloodThresholds(posts_per_minute=5, duplicates_per_hour=3)


def test_a_burst_within_a_minute_is_flooding() -> None:
    recent = [(NOW - timedelta(seconds=5 * i), f"post {i}") for i in range(4)]
    (signal,) = detect(recent, NOW, "one more", LIMITS)
    assert signal.kind == "flood"
    assert signal.evidence == {"reason": "rate", "posts_last_minute": 5}


def test_the_same_text_again_is_flooding_whatever_its_case_and_spacing() -> None:
    recent = [(NOW - timedelta(minutes=20), "Buy  NOW"), (NOW - timedelta(minutes=40), "buy now")]
    (signal,) = detect(recent, NOW, "BUY now", LIMITS)
    assert signal.evidence == {"reason": "duplicates", "copies_last_hour": 3}


def test_steady_varied_posting_and_old_copies_are_not_flooding() -> None:
    recent = [(NOW - timedelta(minutes=i), f"thought {i}") for i in range(1, 30)]
    recent += [(NOW - timedelta(hours=2), "same"), (NOW - timedelta(hours=3), "same")]
    assert detect(recent, NOW, "same", LIMITS) == []

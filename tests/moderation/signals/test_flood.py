"""Flooding: a burst of posts or the same text again and again raises a flood signal; normal
posting does not. The counts come from the database (`moderation.screening`); what counts as
the same text is `text_key`."""

from __future__ import annotations

from parvis.moderation.signals.flood import FloodThresholds, RecentActivity, detect, text_key

LIMITS = FloodThresholds(posts_per_minute=5, duplicates_per_hour=3)


def test_a_burst_within_a_minute_is_flooding() -> None:
    (signal,) = detect(RecentActivity(posts_last_minute=4, copies_last_hour=0), "one more", LIMITS)
    assert signal.kind == "flood"
    assert signal.evidence == {"reason": "rate", "posts_last_minute": 5}


def test_the_same_text_again_is_flooding() -> None:
    (signal,) = detect(RecentActivity(posts_last_minute=0, copies_last_hour=2), "BUY now", LIMITS)
    assert signal.evidence == {"reason": "duplicates", "copies_last_hour": 3}
    assert (signal.start, signal.end) == (0, len("BUY now"))


def test_below_both_thresholds_is_not_flooding() -> None:
    assert detect(RecentActivity(posts_last_minute=3, copies_last_hour=1), "same", LIMITS) == []


def test_a_blank_post_is_never_a_duplicate() -> None:
    assert detect(RecentActivity(posts_last_minute=0, copies_last_hour=9), "  ", LIMITS) == []
    assert text_key("  \n ") is None


def test_the_text_key_ignores_case_and_spacing_only() -> None:
    assert text_key("Buy  NOW\n") == text_key("buy now") == text_key(" BUY now")
    assert text_key("buy now!") != text_key("buy now")
    assert len(text_key("buy now") or "") == 24  # fits `Post.text_key`

"""Watched words are found as whole words or phrases, whatever their case."""

from __future__ import annotations

from parvis.moderation.signals.words import detect


def test_whole_words_and_phrases_match_in_any_case() -> None:
    text = "They called him a Vermin and said go back home."
    found = detect(text, ["vermin", "go back home"])
    assert [(s.kind, text[s.start : s.end]) for s in found] == [
        ("watched_words", "Vermin"),
        ("watched_words", "go back home"),
    ]


def test_parts_of_other_words_and_empty_lists_do_not_match() -> None:
    assert detect("verminous talk", ["vermin"]) == []
    assert detect("anything", []) == []

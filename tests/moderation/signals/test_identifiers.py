"""National identifiers (parvis.moderation.signals.identifiers): where a number may start."""

from __future__ import annotations

import pytest

from parvis.moderation.signals.identifiers import detect

VALID = {
    "us.ssn": "536-90-4399",
    "fr.nir": "2 95 10 99 126 111 93",
    "es.dni": "12345678Z",
    "it.codicefiscale": "RSSMRA85T10A562S",
}


@pytest.mark.parametrize("scheme", sorted(VALID))
def test_an_identifier_at_the_very_start_of_the_text_is_found(scheme: str) -> None:
    number = VALID[scheme]
    [found] = detect(f"{number} is mine")
    assert (found.start, found.end, found.evidence["scheme"]) == (0, len(number), scheme)


@pytest.mark.parametrize(
    ("scheme", "before"),
    [
        ("us.ssn", "7"),  # part of a longer number
        ("us.ssn", "-"),  # part of a longer reference
        ("fr.nir", "4"),
        ("es.dni", "A"),
        ("it.codicefiscale", "X"),
    ],
)
def test_an_identifier_glued_to_what_precedes_it_is_not_one(scheme: str, before: str) -> None:
    assert detect(f"ref {before}{VALID[scheme]} is mine") == []


def test_the_belgian_and_dutch_numbers_count_only_next_to_their_name() -> None:
    assert [s.evidence["scheme"] for s in detect("BSN 111222333")] == ["nl.bsn"]
    assert detect("invoice 111222333") == []

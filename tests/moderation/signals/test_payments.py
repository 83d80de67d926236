"""Payment cards are found by issuer prefix, length and Luhn check digit, never inside a longer
token; IBANs by their checksum."""

from __future__ import annotations

import pytest

from parvis.moderation.signals.payments import cards, ibans


@pytest.mark.parametrize(
    "number",
    [
        "4111 1111 1111 1111",  # Visa, 16 digits
        "4222222222222",  # Visa, 13
        "5500-0000-0000-0004",  # Mastercard
        "3782 822463 10005",  # American Express, 15
        "6011 1111 1111 1117",  # Discover
    ],
)
def test_a_card_number_of_a_known_issuer_is_found_with_its_span(number: str) -> None:
    text = f"pay with {number}, thanks"
    (found,) = cards(text)
    assert text[found.start : found.end] == number
    assert found.evidence == {"last4": number[-4:]}  # never the whole number


@pytest.mark.parametrize(
    "text",
    [
        "IBAN GB08RNUL53932931532592",  # a Luhn-valid run inside an IBAN
        "ref X4111111111111111",  # inside a product code
        "44507963710779",  # Luhn-valid, but no Visa has 14 digits
        "4111 1111 1111 1112",  # wrong check digit
    ],
)
def test_numbers_no_issuer_would_print_are_not_cards(text: str) -> None:
    assert cards(text) == []


def test_an_iban_is_found_by_its_checksum_and_its_digits_are_not_a_card() -> None:
    text = "IBAN GB08RNUL53932931532592 please"
    assert [s.evidence["country"] for s in ibans(text)] == ["GB"]
    assert cards(text) == []

"""Street addresses (parvis.moderation.signals.addresses)."""

from __future__ import annotations

import pytest
import usaddress

from parvis.moderation.signals import addresses


def _found(text: str) -> list[tuple[str, str]]:
    return [(text[s.start : s.end], s.evidence["form"]) for s in addresses.detect(text)]


@pytest.mark.parametrize(
    ("text", "address"),
    [
        ("Elle habite 12 av. Foch.", "12 av. Foch"),
        ("au 3 bis, rue de la Paix", "3 bis, rue de la Paix"),
        ("wohnt in der Hauptstraße 5.", "Hauptstraße 5"),
        ("WOHNT IN DER HAUPTSTRASSE 5", "HAUPTSTRASSE 5"),
        ("Treffpunkt Lindenstr. 12a", "Lindenstr. 12a"),
    ],
)
def test_european_forms_are_found_whatever_their_case(text: str, address: str) -> None:
    assert _found(text) == [(address, "eu")]


def test_plain_us_addresses_are_found_without_asking_the_parser(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def never(_candidate: str) -> None:
        raise AssertionError("usaddress asked about a plain address")

    monkeypatch.setattr(usaddress, "tag", never)
    assert _found("She lives at 1600 Pennsylvania Avenue now") == [
        ("1600 Pennsylvania Avenue", "us")
    ]
    assert _found("at 2 W Main St. Apt 4") == [("2 W Main St. Apt 4", "us")]


@pytest.mark.parametrize(
    "text",
    [
        "Sold 10787 Indicate Way Gonzalez Blvd stickers",  # two street kinds: a label repeated
        "I had 75360 And Available Street cred",  # a conjunction: "Ambiguous"
    ],
)
def test_unusual_us_candidates_are_kept_only_when_the_parser_confirms_them(text: str) -> None:
    assert _found(text) == []


def test_unusual_us_addresses_the_parser_confirms_are_found() -> None:
    assert _found("He lives at 1600 Martin Luther King Jr Blvd") == [
        ("1600 Martin Luther King Jr Blvd", "us")
    ]


@pytest.mark.parametrize("street", ["Köster Avenue", "Águila Street", "Étienne Avenue"])
def test_us_form_street_names_may_be_written_beyond_ascii(street: str) -> None:
    assert _found(f"lives at 3563 {street}") == [(f"3563 {street}", "us")]


def test_numbers_without_a_street_are_not_addresses() -> None:
    assert _found("Order 1234 ships in 5 days, 3 boxes of 12") == []


@pytest.mark.parametrize(
    "address",
    [
        "Via Giuseppe Verdi, 12",
        "Piazza della Repubblica 1",
        "Calle de Alcalá 42",
        "Rua Augusta, 8",
        "Kerkstraat 14",
        "Lolahof 7",
    ],
)
def test_streets_named_first_with_the_number_last_are_found(address: str) -> None:
    assert _found(f"abita in {address}.") == [(address, "eu")]


@pytest.mark.parametrize(
    "text",
    [
        "I heard it via Twitter, 24 people agreed",
        "we came via 3 towns",
        "Vía 2 es mala",
        "Treffen am Bahnhof 3 Uhr",  # a station and a time, not a Dutch court
    ],
)
def test_look_alikes_of_streets_named_first_or_dutch_are_not_addresses(text: str) -> None:
    assert _found(text) == []


@pytest.mark.parametrize(
    ("text", "address"),
    [
        ("lives at 1600 Pennsylvania Ave NW, Washington", "1600 Pennsylvania Ave NW"),
        ("meet at 221 W 42nd St tonight", "221 W 42nd St"),
        ("at 1 E 161st St Apt 4", "1 E 161st St Apt 4"),
    ],
)
def test_us_numbered_streets_and_trailing_directionals_are_found(text: str, address: str) -> None:
    assert _found(text) == [(address, "us")]


@pytest.mark.parametrize(
    "text",
    [
        "Via Twitter 3 people wrote to me",
        "Plaza Hotel 5 times a week",
        "Via Facebook 2 days ago",
    ],
)
def test_a_count_after_a_capitalised_via_or_plaza_is_not_an_address(text: str) -> None:
    assert addresses.detect(text) == []


@pytest.mark.parametrize(
    ("text", "address"),
    [
        ("abita in Via Roma 12 e poi", "Via Roma 12"),
        ("I live at Via Roma 12 of course", "Via Roma 12"),
        ("Calle de Alcalá 42, Madrid", "Calle de Alcalá 42"),
    ],
)
def test_a_street_named_first_is_still_found_before_other_words(text: str, address: str) -> None:
    found = [text[s.start : s.end] for s in addresses.detect(text)]
    assert found == [address]

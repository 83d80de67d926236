"""Inline detectors: valid identifiers and contact data are found with exact spans; hard
negatives (dates, order numbers, bad checksums, prices) are not."""

from __future__ import annotations

import pytest

from parvis.moderation.signals import inline, links
from parvis.moderation.signals.identifiers import detect as national_ids


@pytest.mark.parametrize(
    ("text", "scheme"),
    [
        ("my ssn is 536-90-4399 ok", "us.ssn"),
        ("NIR 2 95 10 99 126 111 93", "fr.nir"),
        ("DNI 12345678Z", "es.dni"),
        ("CF RSSMRA85T10A562S", "it.codicefiscale"),
    ],
)
def test_valid_national_identifiers_are_found_with_their_span(text: str, scheme: str) -> None:
    found = national_ids(text)
    assert [s.evidence["scheme"] for s in found] == [scheme]
    signal = found[0]
    assert text[signal.start : signal.end].replace(" ", "").endswith(signal.evidence["masked"][-4:])
    assert "*" in signal.evidence["masked"]  # evidence never holds the full number


@pytest.mark.parametrize(
    "text",
    [
        "meeting on 2024-11-03 at 10:30",
        "order #123-45-67890 shipped",
        "ssn 000-12-3456 is not valid",
        "NIR 2 95 10 99 126 111 94",  # wrong key
        "DNI 12345678A",  # wrong letter
        "price 1 299,00 EUR, ref 4111 1111 1111 1112",
        "call 555-0100",
    ],
)
def test_hard_negatives_are_not_flagged(text: str) -> None:
    kinds = {s.kind for s in inline.detect(text)}
    assert not kinds & {"national_id", "payment_card", "iban"}, kinds


def test_contact_payment_and_address_signals() -> None:
    text = (
        "Write to ana@example.org or call +33 6 12 34 56 78. Card 4111 1111 1111 1111, "
        "IBAN FR14 2004 1010 0505 0001 3M02 606. Home: 1600 Pennsylvania Avenue, and "
        "12 rue de la Paix."
    )
    found = inline.detect(text)
    kinds = [s.kind for s in found]
    assert kinds.count("street_address") == 2
    for kind in ("email", "phone", "payment_card", "iban"):
        assert kind in kinds
    card = next(s for s in found if s.kind == "payment_card")
    assert text[card.start : card.end] == "4111 1111 1111 1111"
    assert inline.detect(text) == found  # deterministic


def test_links_are_normalised_and_matched_against_lists() -> None:
    text = "see https://WWW.Leaks.co.uk/dossier.pdf?utm_source=x and https://ok.example/a"
    found = links.detect(
        text, listed_urls={"https://www.leaks.co.uk/dossier.pdf"}, listed_domains={"ok.example"}
    )
    kinds = [(s.kind, s.evidence.get("url") or s.evidence.get("domain")) for s in found]
    assert ("listed_url", "https://www.leaks.co.uk/dossier.pdf") in kinds
    assert ("listed_domain", "ok.example") in kinds
    assert ("url", "https://www.leaks.co.uk/dossier.pdf") in kinds


def test_ambiguous_schemes_need_their_name_nearby() -> None:
    assert national_ids("Order #582718879 ships today") == []
    found = national_ids("mijn BSN is 582718879")
    assert [s.evidence["scheme"] for s in found] == ["nl.bsn"]

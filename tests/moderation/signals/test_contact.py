"""Phone numbers and e-mail addresses (parvis.moderation.signals.contact)."""

from __future__ import annotations

from typing import Any

import phonenumbers
import pytest

from parvis.moderation.signals import contact


def _phones(text: str) -> list[tuple[str, str]]:
    return [(text[s.start : s.end], s.evidence["region"]) for s in contact.phones(text)]


@pytest.mark.parametrize(
    ("text", "number", "region"),
    [
        ("call (415) 555-2671 now", "(415) 555-2671", "US"),
        ("Numbers: 1 (833) 278-3478", "1 (833) 278-3478", "US"),
        ("appelle le 01 42 68 53 00", "01 42 68 53 00", "FR"),
        ("ruf an: 030 901820", "030 901820", "DE"),
        ("ring 020 7946 0958", "020 7946 0958", "GB"),
        ("Bitte 0049 30 901820 anrufen", "0049 30 901820", "DE"),
        ("call 001-717-542-1295 today", "001-717-542-1295", "US"),
        ("Servus: +43 650032547431", "+43 650032547431", "AT"),
    ],
)
def test_numbers_written_nationally_or_internationally_are_found(
    text: str, number: str, region: str
) -> None:
    assert _phones(text) == [(number, region)]


@pytest.mark.parametrize(
    "text",
    [
        "Order #164464488 ships soon",  # was read as a German number without its trunk 0
        "It costs 340,52 EUR, ref 4906953980453540.",  # was read as +49 0695…
        "Tracking 1643771531272 arrives Monday",
    ],
)
def test_order_and_card_references_are_not_phone_numbers(text: str) -> None:
    assert _phones(text) == []


def test_a_national_number_written_after_an_international_one_is_found() -> None:
    found = _phones("Chiama +39 3772968237 0931653060")
    assert ("0931653060", "FR") in found


def test_a_long_reference_does_not_hide_the_number_next_to_it() -> None:
    assert _phones("Order 875803936789889389 +34 843 598 062 today") == [("+34 843 598 062", "ES")]


def test_only_numbers_with_a_trunk_zero_are_read_in_every_region(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    regions: list[str] = []
    matcher = phonenumbers.PhoneNumberMatcher

    def counting(text: str, region: str, **kwargs: Any) -> phonenumbers.PhoneNumberMatcher:
        regions.append(region)
        return matcher(text, region, **kwargs)

    monkeypatch.setattr(phonenumbers, "PhoneNumberMatcher", counting)
    contact.phones("call (415) 555-2671 or +44 20 7946 1234")
    assert regions == ["US"]
    regions.clear()
    contact.phones("appelle le 01 42 68 53 00")
    assert regions == list(contact.REGIONS)
    regions.clear()
    # No area or country code starts with 0, so 000 is no trunk prefix; and nine digits are
    # too few for the first region: no pass at all.
    assert contact.phones("Tracking 000-54-1420 is not an SSN") == []
    assert regions == []


def test_spans_claimed_by_other_detectors_and_dates_are_not_phone_numbers() -> None:
    text = "SSN 536-90-4399, born 1984-03-12, call 01 42 68 53 00"
    ssn = (text.index("536"), text.index("536") + len("536-90-4399"))
    assert [text[s.start : s.end] for s in contact.phones(text, [ssn])] == ["01 42 68 53 00"]


def test_emails_carry_their_domain_in_lower_case() -> None:
    [found] = contact.emails("write to Jane.Doe@Example.ORG today")
    assert found.evidence == {"domain": "example.org"}

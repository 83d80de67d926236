"""Payment cards (Luhn and issuer prefixes) and IBANs (ISO 13616 checksum)."""

from __future__ import annotations

import re

from stdnum import iban, luhn

from parvis.moderation.signals.types import Signal

# Not inside a longer token: digits after a letter are part of an IBAN, a reference or a
# product code (three IBANs in 20,000 generated posts held a Luhn-valid run read as a card).
CARD_RE = re.compile(r"(?<![\w-])(?:\d[ -]?){12,18}\d(?![\d-])")
# Issuer prefixes and the lengths their cards have: Visa, Mastercard, American Express, then
# Discover and JCB.
CARD_ISSUERS = (
    (re.compile(r"4"), frozenset({13, 16, 19})),
    (re.compile(r"5[1-5]|2[2-7]"), frozenset({16})),
    (re.compile(r"3[47]"), frozenset({15})),
    (re.compile(r"6011|65|35"), frozenset({16, 17, 18, 19})),
)


def _issued_length(digits: str) -> bool:
    """Whether a known issuer's cards start this way and have this many digits."""
    return any(prefix.match(digits) and len(digits) in lengths for prefix, lengths in CARD_ISSUERS)


IBAN_RE = re.compile(r"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]){11,30}\b")


def cards(text: str) -> list[Signal]:
    """Card numbers: a known issuer's prefix and length, and a valid Luhn check digit."""
    found = []
    for match in CARD_RE.finditer(text):
        digits = re.sub(r"\D", "", match.group())
        if _issued_length(digits) and luhn.is_valid(digits):
            found.append(
                Signal("payment_card", match.start(), match.end(), 0.9, {"last4": digits[-4:]})
            )
    return found


def ibans(text: str) -> list[Signal]:
    """IBANs with a valid checksum."""
    return [
        Signal("iban", m.start(), m.end(), 0.95, {"country": m.group()[:2]})
        for m in IBAN_RE.finditer(text)
        if iban.is_valid(m.group())
    ]

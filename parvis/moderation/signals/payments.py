"""Payment cards (Luhn and issuer prefixes) and IBANs (ISO 13616 checksum)."""

from __future__ import annotations

import re

from stdnum import iban, luhn

from parvis.moderation.signals.types import Signal

CARD_RE = re.compile(r"(?<![\d-])(?:\d[ -]?){12,18}\d(?![\d-])")
CARD_PREFIX = re.compile(r"^(?:4|5[1-5]|2[2-7]|3[47]|6011|65|35)")
IBAN_RE = re.compile(r"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]){11,30}\b")


def cards(text: str) -> list[Signal]:
    """Card numbers: 13-19 digits, a known issuer prefix and a valid Luhn check digit."""
    found = []
    for match in CARD_RE.finditer(text):
        digits = re.sub(r"\D", "", match.group())
        if 13 <= len(digits) <= 19 and CARD_PREFIX.match(digits) and luhn.is_valid(digits):
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

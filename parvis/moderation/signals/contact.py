"""E-mail addresses and phone numbers."""

from __future__ import annotations

import re

import phonenumbers

from parvis.moderation.signals.types import Signal

EMAIL_RE = re.compile(
    r"(?<![\w.+-])[\w.+-]{1,64}@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,24}(?![\w-])"
)
REGIONS = ("US", "FR", "DE", "GB")
# Seven digits or more in one run, with the separators phone numbers are written with: without
# one, libphonenumber (a pass over the text per region, most of the detectors' time) finds
# nothing, so it is not asked.
PHONE_LIKE = re.compile(r"\d(?:[\s().\-/]{0,3}\d){6,}")


def emails(text: str) -> list[Signal]:
    """E-mail addresses."""
    return [
        Signal("email", m.start(), m.end(), 0.95, {"domain": m.group().rsplit("@", 1)[1].lower()})
        for m in EMAIL_RE.finditer(text)
    ]


def phones(text: str) -> list[Signal]:
    """Valid phone numbers (libphonenumber), trying international form and a few regions."""
    found: dict[tuple[int, int], Signal] = {}
    if PHONE_LIKE.search(text) is None:
        return []
    for region in REGIONS:
        for match in phonenumbers.PhoneNumberMatcher(
            text, region, leniency=phonenumbers.Leniency.VALID
        ):
            key = (match.start, match.end)
            if key in found:
                continue
            number = phonenumbers.format_number(match.number, phonenumbers.PhoneNumberFormat.E164)
            found[key] = Signal(
                "phone",
                match.start,
                match.end,
                0.85,
                {
                    "region": phonenumbers.region_code_for_number(match.number),
                    "masked": "*" * (len(number) - 4) + number[-4:],
                },
            )
    return sorted(found.values(), key=lambda s: s.start)

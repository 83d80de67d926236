"""E-mail addresses and phone numbers."""

from __future__ import annotations

import re
from collections.abc import Sequence

import phonenumbers

from parvis.moderation.signals.types import Signal

EMAIL_RE = re.compile(
    r"(?<![\w.+-])[\w.+-]{1,64}@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,24}(?![\w-])"
)
REGIONS = ("US", "FR", "DE", "GB")
# Seven digits or more in one run, with the separators phone numbers are written with: without
# one, libphonenumber (a pass over the text per region, most of the detectors' time) finds
# nothing, so it is not asked. A run written in international form (after a "+") reads the same
# in every region, so when every run is, one pass is enough.
PHONE_LIKE = re.compile(r"(\+\s?)?\(?\d(?:[\s().\-/]{0,3}\d){6,}")


def emails(text: str) -> list[Signal]:
    """E-mail addresses."""
    return [
        Signal("email", m.start(), m.end(), 0.95, {"domain": m.group().rsplit("@", 1)[1].lower()})
        for m in EMAIL_RE.finditer(text)
    ]


# Calendar dates (2026-07-15, 15/07/2026) are never phone numbers.
DATE_RE = re.compile(r"\b(?:\d{4}-\d{2}-\d{2}|\d{1,2}[./]\d{1,2}[./]\d{4})\b")


def _masked(text: str, spans: Sequence[tuple[int, int]]) -> str:
    """The text with these spans and every date blanked out (same length: offsets hold)."""
    spans = [*spans, *((m.start(), m.end()) for m in DATE_RE.finditer(text))]
    if not spans:
        return text
    chars = list(text)
    for start, end in spans:
        chars[start:end] = "x" * (end - start)
    return "".join(chars)


def phones(text: str, taken: Sequence[tuple[int, int]] = ()) -> list[Signal]:
    """Valid phone numbers (libphonenumber), trying international form and a few regions.
    `taken` are spans other detectors already claimed (an identifier, a card, an IBAN): they
    are not read again as phone numbers."""
    found: dict[tuple[int, int], Signal] = {}
    text = _masked(text, taken)
    runs = list(PHONE_LIKE.finditer(text))
    if not runs:
        return []
    international_only = all(run.group(1) for run in runs)
    for region in REGIONS[:1] if international_only else REGIONS:
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

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
# in every region, so the first region's pass finds it.
PHONE_LIKE = re.compile(r"(\+\s?)?\(?\d(?:[\s().\-/]{0,3}\d){6,}")
# In France, Germany and Britain a number written in national form starts with the trunk
# prefix 0 (one dialled abroad, with the international prefix 00), which libphonenumber requires
# there: those regions' passes are needed only when a group of digits starts with 0, and not
# with 000 (no area code or country code starts with 0). (A number written in international
# form without its "+" or "00" is therefore not recognised; before, only a French, German or
# British one was, and only when three more passes ran.)
GROUP_STARTING_WITH_0 = re.compile(r"(?<!\d)0(?!00)")
# The longest number in the first region (US) is eleven digits (1 and ten): a longer unbroken
# run of digits that starts with neither 0 nor "+" is an order or card reference, never a
# number anyone dials. It is blanked so that no pass spends time parsing it, and so that it no
# longer hides a phone number written next to it.
UNDIALLABLE_DIGITS = 12
# ... and the shortest is ten: when only the first region's pass would run, a run written
# nationally with fewer digits (an order number, a price) holds no number it could accept.
SHORTEST_IN_FIRST_REGION = 10


def emails(text: str) -> list[Signal]:
    """E-mail addresses."""
    return [
        Signal("email", m.start(), m.end(), 0.95, {"domain": m.group().rsplit("@", 1)[1].lower()})
        for m in EMAIL_RE.finditer(text)
    ]


# Calendar dates (2026-07-15, 15/07/2026) are never phone numbers.
DATE_RE = re.compile(r"\b(?:\d{4}-\d{2}-\d{2}|\d{1,2}[./]\d{1,2}[./]\d{4})\b")


def _blanked(text: str, spans: Sequence[tuple[int, int]]) -> str:
    """The text with these spans blanked out (same length: offsets hold)."""
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
    text = _blanked(text, [*taken, *((m.start(), m.end()) for m in DATE_RE.finditer(text))])
    runs = list(PHONE_LIKE.finditer(text))
    undiallable = [
        (run.start(), run.end())
        for run in runs
        if run.group().isdigit()
        and len(run.group()) >= UNDIALLABLE_DIGITS
        and run.group()[0] != "0"
    ]
    if undiallable:
        text = _blanked(text, undiallable)
        runs = [run for run in runs if (run.start(), run.end()) not in undiallable]
    if not runs:
        return []
    # Runs may join several numbers, one in international form and one not: all are looked at.
    trunk = any(GROUP_STARTING_WITH_0.search(run.group()) for run in runs)
    if not trunk and not any(
        run.group(1) or sum(c.isdigit() for c in run.group()) >= SHORTEST_IN_FIRST_REGION
        for run in runs
    ):
        return []
    for region in REGIONS if trunk else REGIONS[:1]:
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

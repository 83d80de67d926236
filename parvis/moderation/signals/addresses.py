"""Street addresses: US forms confirmed with usaddress, common European forms by pattern."""

from __future__ import annotations

import re

import usaddress

from parvis.moderation.signals.types import Signal

# Street names are capitalised words, in any Latin script: Köster, Águila, Étienne (ASCII
# letters only missed a tenth of the benchmark's addresses, all of them with such names).
US_CANDIDATE = re.compile(
    r"\b\d{1,6}\s+(?:[NSEW]\.?\s+)?(?:[A-ZÀ-ÖØ-ÞĀ-Ž][\w.'’-]*\s+){1,4}"
    r"(?:St|Street|Ave|Avenue|Rd|Road|Blvd|Boulevard|Ln|Lane|Dr|Drive|Way|Ct|Court|Pl|Place|"
    r"Ter|Terrace|Pkwy|Parkway|Hwy|Highway)\b\.?"
    r"(?:\s+(?:Apt|Suite|Unit|#)\s*\w+)?"
)
ROMANCE_STREETS = (
    r"rue|avenue|av\.|boulevard|bd|place|chemin|allée|impasse|quai|route|cours|calle|via|"
    r"viale|piazza|plaza|avenida|straat|laan|weg"
)
GERMAN_SUFFIXES = r"straße|strasse|str\.|weg|platz|gasse|allee|ring|damm"
EU_CANDIDATE = re.compile(
    rf"\b\d{{1,4}}(?:\s?(?:bis|ter|[a-d]))?,?\s+(?:{ROMANCE_STREETS})"
    r"(?:\s+(?:de|du|des|la|le|del|di|[^\W\d_][\w'’-]*)){1,5}"
    rf"|\b[A-ZÄÖÜ][\wäöüß-]*(?:{GERMAN_SUFFIXES})\s+\d{{1,4}}[a-z]?\b",
    re.IGNORECASE,
)
# What every EU_CANDIDATE match holds, looked for in the case-folded text (ß folds to ss): a
# number before a street word, or a German street suffix before a number. The candidate
# pattern itself, case-insensitive and backtracking over the word before a suffix, cost ~25 µs
# on every text with a digit; this ~5 µs, and most texts have neither.
EU_HINT = re.compile(
    rf"\d(?:\s?(?:bis|ter|[a-d]))?,?\s+(?:{ROMANCE_STREETS})"
    rf"|(?:{GERMAN_SUFFIXES.replace('ß', 'ss')})\s+\d"
)


def detect(text: str) -> list[Signal]:
    """Street addresses with their spans."""
    found: list[Signal] = []
    for match in US_CANDIDATE.finditer(text):
        try:
            _tags, label = usaddress.tag(match.group())
        except usaddress.RepeatedLabelError:
            continue
        if label == "Street Address":
            found.append(Signal("street_address", match.start(), match.end(), 0.85, {"form": "us"}))
    if not EU_HINT.search(text.casefold()):
        return found
    for match in EU_CANDIDATE.finditer(text):
        if not any(s.start <= match.start() < s.end for s in found):
            found.append(Signal("street_address", match.start(), match.end(), 0.8, {"form": "eu"}))
    return sorted(found, key=lambda s: s.start)

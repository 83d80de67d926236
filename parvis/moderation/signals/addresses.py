"""Street addresses: US forms by pattern, the unusual ones confirmed with usaddress; common
European forms by pattern."""

from __future__ import annotations

import re

import usaddress

from parvis.moderation.signals.types import Signal

STREET_KINDS = (
    *("St", "Street", "Ave", "Avenue", "Rd", "Road", "Blvd", "Boulevard", "Ln", "Lane", "Dr"),
    *("Drive", "Way", "Ct", "Court", "Pl", "Place", "Ter", "Terrace", "Pkwy", "Parkway", "Hwy"),
    "Highway",
)
# Street names are capitalised words, in any Latin script: Köster, Águila, Étienne (ASCII
# letters only missed a tenth of the benchmark's addresses, all of them with such names), or
# numbered (221 W 42nd St); a directional may follow the street's kind (Ave NW).
US_CANDIDATE = re.compile(
    r"\b\d{1,6}\s+(?:[NSEW]\.?\s+)?(?:(?:[A-ZÀ-ÖØ-ÞĀ-Ž][\w.'’-]*|\d{1,3}(?:st|nd|rd|th))\s+){1,4}"
    rf"(?:{'|'.join(STREET_KINDS)})\b\.?"
    r"(?:\s+(?:NE|NW|SE|SW|N|S|E|W)\b\.?)?"
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
# Italian, Spanish, Portuguese and Catalan addresses name the kind of street first and put
# the number last (Via Giuseppe Verdi, 12; Calle de Alcalá 42; Rua de Pinho, 8), Dutch ones
# end the street's one word with its kind (Kerkstraat 14, Lolahof 7). Case-sensitive: the
# street's kind and name are capitalised, which keeps "via 3 friends" out.
STREETS_NAMED_FIRST = (
    *("Via", "Viale", "Piazza", "Piazzale", "Piazzetta", "Corso", "Largo", "Vicolo", "Contrada"),
    *("Strada", "Stretto", "Borgo", "Rotonda", "Canale", "Lungomare", "Località", "Traversa"),
    *("Calle", "Callejón", "Avenida", "Av.", "Av", "Paseo", "Plaza", "Pasaje", "Pasadizo"),
    *("Ronda", "Camino", "Cañada", "Travesía", "Urbanización", "Vía", "Carrer", "Avinguda"),
    *("Rua", "R.", "Travessa", "Praça", "Alameda", "Rambla", "Carretera", "Cuesta", "Glorieta"),
)
DUTCH_SUFFIXES = (
    r"straat|laan|weg|plein|gracht|kade|singel|dijk|hof|dreef|steeg|baan|boulevard|pad|lei"
)
_CAPITALISED = r"[A-ZÀ-ÖØ-ÞĀ-Ž][\w'’.-]*"
# Not a count of something, in English: "Via Twitter 3 people wrote", "Plaza Hotel 5 times".
_COUNTED = (
    r"people|persons|times|days|weeks|months|years|hours|minutes|friends|followers|likes|"
    r"posts|comments"
)
NUMBER_LAST = re.compile(
    rf"\b(?:{'|'.join(map(re.escape, STREETS_NAMED_FIRST))})\s+"
    rf"(?:(?:de|del|della|delle|dei|degli|di|da|do|dos|das|la|las|los|el|y|e|i)\s+|"
    rf"{_CAPITALISED}\s+){{0,4}}{_CAPITALISED},?\s+\d{{1,4}}[a-zA-Z]?\b(?!\s+(?:{_COUNTED})\b)"
    # Not a time or a price: "am Bahnhof 3 Uhr" is a German station, not a Dutch court.
    rf"|\b{_CAPITALISED}(?:{DUTCH_SUFFIXES})\s+\d{{1,4}}[a-z]?\b(?!\s*(?:Uhr|uur|Euro|EUR|€|%))"
)

# What the candidate patterns' matches hold, looked for cheaply first: the patterns
# themselves, case-insensitive and backtracking over the word before a suffix, cost ~25 µs on
# every text with a digit, these few µs, and most texts have none of it. The first two look in
# the case-folded text (ß folds to ss): a number before a Romance street word (EU_CANDIDATE), a
# German or Dutch street suffix before a number (either pattern). (One regex of all the
# alternatives, or a word-bounded one of the streets named first, cost more than these
# together: Python's regex engine skips ahead well only for short alternatives.)
NUMBER_FIRST_HINT = re.compile(rf"\d(?:\s?(?:bis|ter|[a-d]))?,?\s+(?:{ROMANCE_STREETS})")
SUFFIX_HINT = re.compile(rf"(?:{GERMAN_SUFFIXES.replace('ß', 'ss')}|{DUTCH_SUFFIXES})\s+\d")
NAMED_FIRST_WORDS = frozenset(STREETS_NAMED_FIRST)


# usaddress parses a string it is told is an address; it does not find one. Of the candidates
# US_CANDIDATE finds, it labelled every plain one "Street Address": a number, one or two words,
# one street kind (1 Elm St, 2 W Main St, 221 Martin Luther Blvd Apt 4) — 35,232 of 100,000
# generated (Faker's en_US street addresses and random capitalised words before a street kind),
# and all 2,682 in 86,000 texts of the benchmark's corpus and Faker addresses in six locales.
# It said otherwise ("Ambiguous", "Intersection", a label repeated) only of the others: three
# name words or more, a conjunction, a second street kind (42 Treatment Way Mrs Blvd), 54 of
# 33,511. So only those are asked: asking cost ~0.2 ms a candidate in the post's path, about a
# seventh of what screening a doxxing post cost (`bench/signals.py`).
_KINDS = frozenset(STREET_KINDS)
_CONJUNCTIONS = frozenset({"and", "&", "at", "of"})


def _plain(candidate: str) -> bool:
    words = [word.rstrip(".") for word in candidate.split()]
    kinds = [index for index, word in enumerate(words) if word in _KINDS]
    if len(kinds) != 1:
        return False
    name = words[1 : kinds[0]]
    return len(name) <= 2 and _CONJUNCTIONS.isdisjoint(word.lower() for word in name)


def _confirmed(candidate: str) -> bool:
    if _plain(candidate):
        return True
    try:
        _tags, label = usaddress.tag(candidate)
    except usaddress.RepeatedLabelError:
        return False
    return bool(label == "Street Address")


def detect(text: str) -> list[Signal]:
    """Street addresses with their spans."""
    found: list[Signal] = []
    for match in US_CANDIDATE.finditer(text):
        if _confirmed(match.group()):
            found.append(Signal("street_address", match.start(), match.end(), 0.85, {"form": "us"}))
    folded = text.casefold()
    suffix = SUFFIX_HINT.search(folded) is not None
    patterns = []
    if suffix or NUMBER_FIRST_HINT.search(folded):
        patterns.append(EU_CANDIDATE)
    if suffix or not NAMED_FIRST_WORDS.isdisjoint(text.split()):
        patterns.append(NUMBER_LAST)
    for pattern in patterns:
        for match in pattern.finditer(text):
            if not any(s.start <= match.start() < s.end for s in found):
                found.append(
                    Signal("street_address", match.start(), match.end(), 0.8, {"form": "eu"})
                )
    return sorted(found, key=lambda s: s.start)

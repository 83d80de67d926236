"""National identification numbers, accepted only when their checksum or structure is valid
(python-stdnum does the validation; the regexes only find candidates)."""

from __future__ import annotations

import re
from collections.abc import Callable

from stdnum.be import nn as be_nn
from stdnum.es import dni as es_dni
from stdnum.fr import nir as fr_nir
from stdnum.it import codicefiscale as it_cf
from stdnum.nl import bsn as nl_bsn
from stdnum.us import ssn as us_ssn

from parvis.moderation.signals.types import Signal

# Each pattern's "not preceded by" check comes after its first character, not before: a
# pattern that starts with a lookbehind is tried at every position of the text, one that starts
# with a character class lets the regex engine skip to where it could match (half the time).
SCHEMES: list[tuple[str, re.Pattern[str], Callable[[str], bool], float]] = [
    # US SSN written with dashes or spaces (bare 9-digit runs are too ambiguous alone).
    ("us.ssn", re.compile(r"\d(?<![\d-]\d)\d{2}[- ]\d{2}[- ]\d{4}(?![\d-])"), us_ssn.is_valid, 0.9),
    # French NIR: 13 digits + 2-digit key, optionally spaced 1 2 2 2 3 3 2; Corsica 2A/2B.
    (
        "fr.nir",
        re.compile(
            r"[12](?<!\d[12]) ?\d{2} ?(?:0[1-9]|1[0-2]|[2-9]\d) ?(?:\d{2}|2[AB])"
            r" ?\d{3} ?\d{3} ?\d{2}(?!\d)"
        ),
        fr_nir.is_valid,
        0.95,
    ),
    ("es.dni", re.compile(r"\d(?<!\w\d)\d{7}-?[A-Z](?!\w)"), es_dni.is_valid, 0.9),
    (
        "it.codicefiscale",
        re.compile(r"[A-Z](?<!\w[A-Z])[A-Z]{5}\d{2}[A-EHLMPR-T]\d{2}[A-Z]\d{3}[A-Z](?!\w)"),
        it_cf.is_valid,
        0.95,
    ),
    (
        "be.nn",
        re.compile(r"\d(?<![\d.-]\d)\d\.?\d{2}\.?\d{2}-?\d{3}\.?\d{2}(?![\d.-])"),
        be_nn.is_valid,
        0.8,
    ),
    ("nl.bsn", re.compile(r"\d(?<![\d.]\d)\d{3}\.?\d{2}\.?\d{3}(?![\d.])"), nl_bsn.is_valid, 0.6),
]


# Schemes whose bare form (9 or 11 digits) looks like any order or invoice number: they count
# only next to a word naming them.
NEEDS_CONTEXT = {
    "nl.bsn": re.compile(r"\b(?:bsn|burgerservicenummer|sofinummer)\b", re.IGNORECASE),
    "be.nn": re.compile(
        r"\b(?:rijksregister\w*|registre national|national number|NN|INSZ|NISS)\b", re.IGNORECASE
    ),
}
# Numbers printed in advertisements and documentation: never a real person's identifier.
KNOWN_EXAMPLES = frozenset({"123456789", "078051120", "219099999", "987654320"})


def _mask(value: str) -> str:
    digits = re.sub(r"\W", "", value)
    return "*" * max(0, len(digits) - 4) + digits[-4:]


def detect(text: str) -> list[Signal]:
    """Checksum-valid national identifiers in `text` (evidence holds a masked value only)."""
    found: list[Signal] = []
    taken: list[tuple[int, int]] = []
    for scheme, pattern, is_valid, confidence in SCHEMES:
        for match in pattern.finditer(text):
            start, end = match.span()
            if any(start < t_end and t_start < end for t_start, t_end in taken):
                continue
            if re.sub(r"\W", "", match.group()) in KNOWN_EXAMPLES:
                continue
            context = NEEDS_CONTEXT.get(scheme)
            if context is not None and not context.search(text[max(0, start - 40) : start]):
                continue
            if is_valid(match.group()):
                taken.append((start, end))
                found.append(
                    Signal(
                        "national_id",
                        start,
                        end,
                        confidence,
                        {"scheme": scheme, "masked": _mask(match.group())},
                    )
                )
    return found

"""Personal data in public text: what a statement of reasons must not carry (DSA Art. 24(5)).

A decision's facts and circumstances are published whole — on the statement page, in the
Transparency Database export and, for ever, in the provable log — so they are checked with the
same inline detectors that screen posts before anything is written. Only the detectors for data
that names or reaches a person count here; links and watched words are not personal data.
"""

from __future__ import annotations

from parvis.errors import InvalidInput
from parvis.moderation.signals.inline import detect

# Signal kind -> how the refusal names it.
PERSONAL_KINDS = {
    "national_id": "a national identification number",
    "street_address": "a street address",
    "email": "an e-mail address",
    "phone": "a phone number",
    "payment_card": "a payment card number",
    "iban": "a bank account number (IBAN)",
}


def found_in(text: str) -> list[str]:
    """What kinds of personal data `text` holds, in the order they appear (each once)."""
    kinds: list[str] = []
    for signal in detect(text):
        if signal.kind in PERSONAL_KINDS and signal.kind not in kinds:
            kinds.append(signal.kind)
    return kinds


def check_public_text(text: str, field: str) -> None:
    """Refuse public text that holds personal data, saying which kinds to take out."""
    kinds = found_in(text)
    if kinds:
        named = ", ".join(PERSONAL_KINDS[kind] for kind in kinds)
        raise InvalidInput(
            f"The facts and circumstances are published with the statement of reasons and must "
            f"not contain personal data (DSA Art. 24(5)). Describe what was found without "
            f"repeating it; this text holds {named}.",
            field,
        )

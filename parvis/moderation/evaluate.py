"""Rule evaluation: signals in, proposed actions out; deterministic per rulebook version."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from parvis.moderation.rulebook import Rule, Rulebook
from parvis.moderation.signals.types import Signal


@dataclass(frozen=True)
class Proposal:
    """A rule whose triggering signals are present, with the action it calls for."""

    rule: Rule
    signals: tuple[Signal, ...]

    @property
    def automatic(self) -> bool:
        """True when the rulebook lets a machine apply it alone."""
        return self.rule.automatic


def evaluate(rulebook: Rulebook, signals: Iterable[Signal]) -> list[Proposal]:
    """Every rule the signals trigger, in rulebook order."""
    strong = list(signals)
    proposals = []
    for rule in rulebook.rules:
        usable = [s for s in strong if s.confidence >= rule.min_confidence]
        kinds = {s.kind for s in usable}
        if rule.all_of and not set(rule.all_of) <= kinds:
            continue
        if rule.any_of and not set(rule.any_of) & kinds:
            continue
        wanted = set(rule.all_of) | set(rule.any_of)
        proposals.append(Proposal(rule, tuple(s for s in usable if s.kind in wanted)))
    return proposals

"""Member ranks, earned from tenure and the votes a member's posts received.

Tiers (documented in the README): each needs both the tenure and the score.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from parvis.storage.base import utcnow


class RankInputs(Protocol):
    """What a rank is computed from: a member's (or a member row's) tenure and score."""

    @property
    def created_at(self) -> datetime: ...

    @property
    def vote_score(self) -> int: ...


@dataclass(frozen=True)
class Rank:
    """A named tier with what it takes to reach it."""

    name: str
    min_days: int
    min_score: int
    description: str


RANKS: tuple[Rank, ...] = (
    Rank("Newcomer", 0, 0, "Joined recently."),
    Rank("Member", 7, 0, "A week on the square."),
    Rank("Regular", 30, 25, "A month on the square and 25 net up-votes."),
    Rank("Trusted", 180, 250, "Six months and 250 net up-votes."),
    Rank("Pillar", 365, 2500, "A year and 2,500 net up-votes."),
)


def rank_for(user: RankInputs, now: datetime | None = None) -> Rank:
    """The highest tier whose tenure and score the member both meet."""
    days = ((now or utcnow()) - user.created_at).days
    earned = RANKS[0]
    for rank in RANKS:
        if days >= rank.min_days and user.vote_score >= rank.min_score:
            earned = rank
    return earned

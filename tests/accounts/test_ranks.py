"""Member ranks need both tenure and received votes."""

from datetime import timedelta

from parvis.accounts.models import User
from parvis.accounts.ranks import rank_for
from parvis.storage.base import utcnow


def _user(days: int, score: int) -> User:
    return User(created_at=utcnow() - timedelta(days=days), vote_score=score)


def test_rank_requires_tenure_and_score() -> None:
    assert rank_for(_user(0, 0)).name == "Newcomer"
    assert rank_for(_user(8, 0)).name == "Member"
    assert rank_for(_user(31, 24)).name == "Member"
    assert rank_for(_user(31, 25)).name == "Regular"
    assert rank_for(_user(10, 10_000)).name == "Member"  # votes alone do not buy rank
    assert rank_for(_user(400, 3000)).name == "Pillar"

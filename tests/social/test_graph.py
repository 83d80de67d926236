"""Follows, mutes and blocks."""

from __future__ import annotations

import pytest

from parvis.accounts.models import User
from parvis.errors import InvalidInput, PermissionDenied
from parvis.runtime import Runtime
from parvis.social import graph
from tests.conftest import MakeUser


def test_follow_counts_and_relationship(runtime: Runtime, make_user: MakeUser) -> None:
    ana, bob = make_user("ana"), make_user("bob")
    with runtime.db.session() as session:
        a, b = session.get_one(User, ana.id), session.get_one(User, bob.id)
        graph.follow(session, a, b)
        graph.follow(session, a, b)  # idempotent
    with runtime.db.session() as session:
        a, b = session.get_one(User, ana.id), session.get_one(User, bob.id)
        assert (a.following_count, b.followers_count) == (1, 1)
        rel = graph.relationship(session, ana.id, bob.id)
        assert rel.following
        assert not rel.followed_by
        graph.unfollow(session, a, b)
    with runtime.db.session() as session:
        assert session.get_one(User, bob.id).followers_count == 0


def test_block_removes_follows_both_ways_and_prevents_following(
    runtime: Runtime, make_user: MakeUser
) -> None:
    ana, bob = make_user("ana"), make_user("bob")
    with runtime.db.session() as session:
        a, b = session.get_one(User, ana.id), session.get_one(User, bob.id)
        graph.follow(session, a, b)
        graph.follow(session, b, a)
        graph.block(session, a, b)
    with runtime.db.session() as session:
        a, b = session.get_one(User, ana.id), session.get_one(User, bob.id)
        assert (a.followers_count, a.following_count) == (0, 0)
        assert graph.relationship(session, bob.id, ana.id).blocked_by
        with pytest.raises(PermissionDenied):
            graph.follow(session, b, a)
        with pytest.raises(PermissionDenied):
            graph.follow(session, a, b)


def test_self_actions_and_muted_word_rules(runtime: Runtime, make_user: MakeUser) -> None:
    ana = make_user("ana")
    with runtime.db.session() as session:
        a = session.get_one(User, ana.id)
        for action in (graph.follow, graph.mute, graph.block):
            with pytest.raises(InvalidInput, match="yourself"):
                action(session, a, a)
        with pytest.raises(InvalidInput):
            graph.add_muted_word(session, a, "   ")
        first = graph.add_muted_word(session, a, "Derby")
        assert graph.add_muted_word(session, a, "derby").id == first.id
        assert [w.phrase for w in graph.muted_words(session, a)] == ["Derby"]
        graph.remove_muted_word(session, a, first.id)
        assert graph.muted_words(session, a) == []

"""Notifications obey blocks and mutes, even ones made after the fact."""

from __future__ import annotations

from parvis.accounts.models import User
from parvis.runtime import Runtime
from parvis.social import graph, notifications, posts
from parvis.social.visibility import load_viewer
from tests.conftest import MakeUser
from tests.social.conftest import Write


def _kinds(runtime: Runtime, user: User) -> list[str]:
    with runtime.db.session() as session:
        viewer = load_viewer(session, user.id)
        return [n.kind for n in notifications.list_notifications(session, viewer)]


def test_follow_reply_vote_and_repost_notify_the_author(
    runtime: Runtime, make_user: MakeUser, write: Write
) -> None:
    ana, bob = make_user("ana"), make_user("bob")
    root = write(ana, "root")
    with runtime.db.session() as session:
        b = session.get_one(User, bob.id)
        graph.follow(session, b, session.get_one(User, ana.id))
        posts.vote(session, b, root, 1)
        posts.vote(session, b, root, -1)  # down-votes never notify
        posts.repost(session, b, root)
    write(bob, "reply", in_reply_to_id=root)
    assert _kinds(runtime, ana) == ["reply", "reblog", "vote", "follow"]
    with runtime.db.session() as session:
        viewer = load_viewer(session, ana.id)
        assert notifications.unread_count(session, viewer) == 4
        notifications.mark_all_read(session, ana.id)
        assert notifications.unread_count(session, viewer) == 0


def test_block_hides_existing_notifications_and_stops_new_ones(
    runtime: Runtime, make_user: MakeUser, write: Write
) -> None:
    ana, troll = make_user("ana"), make_user("troll")
    root = write(ana, "root")
    write(troll, "@ana reply", in_reply_to_id=root)
    assert _kinds(runtime, ana) == ["reply"]
    with runtime.db.session() as session:
        graph.mute(session, session.get_one(User, ana.id), session.get_one(User, troll.id))
    assert _kinds(runtime, ana) == []
    with runtime.db.session() as session:
        graph.unmute(session, session.get_one(User, ana.id), session.get_one(User, troll.id))
        graph.block(session, session.get_one(User, troll.id), session.get_one(User, ana.id))
    assert _kinds(runtime, ana) == []


def test_muted_words_hide_mention_notifications(
    runtime: Runtime, make_user: MakeUser, write: Write
) -> None:
    ana, bob = make_user("ana"), make_user("bob")
    write(bob, "@ana the match result: spoiler")
    with runtime.db.session() as session:
        graph.add_muted_word(session, session.get_one(User, ana.id), "spoiler")
    assert _kinds(runtime, ana) == []

"""Feeds: the home timeline obeys follows, mutes, blocks and muted words, and injects nothing."""

from __future__ import annotations

from parvis.accounts.models import User
from parvis.runtime import Runtime
from parvis.social import feeds, graph, posts
from parvis.social.feeds import PageQuery
from parvis.social.models import Post
from parvis.social.visibility import load_viewer
from tests.conftest import MakeUser
from tests.social.conftest import Write


def _home(runtime: Runtime, user: User, **page: int) -> list[int]:
    with runtime.db.session() as session:
        viewer = load_viewer(session, user.id)
        return [post.id for post in feeds.home(session, viewer, PageQuery(**page))]


def _graph(runtime: Runtime, action: str, actor: User, target: User) -> None:
    with runtime.db.session() as session:
        getattr(graph, action)(
            session, session.get_one(User, actor.id), session.get_one(User, target.id)
        )


def test_home_shows_followed_and_own_posts_newest_first_and_nothing_else(
    runtime: Runtime, make_user: MakeUser, write: Write
) -> None:
    me, friend, stranger = make_user("myself"), make_user("friend"), make_user("stranger")
    _graph(runtime, "follow", me, friend)
    a = write(friend, "friend one")
    write(stranger, "stranger post")  # never injected
    b = write(me, "my own")
    c = write(friend, "friend two")
    assert _home(runtime, me) == [c, b, a]


def test_home_includes_reposts_by_followed_accounts(
    runtime: Runtime, make_user: MakeUser, write: Write
) -> None:
    me, friend, stranger = make_user("myself"), make_user("friend"), make_user("stranger")
    _graph(runtime, "follow", me, friend)
    original = write(stranger, "worth sharing")
    with runtime.db.session() as session:
        repost = posts.repost(session, session.get_one(User, friend.id), original).id
    assert _home(runtime, me) == [repost]


def test_home_replies_only_when_they_answer_someone_followed(
    runtime: Runtime, make_user: MakeUser, write: Write
) -> None:
    me, friend, stranger = make_user("myself"), make_user("friend"), make_user("stranger")
    _graph(runtime, "follow", me, friend)
    theirs = write(stranger, "stranger root")
    root = write(friend, "friend root")
    write(friend, "reply to stranger", in_reply_to_id=theirs)
    to_friend = write(friend, "reply to self", in_reply_to_id=root)
    assert _home(runtime, me) == [to_friend, root]


def test_home_obeys_mutes_blocks_and_muted_words(
    runtime: Runtime, make_user: MakeUser, write: Write
) -> None:
    me, loud, rude, calm = (
        make_user("myself"),
        make_user("loud"),
        make_user("rude"),
        make_user("calm"),
    )
    for other in (loud, rude, calm):
        _graph(runtime, "follow", me, other)
    write(loud, "loud post")
    write(rude, "rude post")
    spoiler = write(calm, "the finale SPOILERS inside")
    kept = write(calm, "a calm post")
    write(calm, "spoilerish is a different word")
    with runtime.db.session() as session:
        graph.add_muted_word(session, session.get_one(User, me.id), "spoilers")
    _graph(runtime, "mute", me, loud)
    _graph(runtime, "block", rude, me)  # blocked BY rude: mutual
    home = _home(runtime, me)
    assert spoiler not in home
    assert kept in home
    assert len(home) == 2


def test_reposts_of_blocked_accounts_are_hidden(
    runtime: Runtime, make_user: MakeUser, write: Write
) -> None:
    me, friend, big = make_user("myself"), make_user("friend"), make_user("big")
    _graph(runtime, "follow", me, friend)
    original = write(big, "big post")
    with runtime.db.session() as session:
        posts.repost(session, session.get_one(User, friend.id), original)
    _graph(runtime, "block", me, big)
    assert _home(runtime, me) == []


def test_home_pagination_with_max_since_and_min_id(
    runtime: Runtime, make_user: MakeUser, write: Write
) -> None:
    me = make_user("myself")
    ids = [write(me, f"post {n}") for n in range(7)]
    newest_first = list(reversed(ids))
    assert _home(runtime, me, limit=3) == newest_first[:3]
    assert _home(runtime, me, limit=3, max_id=newest_first[2]) == newest_first[3:6]
    assert _home(runtime, me, since_id=ids[4]) == newest_first[:2]
    assert _home(runtime, me, limit=2, min_id=ids[1]) == [ids[3], ids[2]]


def test_home_skips_deleted_posts_and_reposts_of_deleted_posts(
    runtime: Runtime, make_user: MakeUser, write: Write
) -> None:
    me, friend = make_user("myself"), make_user("friend")
    _graph(runtime, "follow", me, friend)
    post_id = write(friend, "oops")
    with runtime.db.session() as session:
        posts.repost(session, session.get_one(User, me.id), post_id)
        posts.delete_post(session, session.get_one(User, friend.id), post_id)
    assert _home(runtime, me) == []


def test_public_feed_tag_feed_and_profile(
    runtime: Runtime, make_user: MakeUser, write: Write
) -> None:
    ana, bob = make_user("ana"), make_user("bob")
    root = write(ana, "hello #Town")
    write(bob, "a reply #town", in_reply_to_id=root)
    quiet = write(bob, "unlisted", visibility="unlisted")
    with runtime.db.session() as session:
        viewer = load_viewer(session, None)
        public = [p.id for p in feeds.public(session, viewer, PageQuery())]
        tagged = [p.id for p in feeds.tag(session, viewer, "TOWN", PageQuery())]
        profile = [p.id for p in feeds.profile(session, viewer, bob.id, PageQuery())]
        with_replies = feeds.profile(session, viewer, bob.id, PageQuery(), include_replies=True)
    assert public == [root]
    assert len(tagged) == 2
    assert profile == [quiet]
    assert len(with_replies) == 2


def test_thread_is_a_tree_and_hides_blocked_branches(
    runtime: Runtime, make_user: MakeUser, write: Write
) -> None:
    ana, bob, eve = make_user("ana"), make_user("bob"), make_user("eve")
    root = write(ana, "root")
    r1 = write(bob, "r1", in_reply_to_id=root)
    r1a = write(ana, "r1a", in_reply_to_id=r1)
    r2 = write(eve, "r2", in_reply_to_id=root)
    write(ana, "under eve", in_reply_to_id=r2)
    _graph(runtime, "block", ana, eve)
    with runtime.db.session() as session:
        viewer = load_viewer(session, ana.id)
        thread = feeds.thread(session, viewer, session.get_one(Post, root))
        assert [(p.id, depth) for p, depth in thread.descendants] == [(r1, 1), (r1a, 2)]
        focused = feeds.thread(session, viewer, session.get_one(Post, r1a))
        assert [p.id for p in focused.ancestors] == [root, r1]


def test_profile_and_public_feeds_never_walk_the_reply_index(
    runtime: Runtime, make_user: MakeUser
) -> None:
    """SQLite's statistics average rows per value, so "in_reply_to_id IS NULL" looks selective
    although most posts match it: feeds must keep it off that index (a profile page of a 1M-post
    instance took 320 ms walking it)."""
    from sqlalchemy import insert, text

    ana = make_user("ana")
    with runtime.db.session() as session:
        if session.get_bind().dialect.name != "sqlite":
            return  # PostgreSQL's statistics count the NULLs: the question is SQLite's
        posts_rows = [{"author_id": ana.id, "body_source": f"n{n}"} for n in range(300)]
        session.execute(insert(Post), posts_rows)
        first = session.execute(text("SELECT min(id) FROM posts")).scalar_one()
        reply_rows = [
            {"author_id": ana.id, "body_source": "r", "in_reply_to_id": first + n}
            for n in range(30)
        ]
        session.execute(insert(Post), reply_rows)
        session.execute(text("ANALYZE"))
    with runtime.db.read() as db:
        nobody = load_viewer(db, None)
        feeds.profile(db, nobody, ana.id, PageQuery())
        feeds.public(db, nobody, PageQuery())
        statements = [
            statement
            for sql_text, statement in feeds._statements.items()
            if "author_id = :author" in sql_text or "visibility = 'public'" in sql_text
        ]
        assert len(statements) >= 2
        for statement in statements:
            plan = db.dbapi.execute(
                "EXPLAIN QUERY PLAN " + statement.rendered("sqlite"),
                {"author": ana.id, "tag": "x", "me": ana.id, "batch": 25, "before": 2**62}
                | {"after": 0, "max_id": 0, "since_id": 0, "min_id": 0, "hidden_authors": "[]"}
                | {"now": "2026-01-01 00:00:00.000000"},
            ).fetchall()
            assert "ix_posts_in_reply_to_id" not in str(plan), plan

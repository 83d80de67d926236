"""Writing posts: replies, quotes, reposts, edits with history, deletion, votes."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from parvis.accounts.models import User
from parvis.errors import InvalidInput, NotFound, PermissionDenied
from parvis.runtime import Runtime
from parvis.social import graph, posts
from parvis.social.models import Mention, Notification, Post, PostKind, PostLink, PostTag
from parvis.social.posts import PostDraft
from tests.conftest import MakeUser
from tests.social.conftest import Write


def _post(runtime: Runtime, post_id: int) -> Post:
    with runtime.db.session() as session:
        return session.get_one(Post, post_id)


def _user(runtime: Runtime, user_id: int) -> User:
    with runtime.db.session() as session:
        return session.get_one(User, user_id)


def test_post_stores_rendered_html_tags_links_and_counts(
    runtime: Runtime, make_user: MakeUser, write: Write
) -> None:
    ana = make_user("ana")
    post_id = write(ana, "Hello **square** #Parvis https://example.org/a")
    post = _post(runtime, post_id)
    assert "<strong>square</strong>" in post.body_html
    assert post.thread_root_id == post.id
    with runtime.db.session() as session:
        assert session.scalars(select(PostTag.tag)).all() == ["parvis"]
        assert session.scalars(select(PostLink.url)).all() == ["https://example.org/a"]
    assert _user(runtime, ana.id).posts_count == 1


def test_the_author_in_the_same_session_sees_the_new_count_and_time(
    runtime: Runtime, make_user: MakeUser
) -> None:
    ana = make_user("ana")
    with runtime.db.session() as session:
        me = session.get_one(User, ana.id)
        posts.create_post(session, runtime.settings, me, PostDraft(body="one"))
        post = posts.create_post(session, runtime.settings, me, PostDraft(body="two"))
        assert me.posts_count == 2  # what an API answer in this request renders
        assert me.last_post_at == post.created_at
    stored = _user(runtime, ana.id)
    assert (stored.posts_count, stored.last_post_at) == (2, post.created_at)


def test_unverified_member_cannot_post(runtime: Runtime, make_user: MakeUser, write: Write) -> None:
    newbie = make_user("newbie", verified=False)
    with pytest.raises(PermissionDenied, match="Confirm your e-mail"):
        write(newbie, "hi")


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        ({"body": ""}, "Write something"),
        ({"body": "x" * 5001}, "Too long"),
        ({"body": "a", "visibility": "direct"}, "not supported"),
        ({"body": "a", "kind": PostKind.ARTICLE}, "title"),
        ({"body": "a", "attachment_ids": [999]}, "Unknown attachment"),
        ({"body": "a", "in_reply_to_id": 999}, "does not exist"),
    ],
)
def test_bad_drafts_are_refused_with_a_reason(
    runtime: Runtime, make_user: MakeUser, write: Write, kwargs: dict[str, object], fragment: str
) -> None:
    ana = make_user("ana")
    options = dict(kwargs)
    body = options.pop("body")
    with pytest.raises((InvalidInput, NotFound), match=fragment):
        write(ana, body, **options)
    with runtime.db.session() as session:
        assert session.scalars(select(Post)).all() == []


def test_reply_and_quote_notify_and_count(
    runtime: Runtime, make_user: MakeUser, write: Write
) -> None:
    ana, bob = make_user("ana"), make_user("bob")
    root = write(ana, "root")
    reply = write(bob, "a reply", in_reply_to_id=root)
    nested = write(ana, "nested", in_reply_to_id=reply)
    quote = write(bob, "look at this", quote_of_id=root)
    assert _post(runtime, nested).thread_root_id == root
    assert _post(runtime, root).replies_count == 1
    assert _post(runtime, root).quotes_count == 1
    assert _post(runtime, quote).quote_of_id == root
    with runtime.db.session() as session:
        kinds = sorted((n.user_id == ana.id, n.kind) for n in session.scalars(select(Notification)))
    assert kinds == [(False, "reply"), (True, "quote"), (True, "reply")]


def test_mention_notifies_existing_member_only_once(
    runtime: Runtime, make_user: MakeUser, write: Write
) -> None:
    ana, bob = make_user("ana"), make_user("bob")
    root = write(bob, "root")
    write(ana, "@bob @bob @nobody hello", in_reply_to_id=root)
    with runtime.db.session() as session:
        rows = session.scalars(select(Notification).where(Notification.user_id == bob.id)).all()
    assert [row.kind for row in rows] == ["reply"]


def test_cannot_reply_across_a_block(runtime: Runtime, make_user: MakeUser, write: Write) -> None:
    ana, bob = make_user("ana"), make_user("bob")
    root = write(ana, "root")
    with runtime.db.session() as session:
        graph.block(session, session.get_one(User, ana.id), session.get_one(User, bob.id))
    with pytest.raises(PermissionDenied, match="block"):
        write(bob, "reply", in_reply_to_id=root)
    with pytest.raises(PermissionDenied, match="block"):
        write(bob, "quote", quote_of_id=root)


def test_edit_keeps_history_and_only_author_may_edit(
    runtime: Runtime, make_user: MakeUser, write: Write
) -> None:
    ana, bob, cy = make_user("ana"), make_user("bob"), make_user("cyd")
    post_id = write(ana, "first version #one @bob https://example.org/one")
    with runtime.db.session() as session:
        me = session.get_one(User, ana.id)
        draft = PostDraft(body="second #two @cyd https://example.org/two")
        posts.edit_post(session, runtime.settings, me, post_id, draft)
    with runtime.db.session() as session:
        history = posts.revisions(session, post_id)
        assert [rev.body_source for rev in history] == [
            "first version #one @bob https://example.org/one"
        ]
        # The edit's tags, links and mentions replace the first version's.
        assert session.scalars(select(PostTag.tag)).all() == ["two"]
        assert session.scalars(select(PostLink.url)).all() == ["https://example.org/two"]
        assert session.scalars(select(Mention.user_id)).all() == [cy.id]
        with pytest.raises(PermissionDenied):
            posts.edit_post(
                session,
                runtime.settings,
                session.get_one(User, bob.id),
                post_id,
                PostDraft(body="x"),
            )
    assert _post(runtime, post_id).edited_at is not None


def test_only_the_author_can_delete_and_a_tombstone_remains(
    runtime: Runtime, make_user: MakeUser, write: Write
) -> None:
    ana, mod = make_user("ana"), make_user("mod")
    post_id = write(ana, "to be deleted")
    with runtime.db.session() as session, pytest.raises(PermissionDenied, match="own posts"):
        posts.delete_post(session, session.get_one(User, mod.id), post_id)
    with runtime.db.session() as session:
        posts.delete_post(session, session.get_one(User, ana.id), post_id)
    assert _post(runtime, post_id).deleted_at is not None
    assert _user(runtime, ana.id).posts_count == 0
    with runtime.db.session() as session, pytest.raises(NotFound):
        posts.delete_post(session, session.get_one(User, ana.id), post_id)


def test_repost_is_idempotent_and_undoable(
    runtime: Runtime, make_user: MakeUser, write: Write
) -> None:
    ana, bob = make_user("ana"), make_user("bob")
    post_id = write(ana, "share me")
    with runtime.db.session() as session:
        me = session.get_one(User, bob.id)
        first = posts.repost(session, me, post_id)
        again = posts.repost(session, me, post_id)
        assert first.id == again.id
    assert _post(runtime, post_id).reblogs_count == 1
    assert _post(runtime, post_id).share_count == 1
    with runtime.db.session() as session:
        posts.unrepost(session, session.get_one(User, bob.id), post_id)
    assert _post(runtime, post_id).reblogs_count == 0


def test_one_vote_per_member_changeable(
    runtime: Runtime, make_user: MakeUser, write: Write
) -> None:
    ana, bob = make_user("ana"), make_user("bob")
    post_id = write(ana, "vote on me")

    def vote(value: int) -> Post:
        with runtime.db.session() as session:
            return posts.vote(session, session.get_one(User, bob.id), post_id, value)

    assert (vote(1).upvotes, _post(runtime, post_id).downvotes) == (1, 0)
    assert vote(1).upvotes == 1  # same vote twice counts once
    changed = vote(-1)
    assert (changed.upvotes, changed.downvotes) == (0, 1)
    assert _user(runtime, ana.id).vote_score == -1
    withdrawn = vote(0)
    assert (withdrawn.upvotes, withdrawn.downvotes) == (0, 0)
    assert _user(runtime, ana.id).vote_score == 0
    with pytest.raises(InvalidInput):
        vote(2)
    with runtime.db.session() as session, pytest.raises(InvalidInput, match="own post"):
        posts.vote(session, session.get_one(User, ana.id), post_id, 1)

"""Post views carry what pages show, and hide quoted posts the viewer may not see."""

from __future__ import annotations

from parvis.accounts.models import User
from parvis.runtime import Runtime
from parvis.social import graph, posts
from parvis.social.models import Post
from parvis.social.views import build_views
from parvis.social.visibility import load_viewer
from tests.conftest import MakeUser
from tests.social.conftest import Write


def test_view_has_author_quote_vote_and_repost_state(
    runtime: Runtime, make_user: MakeUser, write: Write
) -> None:
    ana, bob = make_user("ana"), make_user("bob")
    quoted = write(ana, "quoted @bob #tag")
    quote = write(bob, "quoting", quote_of_id=quoted)
    with runtime.db.session() as session:
        b = session.get_one(User, bob.id)
        posts.vote(session, b, quoted, 1)
        repost = posts.repost(session, b, quoted)
        viewer = load_viewer(session, bob.id)
        rows = [session.get_one(Post, i) for i in (quote, repost.id, quoted)]
        quote_view, repost_view, quoted_view = build_views(session, viewer, rows)
    assert quote_view.quote is not None
    assert quote_view.quote.author.username == "ana"
    assert repost_view.reblog is not None
    assert repost_view.shown.post.id == quoted
    assert quoted_view.my_vote == 1
    assert quoted_view.reblogged
    assert [u.username for u in quoted_view.mentions] == ["bob"]
    assert quoted_view.tags == ["tag"]


def test_quote_of_blocked_or_deleted_post_is_unavailable(
    runtime: Runtime, make_user: MakeUser, write: Write
) -> None:
    ana, bob, eve = make_user("ana"), make_user("bob"), make_user("eve")
    by_eve = write(eve, "eve's post")
    by_ana = write(ana, "ana's post")
    quote_eve = write(bob, "quoting eve", quote_of_id=by_eve)
    quote_ana = write(bob, "quoting ana", quote_of_id=by_ana)
    with runtime.db.session() as session:
        graph.block(session, session.get_one(User, ana.id), session.get_one(User, eve.id))
        posts.delete_post(session, session.get_one(User, ana.id), by_ana)
    with runtime.db.session() as session:
        viewer = load_viewer(session, ana.id)
        views = build_views(
            session, viewer, [session.get_one(Post, quote_eve), session.get_one(Post, quote_ana)]
        )
    assert all(view.quote is None and view.quote_unavailable for view in views)

"""Search finds posts by words and tags, and accounts by name, as the viewer may see them."""

from __future__ import annotations

from parvis.accounts.models import User
from parvis.runtime import Runtime
from parvis.social import graph, posts, search
from parvis.social.visibility import load_viewer
from tests.conftest import MakeUser
from tests.social.conftest import Write


def test_post_search_matches_words_and_obeys_blocks(
    runtime: Runtime, make_user: MakeUser, write: Write
) -> None:
    ana, bob = make_user("ana"), make_user("bob")
    hit = write(ana, "The municipal budget vote is tonight")
    blocked = write(bob, "Budget tonight too")
    write(ana, "unrelated")
    with runtime.db.session() as session:
        graph.block(session, session.get_one(User, ana.id), session.get_one(User, bob.id))
    with runtime.db.session() as session:
        anonymous = load_viewer(session, None)
        assert {p.id for p in search.search_posts(session, anonymous, "budget tonight")} == {
            hit,
            blocked,
        }
        as_ana = load_viewer(session, ana.id)
        assert [p.id for p in search.search_posts(session, as_ana, "budget")] == [hit]
        # FTS syntax in member input is treated as plain words, never an error.
        assert search.search_posts(session, anonymous, 'budget" * (') != []


def test_deleted_and_edited_posts_are_reindexed(
    runtime: Runtime, make_user: MakeUser, write: Write
) -> None:
    ana = make_user("ana")
    post_id = write(ana, "apples")
    with runtime.db.session() as session:
        me = session.get_one(User, ana.id)
        posts.edit_post(session, runtime.settings, me, post_id, posts.PostDraft(body="oranges"))
    with runtime.db.session() as session:
        viewer = load_viewer(session, None)
        assert search.search_posts(session, viewer, "apples") == []
        assert [p.id for p in search.search_posts(session, viewer, "oranges")] == [post_id]
        posts.delete_post(session, session.get_one(User, ana.id), post_id)
    with runtime.db.session() as session:
        assert search.search_posts(session, load_viewer(session, None), "oranges") == []


def test_tag_and_account_search(runtime: Runtime, make_user: MakeUser, write: Write) -> None:
    ana = make_user("ana")
    make_user("anatole")
    post_id = write(ana, "#Market day")
    with runtime.db.session() as session:
        viewer = load_viewer(session, None)
        assert [p.id for p in search.search_posts(session, viewer, "#market")] == [post_id]
        names = [u.username for u in search.search_accounts(session, viewer, "@ana")]
        assert set(names) == {"ana", "anatole"}
        assert search.search_accounts(session, viewer, "%") == []

"""The review queue's evidence: signal spans marked (and escaped) in the text, documents with
what was found in them, and other posts sharing the link with their decisions."""

from __future__ import annotations

from sqlalchemy import select

from parvis.accounts.models import Role, User
from parvis.moderation import evidence, lists, publication
from parvis.moderation.signals import inline
from parvis.runtime import Runtime
from parvis.social import media, posts
from parvis.social.models import Post
from parvis.social.posts import PostDraft
from tests.conftest import MakeUser
from tests.pdfs import dossier


def test_spans_are_marked_and_the_rest_is_escaped() -> None:
    text = "<b>me</b> SSN 536-90-4399 at 1600 Pennsylvania Avenue."
    marked = str(evidence.mark(text, inline.detect(text)))
    assert marked.startswith("&lt;b&gt;me&lt;/b&gt; SSN ")
    assert '<mark class="signal" title="national_id">536-90-4399</mark>' in marked
    assert '<mark class="signal" title="street_address">' in marked


def test_evidence_lists_documents_and_posts_sharing_the_link(
    runtime: Runtime, make_user: MakeUser
) -> None:
    author, other = make_user("author"), make_user("other")
    moderator = make_user("mod", role=Role.MODERATOR)
    with runtime.db.session() as session:
        publication.ensure_default(session)
        settings = runtime.settings
        me = session.get_one(User, author.id)
        upload = media.store_upload(session, settings, me, filename="x.pdf", data=dossier())
        first = posts.create_post(
            session,
            settings,
            me,
            PostDraft(body="see https://leaks.example/a", attachment_ids=[upload.id]),
        )
        posts.create_post(
            session,
            settings,
            session.get_one(User, other.id),
            PostDraft(body="also https://leaks.example/a"),
        )
        lists.add_entry(
            session,
            session.get_one(User, moderator.id),
            kind="url",
            value="https://leaks.example/a",
            rule_id="hacked-materials",
        )
        post = session.scalars(select(Post).where(Post.id == first.id)).one()
        found = evidence.for_post(session, settings, post)
    assert "listed_url" in found.kinds
    marked = str(found.marked_text)
    assert '<mark class="signal" title="listed_url">https://leaks.example/a</mark>' in marked
    (document,) = found.documents
    assert (document.via, document.pages) == ("attachment", 3)
    assert {"national_id", "street_address"} <= set(document.kinds)
    (related,) = found.related
    assert related.author_id == other.id
    assert related.shared == "https://leaks.example/a"
    assert [(d.rule_id, d.state) for d in related.decisions] == [("hacked-materials", "proposed")]

"""Scenario 1's narrow action: listing a hacked dossier (URL and fingerprint) proposes blocking
the link's sharing and a warning on the posts that carry it; the journalist stays active; a
renamed re-upload of the same PDF is caught by its fingerprint."""

from __future__ import annotations

import hashlib
import io

import pytest
from pypdf import PdfWriter
from sqlalchemy import select

from parvis.accounts.models import Role, User
from parvis.errors import Conflict, InvalidInput, PermissionDenied
from parvis.moderation import decisions, lists, publication
from parvis.moderation.models import (
    Decision,
    DecisionState,
    ListEntry,
    ListEntryRemoval,
    PostRestriction,
)
from parvis.runtime import Runtime
from parvis.social import media, posts
from parvis.social.posts import PostDraft
from tests.conftest import MakeUser

DOSSIER_URL = "https://leaks.example/vetting-file.pdf"


def _pdf() -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(width=300, height=300)
    writer.add_metadata({"/Title": "Vetting file"})
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _post(runtime: Runtime, author: User, body: str, pdf_name: str | None = None) -> int:
    with runtime.db.session() as session:
        me = session.get_one(User, author.id)
        ids = []
        if pdf_name:
            ids.append(
                media.store_upload(session, runtime.settings, me, filename=pdf_name, data=_pdf()).id
            )
        return posts.create_post(
            session,
            runtime.settings,
            me,
            PostDraft(body=body, attachment_ids=ids),
            services=runtime.services,
        ).id


def test_listing_proposes_narrow_actions_and_catches_reuploads(
    runtime: Runtime, make_user: MakeUser
) -> None:
    journalist, member, other = make_user("lea"), make_user("member"), make_user("other")
    moderator = make_user("mod", role=Role.MODERATOR)
    with runtime.db.session() as session:
        publication.ensure_default(session)
    newsletter = _post(
        runtime, journalist, "My newsletter on the vetting file https://newsletter.example/vetting"
    )
    linking = _post(runtime, member, f"Read it all: {DOSSIER_URL}")
    uploaded = _post(runtime, member, "the file itself", pdf_name="vetting.pdf")
    sha256 = hashlib.sha256(_pdf()).hexdigest()

    with runtime.db.session() as session:
        mod = session.get_one(User, moderator.id)
        with pytest.raises(PermissionDenied):
            lists.add_entry(
                session,
                session.get_one(User, member.id),
                kind="url",
                value=DOSSIER_URL,
                rule_id="hacked-materials",
            )
        with pytest.raises(InvalidInput):
            lists.add_entry(
                session, mod, kind="document", value="not-a-hash", rule_id="hacked-materials"
            )
        _entry, url_proposals = lists.add_entry(
            session,
            mod,
            kind="url",
            value=DOSSIER_URL,
            rule_id="hacked-materials",
            note="Listed after the leak",
        )
        _entry, doc_proposals = lists.add_entry(
            session, mod, kind="document", value=sha256, rule_id="hacked-materials"
        )
        with pytest.raises(Conflict):
            lists.add_entry(
                session,
                mod,
                kind="url",
                value=DOSSIER_URL + "?utm_source=x",
                rule_id="hacked-materials",
            )
    assert sorted((d.subject_type, d.action) for d in url_proposals) == [
        ("post", "interstitial"),
        ("url", "block_url"),
    ]
    assert [(d.subject_key, d.action) for d in doc_proposals] == [(str(uploaded), "interstitial")]
    with runtime.db.session() as session:
        assert session.get(PostRestriction, linking) is None  # proposals do nothing yet
        mod = session.get_one(User, moderator.id)
        for proposal in url_proposals + doc_proposals:
            decisions.confirm(session, proposal.id, mod)
    with runtime.db.session() as session:
        assert session.get_one(PostRestriction, linking).action == "interstitial"
        assert session.get_one(PostRestriction, uploaded).action == "interstitial"
        assert session.get(PostRestriction, newsletter) is None  # the journalist is untouched
    with pytest.raises(PermissionDenied, match="cannot be shared here"):
        _post(runtime, other, f"mirror {DOSSIER_URL}")
    assert _post(runtime, journalist, "the journalist can still post")

    reupload = _post(runtime, other, "renamed copy", pdf_name="totally-different-name.pdf")
    with runtime.db.session() as session:
        proposed = session.scalars(
            select(Decision).where(
                Decision.subject_key == str(reupload),
                Decision.state == DecisionState.PROPOSED.value,
            )
        ).all()
        assert [(d.rule_id, d.action) for d in proposed] == [("hacked-materials", "interstitial")]


def test_removing_an_entry_records_who_when_and_why_and_stops_matching(
    runtime: Runtime, make_user: MakeUser
) -> None:
    moderator = make_user("mod", role=Role.MODERATOR)
    poster = make_user("poster")
    with runtime.db.session() as session:
        publication.ensure_default(session)
        mod = session.get_one(User, moderator.id)
        first, _ = lists.add_entry(
            session, mod, kind="domain", value="one.example", rule_id="hacked-materials"
        )
        second, _ = lists.add_entry(
            session, mod, kind="domain", value="two.example", rule_id="hacked-materials"
        )
        first_id, second_id = first.id, second.id
    _post(runtime, poster, "warm the screening cache https://elsewhere.example/x")
    with runtime.db.session() as session:
        mod = session.get_one(User, moderator.id)
        lists.remove_entry(session, mod, second_id, reason="  listed by mistake ")
        # SQLite may hand the freed highest id to the next entry: the cache must still notice.
        lists.add_entry(session, mod, kind="domain", value="three.example", rule_id="scams")
    with runtime.db.session() as session:
        removal = session.scalars(select(ListEntryRemoval)).one()
        assert (removal.entry_id, removal.value, removal.rule_id) == (
            second_id,
            "two.example",
            "hacked-materials",
        )
        assert removal.reason == "listed by mistake"
        assert removal.removed_by_id == moderator.id
        assert session.get(ListEntry, first_id) is not None
    _post(runtime, poster, "this one is fine now https://two.example/file")
    with runtime.db.session() as session:
        proposals = session.scalars(select(Decision).where(Decision.subject_type == "post"))
        assert {d.rule_id for d in proposals} <= {"scams"}
    three = _post(runtime, poster, "and this is caught https://three.example/x")
    with runtime.db.session() as session:
        caught = session.scalars(
            select(Decision).where(Decision.subject_key == str(three), Decision.rule_id == "scams")
        ).all()
        assert caught, "an entry added after a removal must be matched at once"

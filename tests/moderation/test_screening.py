"""Doxxing is kept out of public view at once, by an automated decision citing the rule, while
the author's account stays active; ordinary posts and partial data are left alone."""

from __future__ import annotations

import hashlib
import json
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import event, select, update

from parvis.accounts.models import Role, User
from parvis.errors import NotFound, PermissionDenied
from parvis.moderation import lists, publication
from parvis.moderation.evaluate import evaluate
from parvis.moderation.models import Decision, PostRestriction
from parvis.moderation.rulebook import default_rulebook, default_rulebook_text
from parvis.moderation.screening import screen_post
from parvis.moderation.signals import inline
from parvis.moderation.signals.flood import text_key
from parvis.runtime import Runtime
from parvis.social import media, posts
from parvis.social.models import Post
from parvis.social.posts import PostDraft
from parvis.social.visibility import load_viewer
from parvis.storage.base import utcnow
from parvis.storage.hot import HotSQL
from tests.conftest import MakeUser, outbox_messages
from tests.moderation.conftest import post_screened as _post
from tests.pdfs import dossier

DOXX = "Found him: John Roe, SSN 536-90-4399, lives at 1600 Pennsylvania Avenue."


def _edit(runtime: Runtime, author: User, post_id: int, body: str) -> str | None:
    """Edit a post as its author would (screened again); returns its new text key."""
    with runtime.db.session() as session:
        me = session.get_one(User, author.id)
        draft = PostDraft(body=body)
        edited = posts.edit_post(
            session, runtime.settings, me, post_id, draft, services=runtime.services
        )
        return edited.text_key


def test_evaluation_is_deterministic_and_needs_both_signals() -> None:
    rulebook = default_rulebook()
    both = evaluate(rulebook, inline.detect(DOXX))
    assert [p.rule.id for p in both] == ["doxxing"]
    assert [p.rule.id for p in evaluate(rulebook, inline.detect(DOXX))] == ["doxxing"]
    assert evaluate(rulebook, inline.detect("SSN 536-90-4399 only")) == []


PHONE_LABEL = """[[rules]]
id = "phone-label"
title = "Phone numbers are labelled"
text = "Posts showing a phone number carry a label."
ground = "terms"
terms_clause = "Terms of service, clause 4 (private information)"
category = "STATEMENT_CATEGORY_DATA_PROTECTION_AND_PRIVACY_VIOLATIONS"
signals = { any_of = ["phone"], min_confidence = 0.5 }
action = "label"
automatic = true
strikes = 0
territorial_scope = "EEA"

"""


def test_a_new_post_under_two_automatic_rules_gets_both_decisions_and_the_stronger_effect(
    runtime: Runtime, make_user: MakeUser
) -> None:
    text = default_rulebook_text()
    first_rule = text.index("\n[[rules]]") + 1
    with runtime.db.session() as session:  # the label is evaluated first, then the removal
        publication.publish(session, text[:first_rule] + PHONE_LABEL + text[first_rule:], None)
    post_id = _post(runtime, make_user("author"), DOXX + " Call him on +1 202-456-1111.")
    with runtime.db.session() as session:
        decided = session.scalars(select(Decision).order_by(Decision.id)).all()
        assert [(d.rule_id, d.action) for d in decided] == [
            ("phone-label", "label"),
            ("doxxing", "remove"),
        ]
        effect = session.get_one(PostRestriction, post_id)
        assert (effect.action, effect.decision_id) == ("remove", decided[1].id)


def test_screening_a_post_again_takes_no_second_decision(
    runtime: Runtime, make_user: MakeUser
) -> None:
    post_id = _post(runtime, make_user("author"), DOXX)
    with runtime.db.session() as session:  # as an edit or a list change re-screens it
        post = session.get_one(Post, post_id)
        assert screen_post(session, runtime.services, post, new=False) == []
    with runtime.db.session() as session:
        assert [d.rule_id for d in session.scalars(select(Decision))] == ["doxxing"]


def test_doxxing_post_is_removed_at_once_and_account_stays_active(
    runtime: Runtime, make_user: MakeUser
) -> None:
    author = make_user("author")
    post_id = _post(runtime, author, DOXX)
    with runtime.db.session() as session:
        decision = session.scalars(select(Decision)).one()
        assert (decision.rule_id, decision.action, decision.automated_decision) == (
            "doxxing",
            "remove",
            "fully",
        )
        statement = json.loads(decision.statement_json)
        assert statement["automated_detection"] == "Yes"
        assert "536-90-4399" not in decision.facts
        assert "536-90-4399" not in decision.statement_json
        assert "1600 Pennsylvania" not in decision.facts
        with pytest.raises(NotFound, match="doxxing"):
            posts.get_visible_post(session, load_viewer(session, None), post_id)
    assert "rule 'doxxing'" in outbox_messages(runtime.settings)[-1]
    assert _post(runtime, author, "still allowed to post")  # the account is active


def test_ordinary_posts_are_not_touched(runtime: Runtime, make_user: MakeUser) -> None:
    author = make_user("author")
    _post(runtime, author, "Meet at 12 rue de la Paix on 2024-11-03, order 123-45-6789.")
    with runtime.db.session() as session:
        assert session.scalars(select(Decision)).all() == []


def test_screening_an_ordinary_post_reads_the_database_once(
    runtime: Runtime, make_user: MakeUser, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The rulebook and list state, the author's recent posting and whether the post attaches a
    # document come in one statement (on PostgreSQL, each statement is a round trip).
    author = make_user("author")
    _post(runtime, author, "The first post loads the rulebook and lists.")
    statements: list[str] = []
    execute = HotSQL._execute

    def counted(self: HotSQL, source: Any, params: Any) -> Any:
        statements.append(self.text)
        return execute(self, source, params)

    monkeypatch.setattr(HotSQL, "_execute", counted)
    with runtime.db.session() as session:
        me = session.get_one(User, author.id)
        post = posts.create_post(session, runtime.settings, me, PostDraft(body="Hello, square!"))
        session.flush()
        orm: list[str] = []

        def through_sqlalchemy(_conn: Any, _cursor: Any, statement: str, *_rest: Any) -> None:
            orm.append(statement)

        engine = session.get_bind()
        event.listen(engine, "before_cursor_execute", through_sqlalchemy)
        try:
            statements.clear()
            assert screen_post(session, runtime.services, post) == []
        finally:
            event.remove(engine, "before_cursor_execute", through_sqlalchemy)
    assert len(statements) == 1
    assert orm == []


def _post_with_pdf(runtime: Runtime, author: User, body: str, pdf: bytes, name: str) -> int:
    with runtime.db.session() as session:
        publication.ensure_default(session)
        me = session.get_one(User, author.id)
        upload = media.store_upload(session, runtime.settings, me, filename=name, data=pdf)
        return posts.create_post(
            session,
            runtime.settings,
            me,
            PostDraft(body=body, attachment_ids=[upload.id]),
            services=runtime.services,
        ).id


def _decisions_on(runtime: Runtime, subject_type: str, key: str) -> list[Decision]:
    with runtime.db.session() as session:
        return list(
            session.scalars(
                select(Decision).where(
                    Decision.subject_type == subject_type, Decision.subject_key == key
                )
            )
        )


def test_doxxing_in_an_attached_document_removes_the_post(
    runtime: Runtime, make_user: MakeUser
) -> None:
    author = make_user("uploader")
    post_id = _post_with_pdf(runtime, author, "The file, for the record.", dossier(), "file.pdf")
    (decision,) = _decisions_on(runtime, "post", str(post_id))
    assert (decision.rule_id, decision.action, decision.state) == ("doxxing", "remove", "in_effect")
    assert "the attached document" in decision.facts
    assert "536-90-4399" not in decision.statement_json
    assert _post(runtime, author, "still allowed to post")  # the account stays active


def test_flooding_restricts_posting_by_an_automatic_decision(
    runtime: Runtime, make_user: MakeUser
) -> None:
    spammer = make_user("spammer")
    for _ in range(4):
        _post(runtime, spammer, "Cheap followers at spam.example")
    assert _decisions_on(runtime, "account", str(spammer.id)) == []
    _post(runtime, spammer, "cheap followers at  spam.example")
    (decision,) = _decisions_on(runtime, "account", str(spammer.id))
    assert (decision.rule_id, decision.action) == ("spam-flooding", "restrict_account")
    assert "duplicates" in decision.facts
    with pytest.raises(PermissionDenied):
        _post(runtime, spammer, "something new")


def test_copies_older_than_an_hour_and_posts_older_than_a_minute_do_not_count(
    runtime: Runtime, make_user: MakeUser
) -> None:
    poster = make_user("regular")
    for _ in range(19):  # each copy is moved back in time before the next is posted
        copy = _post(runtime, poster, "Good morning, square!")
        with runtime.db.session() as session:
            session.execute(
                update(Post)
                .where(Post.id == copy)
                .values(created_at=utcnow() - timedelta(hours=1, minutes=1))
            )
    assert _decisions_on(runtime, "account", str(poster.id)) == []
    _post(runtime, poster, "good morning,   square!")
    assert _decisions_on(runtime, "account", str(poster.id)) == []


def test_an_edited_post_counts_as_a_copy_of_its_new_text(
    runtime: Runtime, make_user: MakeUser
) -> None:
    spammer = make_user("editor")
    first = _post(runtime, spammer, "An honest first post")
    key = _edit(runtime, spammer, first, "Cheap followers at spam.example")
    assert key == text_key("cheap followers at spam.example")
    for _ in range(3):
        _post(runtime, spammer, "Cheap followers at spam.example")
    assert _decisions_on(runtime, "account", str(spammer.id)) == []
    _post(runtime, spammer, "Cheap followers at spam.example")  # the fifth copy, the edit's too
    (decision,) = _decisions_on(runtime, "account", str(spammer.id))
    assert "duplicates" in decision.facts


def test_watched_words_propose_review_and_never_act_alone(
    runtime: Runtime, make_user: MakeUser
) -> None:
    author, moderator = make_user("someone"), make_user("mod", role=Role.MODERATOR)
    with runtime.db.session() as session:
        publication.ensure_default(session)
        lists.add_entry(
            session,
            session.get_one(User, moderator.id),
            kind="word",
            value="Vermin",
            rule_id="harassment",
            list_name=lists.WATCHED_WORDS,
        )
    post_id = _post(runtime, author, "You are vermin, all of you.")
    (decision,) = _decisions_on(runtime, "post", str(post_id))
    assert (decision.rule_id, decision.state) == ("harassment", "proposed")
    assert "watched_words" in decision.facts
    assert _post(runtime, author, "Verminous is not the word.") > post_id


def test_a_resaved_copy_of_a_listed_document_is_proposed_by_fingerprint(
    runtime: Runtime, make_user: MakeUser
) -> None:
    first, second = make_user("first"), make_user("second")
    moderator = make_user("mod", role=Role.MODERATOR)
    _post_with_pdf(runtime, first, "Look", dossier(), "a.pdf")
    with runtime.db.session() as session:
        entry, _ = lists.add_entry(
            session,
            session.get_one(User, moderator.id),
            kind="document",
            value=hashlib.sha256(dossier()).hexdigest(),
            rule_id="hacked-materials",
        )
        assert entry.fingerprint
    copy = dossier(title="Totally different name")
    post_id = _post_with_pdf(runtime, second, "Found this", copy, "other.pdf")
    rules = {(d.rule_id, d.state) for d in _decisions_on(runtime, "post", str(post_id))}
    assert ("hacked-materials", "proposed") in rules
    assert ("doxxing", "in_effect") in rules


def test_an_edit_that_adds_doxxing_is_caught_like_a_new_post(
    runtime: Runtime, make_user: MakeUser
) -> None:
    author = make_user("author")
    post_id = _post(runtime, author, "Found him, details soon.")
    with runtime.db.session() as session:
        assert session.scalars(select(Decision)).all() == []
    _edit(runtime, author, post_id, DOXX)
    with runtime.db.session() as session:
        decision = session.scalars(select(Decision)).one()
        assert (decision.subject_key, decision.rule_id, decision.action) == (
            str(post_id),
            "doxxing",
            "remove",
        )
        with pytest.raises(NotFound, match="doxxing"):
            posts.get_visible_post(session, load_viewer(session, None), post_id)

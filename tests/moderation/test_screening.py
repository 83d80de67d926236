"""Doxxing is kept out of public view at once, by an automated decision citing the rule, while
the author's account stays active; ordinary posts and partial data are left alone."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from parvis.accounts.models import User
from parvis.errors import NotFound
from parvis.moderation import publication
from parvis.moderation.evaluate import evaluate
from parvis.moderation.models import Decision
from parvis.moderation.rulebook import default_rulebook
from parvis.moderation.signals import inline
from parvis.runtime import Runtime
from parvis.social import posts
from parvis.social.posts import PostDraft
from parvis.social.visibility import load_viewer
from tests.conftest import MakeUser, outbox_messages

DOXX = "Found him: John Roe, SSN 536-90-4399, lives at 1600 Pennsylvania Avenue."


def _post(runtime: Runtime, author: User, body: str) -> int:
    with runtime.db.session() as session:
        publication.ensure_default(session)
        me = session.get_one(User, author.id)
        return posts.create_post(
            session, runtime.settings, me, PostDraft(body=body), services=runtime.services
        ).id


def test_evaluation_is_deterministic_and_needs_both_signals() -> None:
    rulebook = default_rulebook()
    both = evaluate(rulebook, inline.detect(DOXX))
    assert [p.rule.id for p in both] == ["doxxing"]
    assert [p.rule.id for p in evaluate(rulebook, inline.detect(DOXX))] == ["doxxing"]
    assert evaluate(rulebook, inline.detect("SSN 536-90-4399 only")) == []


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

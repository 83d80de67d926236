"""Shared moderation test data: rules, a post, and a decision on it."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from parvis.accounts.models import User
from parvis.moderation import decisions, publication
from parvis.moderation.decisions import DecisionRequest
from parvis.moderation.models import Action, Automation, Decision, Source, SubjectType
from parvis.moderation.reasons import RuleInfo
from parvis.moderation.services import take_decision
from parvis.runtime import Runtime
from parvis.social import posts
from parvis.social.posts import PostDraft
from tests.api.conftest import token_for  # noqa: F401 - the API fixture, shared here


def post_screened(runtime: Runtime, author: User, body: str) -> int:
    """Publish a post as its author does, screened under the default rulebook; its id."""
    with runtime.db.session() as session:
        publication.ensure_default(session)
        me = session.get_one(User, author.id)
        return posts.create_post(
            session, runtime.settings, me, PostDraft(body=body), services=runtime.services
        ).id


HARASSMENT = RuleInfo(
    id="harassment",
    version=1,
    title="Harassment",
    text="Do not target a person with repeated abuse.",
    ground="terms",
    legal_reference="",
    terms_clause="Terms of service, clause 3 (harassment)",
    category="STATEMENT_CATEGORY_CYBER_VIOLENCE",
    keywords=("KEYWORD_CYBER_HARASSMENT",),
)


@pytest.fixture
def post_by(runtime: Runtime) -> Callable[[User, str], int]:
    """Publish a post as a member and return its id."""

    def factory(author: User, body: str = "some words") -> int:
        with runtime.db.session() as session:
            me = session.get_one(User, author.id)
            return posts.create_post(session, runtime.settings, me, PostDraft(body=body)).id

    return factory


@pytest.fixture
def remove_post(runtime: Runtime) -> Callable[[int, User], Decision]:
    """Remove a post by a moderator's decision citing the harassment rule."""

    def factory(post_id: int, moderator: User) -> Decision:
        with runtime.db.session() as session:
            publication.ensure_default(session)  # the version HARASSMENT cites, as in use
            return decisions.decide(
                session,
                DecisionRequest(
                    subject_type=SubjectType.POST,
                    subject_key=str(post_id),
                    action=Action.REMOVE,
                    rule=HARASSMENT,
                    facts="The post repeatedly insulted a named member.",
                    source=Source.NOTICE,
                    automated_detection=False,
                    automated_decision=Automation.NOT_AUTOMATED,
                    decided_by_id=moderator.id,
                ),
            )

    return factory


RemoveOnNotice = Callable[[int], int]


@pytest.fixture
def remove_on_notice(runtime: Runtime) -> RemoveOnNotice:
    """Remove a post on a notice, as the service does for a decision taken outside screening
    (decided, then told in the same transaction); returns the decision's id."""

    def factory(post_id: int) -> int:
        with runtime.db.session() as session:
            return take_decision(
                session,
                runtime.services,
                DecisionRequest(
                    subject_type=SubjectType.POST,
                    subject_key=str(post_id),
                    action=Action.REMOVE,
                    rule=HARASSMENT,
                    facts="The post insulted a member repeatedly.",
                    source=Source.NOTICE,
                    automated_detection=False,
                    automated_decision=Automation.FULLY,
                ),
            ).id

    return factory

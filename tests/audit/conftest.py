"""Shared fixtures for the provable log: decisions to log, the key, a live server."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from fastapi import FastAPI

from parvis.accounts.models import Role, User
from parvis.audit import keys
from parvis.config import Settings
from parvis.moderation import decisions
from parvis.moderation.decisions import DecisionRequest
from parvis.moderation.models import Action, Automation, Decision, Source, SubjectType
from parvis.runtime import Runtime
from parvis.social import posts
from parvis.social.posts import PostDraft
from tests.conftest import MakeUser
from tests.moderation.conftest import HARASSMENT
from tests.servers import serve

Decide = Callable[..., Decision]


@pytest.fixture
def moderator(make_user: MakeUser) -> User:
    """A moderator (their role is the log's first leaves)."""
    return make_user("mod", role=Role.MODERATOR)


@pytest.fixture
def decide_post(runtime: Runtime, make_user: MakeUser, moderator: User) -> Decide:
    """Write a post by a fresh member and take a decision on it; returns the decision."""
    counter = iter(range(1, 10_000))

    def factory(action: Action = Action.REMOVE, *, propose: bool = False) -> Decision:
        author = make_user(f"author{next(counter)}")
        with runtime.db.session() as session:
            me = session.get_one(User, author.id)
            post = posts.create_post(session, runtime.settings, me, PostDraft(body="words"))
            return decisions.decide(
                session,
                DecisionRequest(
                    subject_type=SubjectType.POST,
                    subject_key=str(post.id),
                    action=action,
                    rule=HARASSMENT,
                    facts="The post repeatedly insulted a named member.",
                    source=Source.NOTICE,
                    automated_detection=propose,
                    automated_decision=Automation.FULLY if propose else Automation.NOT_AUTOMATED,
                    decided_by_id=None if propose else moderator.id,
                    propose=propose,
                ),
            )

    return factory


@pytest.fixture
def public_key(settings: Settings) -> bytes:
    """The instance's published key."""
    return keys.public_key_bytes(keys.signing_key(settings))


@pytest.fixture
def live_server(app: FastAPI) -> Iterator[str]:
    """The app served over real HTTP on 127.0.0.1."""
    yield from serve(app)

"""Helpers for social-core tests: write posts as a member in one call."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from parvis.accounts.models import User
from parvis.runtime import Runtime
from parvis.social import posts
from parvis.social.posts import PostDraft

Write = Callable[..., int]


@pytest.fixture
def write(runtime: Runtime) -> Write:
    """Publish a post as `author` and return its id."""

    def factory(author: User, body: str, **kwargs: Any) -> int:
        with runtime.db.session() as session:
            me = session.get_one(User, author.id)
            return posts.create_post(
                session, runtime.settings, me, PostDraft(body=body, **kwargs)
            ).id

    return factory

"""Web test helpers: read CSRF tokens from pages, log in through the form, and a live server
with a real Chromium for browser tests."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from starlette.testclient import TestClient

from parvis.accounts.models import User
from parvis.runtime import Runtime
from parvis.social import posts
from parvis.social.models import Post
from parvis.social.posts import PostDraft
from tests.conftest import PASSWORD
from tests.servers import CHROMIUM as CHROMIUM
from tests.servers import CHROMIUM_ARGS as CHROMIUM_ARGS  # tests/live imports them from here
from tests.servers import chromium, serve


def csrf(client: TestClient, path: str = "/login") -> str:
    """The CSRF token printed in the page at `path`."""
    match = re.search(r'name="csrf_token" value="([^"]+)"', client.get(path).text)
    assert match, f"no CSRF token on {path}"
    return match.group(1)


def login(client: TestClient, username: str, password: str = PASSWORD) -> None:
    """Log in through the form, leaving the session cookie in the client."""
    response = client.post(
        "/login",
        data={"username": username, "password": password, "csrf_token": csrf(client)},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text


def form_post(
    client: TestClient,
    path: str,
    data: dict[str, Any] | None = None,
    page: str = "/",
    **kwargs: Any,
) -> Any:
    """POST a form with the CSRF token of the signed-in page."""
    return client.post(
        path,
        data={**(data or {}), "csrf_token": csrf(client, page)},
        follow_redirects=False,
        **kwargs,
    )


def make_post(runtime: Runtime, author: User, body: str = "hello", **draft: Any) -> Post:
    """Publish a post straight through the service (quicker than the form for set-up)."""
    with runtime.db.session() as session:
        me = session.get_one(User, author.id)
        return posts.create_post(session, runtime.settings, me, PostDraft(body=body, **draft))


@pytest.fixture
def live_server(app: FastAPI) -> Iterator[str]:
    """The app served by uvicorn on a free 127.0.0.1 port, for the browser."""
    yield from serve(app)


@pytest.fixture
def browser() -> Iterator[Any]:
    """Debian's Chromium driven by Playwright (skipped when Chromium is not installed)."""
    yield from chromium()

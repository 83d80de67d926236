"""Shield test helpers: an app built with chosen shield settings, bearer tokens and sessions
made straight in the database, and a client seen from a chosen address."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from starlette.testclient import TestClient, WebSocketDenialResponse

from parvis.accounts import services as accounts
from parvis.accounts.models import Role
from parvis.accounts.tokens import new_token
from parvis.api.models import OAuthApp, OAuthToken
from parvis.app import create_app
from parvis.config import Settings
from parvis.runtime import Runtime
from parvis.shield.middleware import ShieldState
from tests.clock import clear_of_the_edges_of
from tests.conftest import MakeUser

MakeApp = Callable[..., FastAPI]
ClientFor = Callable[..., TestClient]


@pytest.fixture
def make_app(settings: Settings) -> Iterator[MakeApp]:
    """Build the app with settings changed: `make_app(shield_reads_per_address="3/minute")`."""
    built: list[FastAPI] = []

    def factory(**overrides: Any) -> FastAPI:
        # The tests count requests exactly against these limits: keep clear of window edges.
        clear_of_the_edges_of(*(v for v in overrides.values() if isinstance(v, str)))
        changed = settings.model_copy(update=overrides)
        application = create_app(changed, migrate_on_start=False)
        built.append(application)
        return application

    yield factory
    for application in built:
        application.state.runtime.db.dispose()


@pytest.fixture
def client_for() -> Iterator[ClientFor]:
    """A TestClient (entered) whose requests come from `host`."""
    opened: list[TestClient] = []

    def factory(app: FastAPI, host: str = "203.0.113.7") -> TestClient:
        client = TestClient(app, client=(host, 40000))
        client.__enter__()
        opened.append(client)
        return client

    yield factory
    for client in opened:
        client.__exit__(None, None, None)


def shield_of(app: FastAPI) -> ShieldState:
    """The shield's parts of an app."""
    state: ShieldState = app.state.shield
    return state


def bearer_for(
    runtime: Runtime, make_user: MakeUser, username: str, role: Role = Role.MEMBER
) -> dict[str, str]:
    """Authorization headers with a fresh read/write token for a new member."""
    user = make_user(username, role=role)
    raw, hashed = new_token()
    with runtime.db.session() as session:
        app = OAuthApp(
            name=f"{username}-app",
            client_id=f"cid-{username}",
            client_secret_hash=new_token()[1],
            redirect_uris="urn:ietf:wg:oauth:2.0:oob",
            scopes="read write follow",
        )
        session.add(app)
        session.flush()
        session.add(
            OAuthToken(
                token_hash=hashed, app_id=app.id, user_id=user.id, scopes="read write follow"
            )
        )
    return {"Authorization": f"Bearer {raw}"}


def session_cookie_for(
    runtime: Runtime, make_user: MakeUser, username: str, role: Role = Role.MEMBER
) -> str:
    """A browser session cookie value for a new member."""
    user = make_user(username, role=role)
    with runtime.db.session() as session:
        raw, _ = accounts.start_web_session(session, runtime.settings, user)
    return raw


def second_handshake_refusal(client: TestClient, path: str) -> WebSocketDenialResponse:
    """Open a WebSocket at `path` twice; the second handshake's refusal (fails if it was not
    refused)."""
    with (
        contextlib.suppress(Exception),  # the first handshake reaches the endpoint
        client.websocket_connect(path),
    ):
        pass
    with pytest.raises(WebSocketDenialResponse) as refused, client.websocket_connect(path):
        pass
    return refused.value

"""API test helpers: register an app and get a member's bearer token through OAuth."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from starlette.testclient import TestClient

from parvis.accounts.models import Role
from parvis.moderation import publication
from parvis.moderation.decisions import DecisionRequest
from parvis.moderation.models import Action, Automation, Source, SubjectType
from parvis.moderation.services import take_decision
from parvis.runtime import Runtime
from tests.conftest import PASSWORD, MakeUser
from tests.servers import serve

Headers = dict[str, str]
TokenFor = Callable[..., Headers]
DecideOn = Callable[[str, Action], str]


def register_app(client: TestClient, scopes: str = "read write follow push") -> dict[str, Any]:
    """Register an out-of-band client app."""
    response = client.post(
        "/api/v1/apps",
        data={
            "client_name": "Test app",
            "redirect_uris": "urn:ietf:wg:oauth:2.0:oob",
            "scopes": scopes,
            "website": "https://app.example",
        },
    )
    assert response.status_code == 200, response.text
    app: dict[str, Any] = response.json()
    return app


@pytest.fixture
def token_for(client: TestClient, make_user: MakeUser) -> TokenFor:
    """Create a member (if needed) and return Authorization headers for them."""
    app = register_app(client, "read write follow push admin:read admin:write")

    def factory(
        username: str, scope: str = "read write follow", role: Role = Role.MEMBER
    ) -> Headers:
        make_user(username, role=role)
        response = client.post(
            "/oauth/token",
            data={
                "grant_type": "password",
                "client_id": app["client_id"],
                "client_secret": app["client_secret"],
                "username": f"{username}@example.org",
                "password": PASSWORD,
                "scope": scope,
            },
        )
        assert response.status_code == 200, response.text
        return {"Authorization": f"Bearer {response.json()['access_token']}"}

    return factory


def post_status(client: TestClient, headers: Headers, text: str, **extra: str) -> dict[str, Any]:
    """Create a status and return its entity."""
    response = client.post("/api/v1/statuses", data={"status": text, **extra}, headers=headers)
    assert response.status_code == 200, response.text
    status: dict[str, Any] = response.json()
    return status


def app_token(client: TestClient, app: dict[str, Any], scope: str = "read write") -> Headers:
    """Authorization headers for a client-credentials token (the app acting for itself)."""
    response = client.post(
        "/oauth/token",
        data={
            "grant_type": "client_credentials",
            "client_id": app["client_id"],
            "client_secret": app["client_secret"],
            "scope": scope,
        },
    )
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def my_id(client: TestClient, headers: Headers) -> str:
    """The account id behind a member's token."""
    response = client.get("/api/v1/accounts/verify_credentials", headers=headers)
    assert response.status_code == 200, response.text
    account_id: str = response.json()["id"]
    return account_id


def ids(client: TestClient, path: str, headers: Headers | None = None) -> list[str]:
    """The ids of the entities a list endpoint returns (asserting success)."""
    response = client.get(path, headers=headers or {})
    assert response.status_code == 200, response.text
    return [item["id"] for item in response.json()]


@pytest.fixture
def live_api(app: FastAPI) -> Iterator[str]:
    """The app served by uvicorn on a free 127.0.0.1 port, for real client libraries."""
    yield from serve(app)


@pytest.fixture
def rulebook(runtime: Runtime) -> None:
    """Publish the default rulebook (the app under test does not run its start-up)."""
    with runtime.db.session() as session:
        publication.ensure_default(session)


@pytest.fixture
def decide_on(runtime: Runtime, make_user: MakeUser, rulebook: None) -> DecideOn:
    """Restrict a status (by id) by a moderator's decision under the `harassment` rule, as the
    moderators' desk does; returns the decision's id."""
    moderator = make_user("decider", role=Role.MODERATOR)

    def factory(status_id: str, action: Action) -> str:
        with runtime.db.session() as session:
            stored = publication.get_version(session)
            rule = publication.parsed(stored).rule("harassment").info(stored.version)
            decision = take_decision(
                session,
                runtime.services,
                DecisionRequest(
                    subject_type=SubjectType.POST,
                    subject_key=status_id,
                    action=action,
                    rule=rule,
                    facts="The post repeatedly insulted a named member.",
                    source=Source.OWN_INITIATIVE,
                    automated_detection=False,
                    automated_decision=Automation.NOT_AUTOMATED,
                    decided_by_id=moderator.id,
                ),
            )
            return str(decision.id)

    return factory

"""API test helpers: register an app and get a member's bearer token through OAuth."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from starlette.testclient import TestClient

from parvis.accounts.models import Role
from tests.conftest import PASSWORD, MakeUser

Headers = dict[str, str]
TokenFor = Callable[..., Headers]


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
    app = register_app(client)

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

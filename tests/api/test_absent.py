"""Endpoints of features Parvis does not have: empty and true, never a 404 that breaks an app."""

from __future__ import annotations

import pytest
from starlette.testclient import TestClient

from tests.api.conftest import TokenFor

OWN = [
    "/api/v1/announcements",
    "/api/v1/lists",
    "/api/v1/conversations",
    "/api/v1/follow_requests",
    "/api/v1/followed_tags",
    "/api/v1/domain_blocks",
    "/api/v1/suggestions",
    "/api/v1/scheduled_statuses",
    "/api/v1/featured_tags",
    "/api/v1/endorsements",
]
PUBLIC = [
    "/api/v1/custom_emojis",
    "/api/v1/trends",
    "/api/v1/trends/tags",
    "/api/v1/trends/statuses",
    "/api/v1/trends/links",
]


@pytest.mark.parametrize("path", PUBLIC)
def test_public_collections_are_empty_lists(client: TestClient, path: str) -> None:
    response = client.get(path)
    assert (response.status_code, response.json()) == (200, [])


@pytest.mark.parametrize("path", OWN)
def test_a_members_own_collections_are_empty_and_need_a_token(
    client: TestClient, token_for: TokenFor, path: str
) -> None:
    assert client.get(path).status_code == 401
    response = client.get(path, headers=token_for("ana"))
    assert (response.status_code, response.json()) == (200, [])


def test_a_token_without_the_scope_is_refused(client: TestClient, token_for: TokenFor) -> None:
    writer = token_for("ana", scope="write")
    assert client.get("/api/v1/lists", headers=writer).status_code == 403


def test_creating_a_list_says_parvis_has_none(client: TestClient, token_for: TokenFor) -> None:
    response = client.post("/api/v1/lists", data={"title": "friends"}, headers=token_for("ana"))
    assert response.status_code == 422
    assert "no lists" in response.json()["error"]


def test_push_subscriptions_say_parvis_streams_instead(
    client: TestClient, token_for: TokenFor
) -> None:
    path = "/api/v1/push/subscription"
    assert client.get(path).status_code == 401
    assert client.get(path, headers=token_for("ana", scope="read")).status_code == 403
    bob = token_for("bob", scope="read write push")
    shown = client.get(path, headers=bob)
    assert shown.status_code == 404
    assert "streaming" in shown.json()["error"]
    created = client.post(
        path,
        json={"subscription": {"endpoint": "https://push.example/x", "keys": {}}},
        headers=bob,
    )
    assert created.status_code == 422
    assert "does not send Web Push" in created.json()["error"]
    assert client.put(path, json={}, headers=bob).status_code == 422
    deleted = client.delete(path, headers=bob)
    assert (deleted.status_code, deleted.json()) == (200, {})

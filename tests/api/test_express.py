"""The express lane answers the busiest timelines exactly as the routes would, and hands every
request it would refuse to the app, which answers with its usual errors."""

from __future__ import annotations

import pytest
from starlette.requests import Request
from starlette.responses import Response
from starlette.testclient import TestClient

from parvis.api import express
from tests.api.conftest import TokenFor, post_status

LANE_PATHS = ["/api/v1/timelines/home?limit=2", "/api/v1/timelines/public?limit=2"]


def _answer(client: TestClient, path: str, headers: dict[str, str]) -> tuple[int, str, str]:
    response = client.get(path, headers=headers)
    return response.status_code, response.text, response.headers.get("link", "")


@pytest.mark.parametrize("path", LANE_PATHS)
def test_lane_answers_like_the_route(
    client: TestClient, token_for: TokenFor, monkeypatch: pytest.MonkeyPatch, path: str
) -> None:
    ana = token_for("ana")
    for n in range(3):
        post_status(client, ana, f"post {n}")
    lanes_used: list[str] = []
    for route, endpoint in list(express.LANES.items()):

        async def counted(request: Request, endpoint: express.Endpoint = endpoint) -> Response:
            lanes_used.append(request.url.path)
            return await endpoint(request)

        monkeypatch.setitem(express.LANES, route, counted)
    through_lane = _answer(client, path, ana)
    assert len(lanes_used) == 1
    monkeypatch.setattr(express, "LANES", {})
    through_route = _answer(client, path, ana)
    assert len(lanes_used) == 1
    assert through_lane == through_route
    assert through_lane[0] == 200
    assert len(client.get(path, headers=ana).json()) == 2


def test_lane_keeps_the_app_wide_headers(client: TestClient, token_for: TokenFor) -> None:
    response = client.get("/api/v1/timelines/home", headers=token_for("ana"))
    assert response.status_code == 200
    assert response.headers["x-content-type-options"] == "nosniff"
    assert "x-ratelimit-limit" in response.headers


@pytest.mark.parametrize(
    ("path", "headers", "status", "says"),
    [
        ("/api/v1/timelines/home", {}, 401, "requires an authenticated user"),
        ("/api/v1/timelines/home", {"Authorization": "Bearer nope"}, 401, "invalid"),
        ("/api/v1/timelines/home?limit=abc", None, 422, "limit must be"),
        ("/api/v1/timelines/public?max_id=x1", None, 422, "Invalid id"),
    ],
)
def test_refusals_come_from_the_app(
    client: TestClient,
    token_for: TokenFor,
    path: str,
    headers: dict[str, str] | None,
    status: int,
    says: str,
) -> None:
    response = client.get(path, headers=token_for("ana") if headers is None else headers)
    assert response.status_code == status
    assert says in response.json()["error"]


def test_token_without_read_scope_is_refused(client: TestClient, token_for: TokenFor) -> None:
    write_only = token_for("ana", scope="write")
    response = client.get("/api/v1/timelines/home", headers=write_only)
    assert response.status_code == 403
    assert "read:statuses" in response.json()["error"]
    assert client.get("/api/v1/timelines/public", headers=write_only).status_code == 403


def test_other_methods_and_paths_skip_the_lane(client: TestClient, token_for: TokenFor) -> None:
    ana = token_for("ana")
    assert client.post("/api/v1/timelines/home", headers=ana).status_code == 405
    assert client.get("/api/v1/timelines/tag/parvis", headers=ana).status_code == 200

"""Browser apps on other origins may call the API (as Mastodon allows), without credentials;
HTML pages stay same-origin."""

from __future__ import annotations

from starlette.testclient import TestClient

from parvis.app import create_app
from parvis.config import Settings
from tests.api.conftest import TokenFor

ORIGIN = {"origin": "https://elk.example"}


def test_a_preflight_for_the_home_timeline_is_allowed(client: TestClient) -> None:
    response = client.options(
        "/api/v1/timelines/home",
        headers={
            **ORIGIN,
            "access-control-request-method": "GET",
            "access-control-request-headers": "authorization",
        },
    )
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == "*"
    assert "authorization" in response.headers["access-control-allow-headers"].lower()
    assert "access-control-allow-credentials" not in response.headers


def test_api_answers_are_readable_cross_origin_with_their_headers(
    client: TestClient, token_for: TokenFor
) -> None:
    response = client.get("/api/v1/timelines/home", headers={**ORIGIN, **token_for("ana")})
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == "*"
    exposed = response.headers["access-control-expose-headers"].lower()
    assert "link" in exposed
    assert "x-ratelimit-remaining" in exposed
    for path in ("/.well-known/nodeinfo", "/api/v1/instance"):
        answer = client.get(path, headers=ORIGIN)
        assert answer.headers.get("access-control-allow-origin") == "*", path
    token = client.post("/oauth/token", data={"grant_type": "password"}, headers=ORIGIN)
    assert token.headers.get("access-control-allow-origin") == "*"  # even its errors


def test_pages_and_the_consent_page_stay_same_origin(client: TestClient) -> None:
    for path in ("/public", "/oauth/authorize?client_id=x&response_type=code", "/rules"):
        response = client.get(path, headers=ORIGIN)
        assert "access-control-allow-origin" not in response.headers, path
    preflight = client.options(
        "/login", headers={**ORIGIN, "access-control-request-method": "POST"}
    )
    assert "access-control-allow-origin" not in preflight.headers


def test_a_refusal_by_the_shield_is_readable_by_the_app(settings: Settings) -> None:
    strict = settings.model_copy(update={"shield_reads_per_address": "1/hour"})
    app = create_app(strict, migrate_on_start=False)
    try:
        with TestClient(app, client=("203.0.113.7", 40000)) as client:
            assert client.get("/api/v1/instance", headers=ORIGIN).status_code == 200
            refused = client.get("/api/v1/instance", headers=ORIGIN)
    finally:
        app.state.runtime.db.dispose()
    assert refused.status_code == 429
    assert refused.headers["access-control-allow-origin"] == "*"
    assert "retry-after" in refused.headers["access-control-expose-headers"].lower()

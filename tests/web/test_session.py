"""The session cookie and CSRF protection: forged, missing, stale or foreign tokens change
nothing; cookie attributes follow the contract shared with the OAuth consent page."""

from __future__ import annotations

import pytest
from fastapi import FastAPI
from sqlalchemy import func, select
from starlette.testclient import TestClient

from parvis.accounts.models import User
from parvis.app import create_app
from parvis.config import Settings
from parvis.runtime import Runtime
from parvis.social.models import Follow, Post, Vote
from parvis.web import session as web_session
from tests.conftest import PASSWORD, MakeUser
from tests.web.conftest import csrf, login, make_post

CSRF_MESSAGE = "CSRF check failed"


def _count(runtime: Runtime, model: type[object]) -> int:
    with runtime.db.session() as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def _signup_data(token: str) -> dict[str, str]:
    return {
        "username": "forger",
        "email": "f@example.org",
        "password": "violet tractor anthem 1987 quietly",
        "csrf_token": token,
    }


def test_anonymous_forms_need_a_signed_token_bound_to_the_browser(
    client: TestClient, app: FastAPI, runtime: Runtime
) -> None:
    before = _count(runtime, User)
    for token in ("", "forged", "a" * 64):
        refused = client.post("/signup", data=_signup_data(token))
        assert refused.status_code == 403
        assert CSRF_MESSAGE in refused.text
    # A genuine token lifted from another browser does not match this browser's cookie.
    other = TestClient(app)
    stolen = csrf(other, "/signup")
    assert client.post("/signup", data=_signup_data(stolen)).status_code == 403
    # Nor does a token posted by a browser that never got the cookie.
    assert TestClient(app).post("/signup", data=_signup_data(stolen)).status_code == 403
    assert _count(runtime, User) == before


def test_stale_anonymous_token_is_refused(
    client: TestClient, runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    token = csrf(client, "/signup")
    monkeypatch.setattr(web_session, "ANONYMOUS_TOKEN_SECONDS", -1)
    response = client.post("/signup", data=_signup_data(token))
    assert response.status_code == 403
    assert _count(runtime, User) == 0


def test_signed_in_forms_need_the_session_token(
    client: TestClient, make_user: MakeUser, runtime: Runtime
) -> None:
    ana = make_user("ana")
    bob = make_user("bob")
    post = make_post(runtime, bob, "vote on me")
    login(client, "ana")
    anonymous_token = csrf(TestClient(client.app), "/login")
    attempts = [
        ("/compose", {"body": "forged post"}),
        (f"/posts/{post.id}/vote", {"value": "1"}),
        ("/@bob/follow", {}),
        ("/settings/password", {"current_password": PASSWORD, "new_password": "x" * 20}),
    ]
    for path, data in attempts:
        for token in ("", "forged", anonymous_token):
            response = client.post(path, data={**data, "csrf_token": token})
            assert response.status_code == 403, (path, token)
            assert CSRF_MESSAGE in response.text
    assert _count(runtime, Post) == 1
    assert _count(runtime, Vote) == 0
    assert _count(runtime, Follow) == 0
    client.cookies.clear()
    login(client, "ana")  # the password did not change
    assert ana.id != bob.id


def test_htmx_sends_the_token_in_a_header(
    client: TestClient, make_user: MakeUser, runtime: Runtime
) -> None:
    make_user("ana")
    bob = make_user("bob")
    post = make_post(runtime, bob, "vote on me")
    login(client, "ana")
    page = client.get("/")
    token = csrf(client, "/")
    assert f'"X-CSRF-Token": "{token}"' in page.text
    forged = client.post(
        f"/posts/{post.id}/vote",
        data={"value": "1"},
        headers={"HX-Request": "true", "X-CSRF-Token": "forged"},
    )
    assert forged.status_code == 403
    ok = client.post(
        f"/posts/{post.id}/vote",
        data={"value": "1"},
        headers={"HX-Request": "true", "X-CSRF-Token": token},
    )
    assert ok.status_code == 200
    assert _count(runtime, Vote) == 1


def test_session_cookie_is_secure_when_configured(settings: Settings, make_user: MakeUser) -> None:
    make_user("ana")
    https = settings.model_copy(update={"base_url": "https://testserver"})
    secure = create_app(https, migrate_on_start=False)
    try:
        with TestClient(secure, base_url="https://testserver") as client:
            response = client.post(
                "/login",
                data={"username": "ana", "password": PASSWORD, "csrf_token": csrf(client)},
                follow_redirects=False,
            )
            cookie = response.headers["set-cookie"].lower()
            assert "parvis_session=" in cookie
            assert "secure" in cookie
            assert "httponly" in cookie
            assert "samesite=lax" in cookie
    finally:
        secure.state.runtime.db.dispose()


def test_unknown_session_cookie_is_cleared(client: TestClient) -> None:
    client.cookies.set("parvis_session", "not-a-session")
    response = client.get("/public")
    assert response.status_code == 200
    assert 'parvis_session=""' in response.headers.get("set-cookie", "")
    assert "Log in" in response.text


def test_security_headers_on_pages_and_error_pages(client: TestClient) -> None:
    for path, status in (("/public", 200), ("/@nobody", 404), ("/login", 200)):
        response = client.get(path)
        assert response.status_code == status
        assert "default-src 'self'" in response.headers["content-security-policy"]
        assert "script-src 'self'" in response.headers["content-security-policy"]
        assert response.headers["x-frame-options"] == "DENY"
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["referrer-policy"] == "same-origin"
        assert "<script>" not in response.text  # no inline scripts: the CSP would block them
    assert client.get("/static/parvis.css").status_code == 200
    assert client.get("/static/htmx-2.0.11.min.js").status_code == 200

"""OAuth 2: app registration, the three grants, PKCE, consent page, revocation."""

from __future__ import annotations

import base64
import hashlib
import re
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import select
from starlette.testclient import TestClient

from parvis.accounts import services as accounts
from parvis.accounts.tokens import hash_token
from parvis.api import oauth
from parvis.api.models import OAuthCode
from parvis.config import Settings
from parvis.errors import InvalidInput
from parvis.runtime import Runtime
from parvis.storage.base import utcnow
from tests.api.conftest import register_app
from tests.conftest import PASSWORD, MakeUser


def test_password_grant_errors_follow_rfc6749(client: TestClient, make_user: MakeUser) -> None:
    make_user("ana")
    app = register_app(client)
    base = {"client_id": app["client_id"], "client_secret": app["client_secret"]}
    wrong = client.post(
        "/oauth/token",
        data={**base, "grant_type": "password", "username": "ana", "password": "nope"},
    )
    assert wrong.status_code == 400
    assert wrong.json()["error"] == "invalid_grant"
    bad_client = client.post(
        "/oauth/token", data={**base, "client_secret": "x", "grant_type": "password"}
    )
    assert bad_client.status_code == 401
    assert bad_client.json()["error"] == "invalid_client"
    unsupported = client.post("/oauth/token", data={**base, "grant_type": "magic"})
    assert unsupported.json()["error"] == "unsupported_grant_type"
    too_wide = client.post(
        "/oauth/token",
        data={
            **base,
            "grant_type": "password",
            "username": "ana",
            "password": PASSWORD,
            "scope": "admin:write",
        },
    )
    assert too_wide.json()["error"] == "invalid_scope"
    ok = client.post(
        "/oauth/token",
        json={
            **base,
            "grant_type": "password",
            "username": "ana@example.org",
            "password": PASSWORD,
        },
    )
    assert ok.status_code == 200
    assert ok.json()["token_type"] == "Bearer"


def test_client_credentials_token_acts_as_the_app_only(client: TestClient) -> None:
    app = register_app(client)
    response = client.post(
        "/oauth/token",
        data={
            "grant_type": "client_credentials",
            "client_id": app["client_id"],
            "client_secret": app["client_secret"],
            "scope": "read",
        },
    )
    headers = {"Authorization": f"Bearer {response.json()['access_token']}"}
    assert (
        client.get("/api/v1/apps/verify_credentials", headers=headers).json()["name"] == "Test app"
    )
    refused = client.get("/api/v1/accounts/verify_credentials", headers=headers)
    assert refused.status_code == 403


def _login_browser(client: TestClient, username: str) -> None:
    form = client.get("/login").text
    token = re.search(r'name="csrf_token" value="([^"]+)"', form)
    assert token
    response = client.post(
        "/login",
        data={"username": username, "password": PASSWORD, "csrf_token": token.group(1)},
        follow_redirects=False,
    )
    assert response.status_code == 303


def test_authorization_code_with_pkce_through_the_consent_page(
    client: TestClient, make_user: MakeUser
) -> None:
    make_user("ana")
    app = client.post(
        "/api/v1/apps",
        data={
            "client_name": "Phone app",
            "redirect_uris": "https://app.example/cb",
            "scopes": "read write",
        },
    ).json()
    verifier = "a-long-random-verifier-string-with-enough-entropy-123456"
    challenge = (
        base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    )
    query = (
        f"/oauth/authorize?client_id={app['client_id']}&redirect_uri=https://app.example/cb"
        f"&response_type=code&scope=read&state=xyz&code_challenge={challenge}&code_challenge_method=S256"
    )
    anonymous = client.get(query, follow_redirects=False)
    assert anonymous.status_code == 303
    assert anonymous.headers["location"].startswith("/login?next=")
    _login_browser(client, "ana")
    consent = client.get(query)
    assert "Authorize Phone app?" in consent.text
    fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', consent.text))
    answer = client.post(
        "/oauth/authorize", data={**fields, "decision": "approve"}, follow_redirects=False
    )
    location = urlsplit(answer.headers["location"])
    params = parse_qs(location.query)
    assert params["state"] == ["xyz"]
    code = params["code"][0]
    base = {
        "grant_type": "authorization_code",
        "client_id": app["client_id"],
        "code": code,
        "redirect_uri": "https://app.example/cb",
    }
    wrong = client.post("/oauth/token", data={**base, "code_verifier": "wrong"})
    assert wrong.json()["error"] == "invalid_grant"
    token = client.post("/oauth/token", data={**base, "code_verifier": verifier})
    assert token.status_code == 200, token.text
    headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
    assert (
        client.get("/api/v1/accounts/verify_credentials", headers=headers).json()["username"]
        == "ana"
    )
    reused = client.post("/oauth/token", data={**base, "code_verifier": verifier})
    assert "already used" in reused.json()["error_description"]


def test_revoked_token_is_refused(client: TestClient, make_user: MakeUser) -> None:
    make_user("ana")
    app = register_app(client)
    token = client.post(
        "/oauth/token",
        data={
            "grant_type": "password",
            "client_id": app["client_id"],
            "client_secret": app["client_secret"],
            "username": "ana",
            "password": PASSWORD,
        },
    ).json()["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/v1/accounts/verify_credentials", headers=headers).status_code == 200
    client.post(
        "/oauth/revoke",
        data={"token": token, "client_id": app["client_id"], "client_secret": app["client_secret"]},
    )
    refused = client.get("/api/v1/accounts/verify_credentials", headers=headers)
    assert refused.status_code == 401
    assert "revoked" in refused.json()["error"]


def _code(
    runtime: Runtime,
    client_id: str,
    username: str,
    redirect_uri: str = "https://app.example/cb",
    challenge: str | None = None,
    method: str | None = None,
    expired: bool = False,
) -> str:
    """Issue an authorization code as the consent page would after the member approved."""
    with runtime.db.session() as session:
        app = oauth.find_app(session, client_id)
        user = accounts.get_user_by_username(session, username)
        raw = oauth.issue_code(session, app, user, redirect_uri, "read", challenge, method)
        if expired:
            session.flush()
            row = session.scalar(select(OAuthCode).where(OAuthCode.code_hash == hash_token(raw)))
            assert row is not None
            row.expires_at = utcnow() - timedelta(seconds=1)
        return raw


def _web_app(client: TestClient, name: str = "Web app") -> dict[str, str]:
    response = client.post(
        "/api/v1/apps",
        data={"client_name": name, "redirect_uris": "https://app.example/cb", "scopes": "read"},
    )
    app: dict[str, str] = response.json()
    return app


def test_authorization_code_failures(
    client: TestClient, runtime: Runtime, make_user: MakeUser
) -> None:
    make_user("ana")
    app, other = _web_app(client), _web_app(client, "Other")
    base = {
        "grant_type": "authorization_code",
        "client_id": app["client_id"],
        "client_secret": app["client_secret"],
        "redirect_uri": "https://app.example/cb",
    }

    def exchange(code: str, **extra: str) -> dict[str, str]:
        response = client.post("/oauth/token", data={**base, "code": code, **extra})
        assert response.status_code in (400, 401), response.text
        body: dict[str, str] = response.json()
        return body

    expired = exchange(_code(runtime, app["client_id"], "ana", expired=True))
    assert (expired["error"], expired["error_description"]) == (
        "invalid_grant",
        "The authorization code has expired.",
    )
    foreign = exchange(_code(runtime, other["client_id"], "ana"))
    assert foreign["error"] == "invalid_grant"
    assert exchange("made-up")["error"] == "invalid_grant"
    moved = exchange(_code(runtime, app["client_id"], "ana"), redirect_uri="https://evil.example")
    assert "redirect_uri" in moved["error_description"]
    challenged = _code(runtime, app["client_id"], "ana", challenge="abc", method="S256")
    assert "code_verifier" in exchange(challenged)["error_description"]
    no_secret = {k: v for k, v in base.items() if k != "client_secret"}
    unproven = client.post(
        "/oauth/token", data={**no_secret, "code": _code(runtime, app["client_id"], "ana")}
    )
    assert (unproven.status_code, unproven.json()["error"]) == (401, "invalid_client")
    plain = _code(runtime, app["client_id"], "ana", challenge="plain-verifier", method="plain")
    ok = client.post(
        "/oauth/token", data={**no_secret, "code": plain, "code_verifier": "plain-verifier"}
    )
    assert ok.status_code == 200, ok.text
    assert ok.json()["scope"] == "read"
    with pytest.raises(InvalidInput):
        _code(runtime, app["client_id"], "ana", redirect_uri="https://elsewhere.example/cb")
    with pytest.raises(InvalidInput):
        _code(runtime, app["client_id"], "ana", challenge="abc", method="S512")


def test_consent_page_denial_returns_access_denied(client: TestClient, make_user: MakeUser) -> None:
    make_user("ana")
    app = _web_app(client)
    _login_browser(client, "ana")
    page = client.get(
        f"/oauth/authorize?client_id={app['client_id']}&redirect_uri=https://app.example/cb"
        "&response_type=code&scope=read&state=s1"
    )
    assert "Authorize Web app?" in page.text
    fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', page.text))
    answer = client.post(
        "/oauth/authorize", data={**fields, "decision": "deny"}, follow_redirects=False
    )
    params = parse_qs(urlsplit(answer.headers["location"]).query)
    assert params == {"error": ["access_denied"], "state": ["s1"]}
    unknown = client.get("/oauth/authorize?client_id=nope&redirect_uri=x&response_type=code")
    assert unknown.status_code == 404
    wide = client.get(
        f"/oauth/authorize?client_id={app['client_id']}&redirect_uri=https://app.example/cb"
        "&response_type=code&scope=write"
    )
    assert wide.status_code == 422


def test_revocation_checks_the_client(client: TestClient, make_user: MakeUser) -> None:
    make_user("ana")
    app = register_app(client)
    form = {
        "grant_type": "password",
        "client_id": app["client_id"],
        "client_secret": app["client_secret"],
        "username": "ana",
        "password": PASSWORD,
    }
    token = client.post("/oauth/token", json=form).json()["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    wrong = client.post(
        "/oauth/revoke",
        data={"token": token, "client_id": app["client_id"], "client_secret": "guess"},
    )
    assert (wrong.status_code, wrong.json()["error"]) == (401, "invalid_client")
    other = register_app(client)
    by_other = client.post(
        "/oauth/revoke",
        data={
            "token": token,
            "client_id": other["client_id"],
            "client_secret": other["client_secret"],
        },
    )
    assert by_other.json() == {}
    assert client.get("/api/v1/accounts/verify_credentials", headers=headers).status_code == 200
    unknown = client.post(
        "/oauth/revoke",
        json={
            "token": "never-issued",
            "client_id": app["client_id"],
            "client_secret": app["client_secret"],
        },
    )
    assert (unknown.status_code, unknown.json()) == (200, {})


def test_password_grant_is_throttled(
    client: TestClient, settings: Settings, make_user: MakeUser
) -> None:
    make_user("ana")
    app = register_app(client)
    form = {
        "grant_type": "password",
        "client_id": app["client_id"],
        "client_secret": app["client_secret"],
        "username": "ana@example.org",
        "password": "wrong",
    }
    statuses = [client.post("/oauth/token", data=form).status_code for _ in range(12)]
    assert statuses[0] == 400
    assert statuses[-1] == 429
    limited = client.post("/oauth/token", data={**form, "password": PASSWORD})
    assert limited.status_code == 429
    assert limited.json()["error"] == "invalid_grant"
    assert limited.headers["retry-after"] == str(settings.login_window_seconds)

"""OAuth 2: app registration, the three grants, PKCE, consent page, revocation."""

from __future__ import annotations

import base64
import hashlib
import re
from urllib.parse import parse_qs, urlsplit

from starlette.testclient import TestClient

from tests.api.conftest import register_app
from tests.conftest import PASSWORD, MakeUser


def test_app_registration_validates_input(client: TestClient) -> None:
    app = register_app(client)
    assert app["client_id"]
    assert app["client_secret"]
    assert app["redirect_uris"] == ["urn:ietf:wg:oauth:2.0:oob"]
    bad = client.post("/api/v1/apps", data={"client_name": "", "redirect_uris": "x"})
    assert bad.status_code == 422
    assert "client_name" in bad.json()["error"]
    scope = client.post(
        "/api/v1/apps",
        data={"client_name": "a", "redirect_uris": "urn:ietf:wg:oauth:2.0:oob", "scopes": "root"},
    )
    assert scope.status_code == 422


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

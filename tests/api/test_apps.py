"""Client app registration and the app's own credentials."""

from __future__ import annotations

from starlette.testclient import TestClient

from tests.api.conftest import app_token, register_app


def test_app_registration_validates_input(client: TestClient) -> None:
    app = register_app(client)
    assert app["client_id"]
    assert app["client_secret"]
    assert app["redirect_uris"] == ["urn:ietf:wg:oauth:2.0:oob"]
    assert app["scopes"] == ["read", "write", "follow", "push"]
    bad = client.post("/api/v1/apps", data={"client_name": "", "redirect_uris": "x"})
    assert bad.status_code == 422
    assert "client_name" in bad.json()["error"]
    scope = client.post(
        "/api/v1/apps",
        data={"client_name": "a", "redirect_uris": "urn:ietf:wg:oauth:2.0:oob", "scopes": "root"},
    )
    assert scope.status_code == 422
    assert "Unknown scope 'root'" in scope.json()["error"]
    relative = client.post("/api/v1/apps", data={"client_name": "a", "redirect_uris": "/cb"})
    assert "absolute URI" in relative.json()["error"]
    missing = client.post("/api/v1/apps", data={"client_name": "a"})
    assert "redirect_uris is required" in missing.json()["error"]


def test_app_registration_accepts_json_and_uri_arrays(client: TestClient) -> None:
    response = client.post(
        "/api/v1/apps",
        json={
            "client_name": "Two callbacks",
            "redirect_uris": ["https://a.example/cb", "app://callback"],
            "scopes": "read write:statuses",
        },
    )
    assert response.status_code == 200, response.text
    app = response.json()
    assert app["redirect_uris"] == ["https://a.example/cb", "app://callback"]
    assert app["redirect_uri"] == "https://a.example/cb\napp://callback"
    assert app["scopes"] == ["read", "write:statuses"]
    assert app["website"] is None
    nested = client.post("/api/v1/apps", json={"client_name": {"a": 1}})
    assert nested.status_code == 422
    not_json = client.post(
        "/api/v1/apps", content=b"{oops", headers={"content-type": "application/json"}
    )
    assert not_json.status_code == 422
    assert "not valid JSON" in not_json.json()["error"]


def test_verify_app_credentials(client: TestClient) -> None:
    app = register_app(client)
    headers = app_token(client, app, "read")
    shown = client.get("/api/v1/apps/verify_credentials", headers=headers).json()
    assert shown["name"] == "Test app"
    assert shown["website"] == "https://app.example"
    assert "client_secret" not in shown
    assert client.get("/api/v1/apps/verify_credentials").status_code == 401
    bogus = client.get("/api/v1/apps/verify_credentials", headers={"Authorization": "Bearer nope"})
    assert bogus.status_code == 401

"""/api/v1/markers as Mastodon apps use it: form or JSON saves, then a read of both."""

from __future__ import annotations

from starlette.testclient import TestClient

from tests.api.conftest import TokenFor


def test_apps_save_and_read_where_the_member_stopped(
    client: TestClient, token_for: TokenFor
) -> None:
    ana, bob = token_for("ana"), token_for("bob")
    path = "/api/v1/markers?timeline[]=home&timeline[]=notifications"
    assert client.get(path, headers=ana).json() == {}
    saved = client.post("/api/v1/markers", data={"home[last_read_id]": "103"}, headers=ana)
    assert saved.status_code == 200, saved.text
    assert saved.json()["home"]["last_read_id"] == "103"
    assert saved.json()["home"]["version"] == 1
    as_json = client.post(
        "/api/v1/markers",
        json={"home": {"last_read_id": "110"}, "notifications": {"last_read_id": "7"}},
        headers=ana,
    )
    assert as_json.status_code == 200, as_json.text
    read = client.get(path, headers=ana).json()
    assert (read["home"]["last_read_id"], read["home"]["version"]) == ("110", 2)
    assert read["notifications"]["last_read_id"] == "7"
    assert read["home"]["updated_at"].endswith("Z")
    assert client.get(path, headers=bob).json() == {}
    only_home = client.get("/api/v1/markers?timeline[]=home", headers=ana).json()
    assert list(only_home) == ["home"]


def test_bad_markers_are_refused_with_what_to_send(client: TestClient, token_for: TokenFor) -> None:
    ana = token_for("ana")
    assert client.get("/api/v1/markers").status_code == 401
    not_an_id = client.post("/api/v1/markers", data={"home[last_read_id]": "x1"}, headers=ana)
    assert not_an_id.status_code == 422
    assert "home[last_read_id]" in not_an_id.json()["error"]
    nothing = client.post("/api/v1/markers", data={"home": "1"}, headers=ana)
    assert nothing.status_code == 422
    reader = token_for("bob", scope="read")
    assert (
        client.post("/api/v1/markers", data={"home[last_read_id]": "1"}, headers=reader).status_code
        == 403
    )

"""Timelines obey follows, blocks and mutes; pagination uses Link headers."""

from __future__ import annotations

from starlette.testclient import TestClient

from tests.api.conftest import TokenFor, post_status


def _ids(client: TestClient, path: str, headers: dict[str, str]) -> list[str]:
    response = client.get(path, headers=headers)
    assert response.status_code == 200, response.text
    return [item["id"] for item in response.json()]


def test_home_follows_and_blocks(client: TestClient, token_for: TokenFor) -> None:
    ana, bob, big = token_for("ana"), token_for("bob"), token_for("big")
    bob_id = client.get("/api/v1/accounts/verify_credentials", headers=bob).json()["id"]
    big_id = client.get("/api/v1/accounts/verify_credentials", headers=big).json()["id"]
    for target in (bob_id, big_id):
        assert client.post(f"/api/v1/accounts/{target}/follow", headers=ana).json()["following"]
    from_bob = post_status(client, bob, "bob speaks")
    from_big = post_status(client, big, "big speaks @ana")
    assert _ids(client, "/api/v1/timelines/home", ana) == [from_big["id"], from_bob["id"]]
    blocked = client.post(f"/api/v1/accounts/{big_id}/block", headers=ana).json()
    assert blocked["blocking"]
    assert not blocked["following"]
    assert _ids(client, "/api/v1/timelines/home", ana) == [from_bob["id"]]
    assert from_big["id"] not in _ids(client, "/api/v1/timelines/public", ana)
    assert client.get(f"/api/v1/statuses/{from_big['id']}", headers=ana).status_code == 404
    assert client.get("/api/v1/notifications", headers=ana).json() == []
    search = client.get("/api/v2/search?q=speaks", headers=ana).json()
    assert [s["id"] for s in search["statuses"]] == [from_bob["id"]]
    assert [a["id"] for a in client.get("/api/v1/blocks", headers=ana).json()] == [big_id]


def test_mute_hides_from_home_but_not_relationship(client: TestClient, token_for: TokenFor) -> None:
    ana, bob = token_for("ana"), token_for("bob")
    bob_id = client.get("/api/v1/accounts/verify_credentials", headers=bob).json()["id"]
    client.post(f"/api/v1/accounts/{bob_id}/follow", headers=ana)
    post_status(client, bob, "noise")
    muted = client.post(f"/api/v1/accounts/{bob_id}/mute", headers=ana).json()
    assert muted["muting"]
    assert muted["following"]
    assert _ids(client, "/api/v1/timelines/home", ana) == []
    rel = client.get(f"/api/v1/accounts/relationships?id[]={bob_id}", headers=ana).json()
    assert rel[0]["muting"] is True


def test_link_header_pagination(client: TestClient, token_for: TokenFor) -> None:
    ana = token_for("ana")
    ids = [post_status(client, ana, f"post {n}")["id"] for n in range(5)]
    first = client.get("/api/v1/timelines/home?limit=2", headers=ana)
    assert [s["id"] for s in first.json()] == [ids[4], ids[3]]
    link = first.headers["link"]
    assert f"max_id={ids[3]}" in link
    assert 'rel="next"' in link
    older = _ids(client, f"/api/v1/timelines/home?limit=2&max_id={ids[3]}", ana)
    assert older == [ids[2], ids[1]]
    newer = _ids(client, f"/api/v1/timelines/home?limit=2&min_id={ids[1]}", ana)
    assert newer == [ids[3], ids[2]]
    assert client.get("/api/v1/timelines/home?limit=500", headers=ana).status_code == 422
    assert client.get("/api/v1/timelines/home?max_id=abc", headers=ana).status_code == 422


def test_public_and_tag_timelines(client: TestClient, token_for: TokenFor) -> None:
    ana, bob = token_for("ana"), token_for("bob")
    from_ana = post_status(client, ana, "#Market day")
    from_bob = post_status(client, bob, "#market too")
    quiet = post_status(client, bob, "unlisted #market", visibility="unlisted")
    everyone = _ids(client, "/api/v1/timelines/public", {})
    assert everyone[:2] == [from_bob["id"], from_ana["id"]]
    assert quiet["id"] not in everyone
    assert _ids(client, "/api/v1/timelines/tag/market", {}) == [from_bob["id"], from_ana["id"]]
    assert _ids(client, "/api/v1/timelines/tag/%23Market", {}) == [from_bob["id"], from_ana["id"]]
    bob_id = client.get("/api/v1/accounts/verify_credentials", headers=bob).json()["id"]
    client.post(f"/api/v1/accounts/{bob_id}/mute", headers=ana)
    assert _ids(client, "/api/v1/timelines/tag/market", ana) == [from_ana["id"]]
    assert _ids(client, "/api/v1/timelines/public", ana) == [from_ana["id"]]
    assert _ids(client, "/api/v1/timelines/tag/nothing", {}) == []


def test_home_shows_reposts_once_and_needs_a_member(
    client: TestClient, token_for: TokenFor
) -> None:
    ana, bob, cy = token_for("ana"), token_for("bob"), token_for("cyd")
    bob_id = client.get("/api/v1/accounts/verify_credentials", headers=bob).json()["id"]
    client.post(f"/api/v1/accounts/{bob_id}/follow", headers=ana)
    original = post_status(client, cy, "from a stranger")
    reblog = client.post(f"/api/v1/statuses/{original['id']}/reblog", headers=bob).json()
    home = client.get("/api/v1/timelines/home", headers=ana).json()
    assert [s["id"] for s in home] == [reblog["id"]]
    assert home[0]["reblog"]["id"] == original["id"]
    assert home[0]["account"]["username"] == "bob"
    assert client.get("/api/v1/timelines/home").status_code == 401
    write_only = token_for("writer", scope="write")
    assert client.get("/api/v1/timelines/home", headers=write_only).status_code == 403

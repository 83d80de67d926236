"""Timelines, notifications and search obey blocks and mutes; pagination uses Link headers."""

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


def test_notifications_map_to_mastodon_types(client: TestClient, token_for: TokenFor) -> None:
    ana, bob = token_for("ana"), token_for("bob")
    root = post_status(client, ana, "root")
    post_status(client, bob, "reply", in_reply_to_id=root["id"])
    client.post(f"/api/v1/statuses/{root['id']}/favourite", headers=bob)
    items = client.get("/api/v1/notifications", headers=ana).json()
    assert [n["type"] for n in items] == ["favourite", "mention"]
    assert items[1]["parvis"]["kind"] == "reply"
    only = client.get("/api/v1/notifications?types[]=mention", headers=ana).json()
    assert len(only) == 1
    client.post(f"/api/v1/notifications/{items[0]['id']}/dismiss", headers=ana)
    assert len(client.get("/api/v1/notifications", headers=ana).json()) == 1


def test_instance_and_tag_timeline(client: TestClient, token_for: TokenFor) -> None:
    ana = token_for("ana")
    post_status(client, ana, "#Market day")
    instance = client.get("/api/v1/instance").json()
    assert instance["version"].startswith("4.")
    assert "Parvis" in instance["version"]
    assert (
        client.get("/api/v2/instance").json()["configuration"]["statuses"]["max_characters"] == 5000
    )
    assert len(client.get("/api/v1/timelines/tag/market").json()) == 1
    tags = client.get("/api/v2/search?q=%23mark&type=hashtags").json()["hashtags"]
    assert tags[0]["name"] == "market"
    assert client.get("/api/v2/search?q=x&type=bogus").status_code == 422

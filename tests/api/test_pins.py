"""Pins, favourited_by / reblogged_by, and polls refused cleanly."""

from __future__ import annotations

from starlette.testclient import TestClient

from tests.api.conftest import TokenFor, ids, my_id, post_status


def test_pin_shows_on_the_profile_and_unpin_removes_it(
    client: TestClient, token_for: TokenFor
) -> None:
    ana, bob = token_for("ana"), token_for("bob")
    first = post_status(client, ana, "first")
    post_status(client, ana, "second")
    pinned = client.post(f"/api/v1/statuses/{first['id']}/pin", headers=ana)
    assert pinned.status_code == 200, pinned.text
    assert pinned.json()["pinned"] is True
    ana_id = my_id(client, ana)
    path = f"/api/v1/accounts/{ana_id}/statuses?pinned=true"
    assert ids(client, path, bob) == [first["id"]]
    assert client.get(path, headers=bob).json()[0]["pinned"] is True
    assert ids(client, path + "&max_id=999999", bob) == []
    assert client.get(f"/api/v1/statuses/{first['id']}", headers=ana).json()["pinned"] is True
    unpinned = client.post(f"/api/v1/statuses/{first['id']}/unpin", headers=ana).json()
    assert unpinned["pinned"] is False
    assert ids(client, path, bob) == []


def test_pins_are_own_posts_only_and_limited(client: TestClient, token_for: TokenFor) -> None:
    ana, bob = token_for("ana"), token_for("bob")
    theirs = post_status(client, bob, "bob's")
    refused = client.post(f"/api/v1/statuses/{theirs['id']}/pin", headers=ana)
    assert refused.status_code == 422
    assert "own" in refused.json()["error"]
    for n in range(5):
        status = post_status(client, ana, f"post {n}")
        assert client.post(f"/api/v1/statuses/{status['id']}/pin", headers=ana).status_code == 200
    extra = post_status(client, ana, "one more")
    too_many = client.post(f"/api/v1/statuses/{extra['id']}/pin", headers=ana)
    assert too_many.status_code == 422
    assert "at most 5" in too_many.json()["error"]


def test_favourited_by_and_reblogged_by(client: TestClient, token_for: TokenFor) -> None:
    ana, bob, cat = token_for("ana"), token_for("bob"), token_for("cat")
    status = post_status(client, ana, "popular")
    client.post(f"/api/v1/statuses/{status['id']}/favourite", headers=bob)
    client.post(f"/api/v1/statuses/{status['id']}/reblog", headers=cat)
    favs = client.get(f"/api/v1/statuses/{status['id']}/favourited_by").json()
    assert [a["username"] for a in favs] == ["bob"]
    boosts = client.get(f"/api/v1/statuses/{status['id']}/reblogged_by").json()
    assert [a["username"] for a in boosts] == ["cat"]
    client.post(f"/api/v1/accounts/{my_id(client, bob)}/block", headers=ana)
    assert client.get(f"/api/v1/statuses/{status['id']}/favourited_by", headers=ana).json() == []
    assert client.get("/api/v1/statuses/999/favourited_by").status_code == 404


def test_polls_are_refused_with_a_clear_error(client: TestClient, token_for: TokenFor) -> None:
    ana = token_for("ana")
    as_form = client.post(
        "/api/v1/statuses",
        data={"status": "vote!", "poll[options][]": ["a", "b"], "poll[expires_in]": "300"},
        headers=ana,
    )
    assert as_form.status_code == 422
    assert as_form.json() == {"error": "Polls are not supported on this server."}
    as_json = client.post(
        "/api/v1/statuses",
        json={"status": "vote!", "poll": {"options": ["a", "b"], "expires_in": 300}},
        headers=ana,
    )
    assert as_json.status_code == 422
    assert "Polls are not supported" in as_json.json()["error"]

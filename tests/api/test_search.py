"""Search API: accounts, statuses and hashtags, with blocks and mutes obeyed."""

from __future__ import annotations

from starlette.testclient import TestClient

from tests.api.conftest import TokenFor, my_id, post_status


def test_search_finds_each_type(client: TestClient, token_for: TokenFor) -> None:
    ana = token_for("ana")
    token_for("garden_club")
    status = post_status(client, ana, "The #gardens open at dawn")
    result = client.get("/api/v2/search?q=garden", headers=ana).json()
    assert [a["username"] for a in result["accounts"]] == ["garden_club"]
    assert [t["name"] for t in result["hashtags"]] == ["gardens"]
    assert result["hashtags"][0]["url"].endswith("/tags/gardens")
    words = client.get("/api/v2/search?q=dawn&type=statuses").json()
    assert [s["id"] for s in words["statuses"]] == [status["id"]]
    assert words["accounts"] == []
    assert client.get("/api/v2/search?q=").json() == {
        "accounts": [],
        "statuses": [],
        "hashtags": [],
    }


def test_search_obeys_blocks_and_mutes(client: TestClient, token_for: TokenFor) -> None:
    ana, bob, cy = token_for("ana"), token_for("bob"), token_for("cyd")
    post_status(client, bob, "market news from bob")
    from_cy = post_status(client, cy, "market news from cyd")
    client.post(f"/api/v1/accounts/{my_id(client, bob)}/block", headers=ana)
    result = client.get("/api/v2/search?q=market", headers=ana).json()
    assert [s["id"] for s in result["statuses"]] == [from_cy["id"]]
    assert "bob" not in [
        a["username"] for a in client.get("/api/v2/search?q=bob", headers=ana).json()["accounts"]
    ]
    client.post(f"/api/v1/accounts/{my_id(client, cy)}/mute", headers=ana)
    assert client.get("/api/v2/search?q=market", headers=ana).json()["statuses"] == []
    assert len(client.get("/api/v2/search?q=market").json()["statuses"]) == 2


def test_search_input_errors(client: TestClient, token_for: TokenFor) -> None:
    bogus = client.get("/api/v2/search?q=x&type=bogus")
    assert bogus.status_code == 422
    assert "type must be" in bogus.json()["error"]
    limit = client.get("/api/v2/search?q=x&limit=many")
    assert limit.status_code == 422
    assert "limit" in limit.json()["error"]
    assert client.get("/api/v2/search?q=x&offset=-1").status_code == 422
    assert client.get("/api/v2/search?q=" + "x" * 300).status_code == 422
    no_search = token_for("ana", scope="read:statuses")
    assert client.get("/api/v2/search?q=x", headers=no_search).status_code == 403

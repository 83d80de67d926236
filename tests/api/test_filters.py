"""Filters (v1 and v2) are the member's muted words, obeyed in every timeline."""

from __future__ import annotations

from starlette.testclient import TestClient

from tests.api.conftest import TokenFor, ids, post_status


def test_v1_filter_mutes_a_word_in_timelines(client: TestClient, token_for: TokenFor) -> None:
    ana, bob = token_for("ana"), token_for("bob")
    post_status(client, bob, "talking about spoilers today")
    kept = post_status(client, bob, "something else")
    created = client.post(
        "/api/v1/filters",
        data={"phrase": "spoilers", "context[]": ["home", "public"], "whole_word": "true"},
        headers=ana,
    )
    assert created.status_code == 200, created.text
    entity = created.json()
    assert entity["phrase"] == "spoilers"
    assert entity["irreversible"] is True
    assert set(entity["context"]) >= {"home", "public", "notifications"}
    assert ids(client, "/api/v1/timelines/public", ana) == [kept["id"]]
    assert [f["id"] for f in client.get("/api/v1/filters", headers=ana).json()] == [entity["id"]]
    changed = client.put(
        f"/api/v1/filters/{entity['id']}", data={"phrase": "else"}, headers=ana
    ).json()
    assert changed["phrase"] == "else"
    assert len(ids(client, "/api/v1/timelines/public", ana)) == 1
    assert client.delete(f"/api/v1/filters/{entity['id']}", headers=ana).json() == {}
    assert len(ids(client, "/api/v1/timelines/public", ana)) == 2
    assert client.get(f"/api/v1/filters/{entity['id']}", headers=ana).status_code == 404


def test_v2_filter_with_json_keyword(client: TestClient, token_for: TokenFor) -> None:
    ana = token_for("ana")
    created = client.post(
        "/api/v2/filters",
        json={
            "title": "Sports",
            "context": ["home"],
            "filter_action": "warn",
            "keywords_attributes": [{"keyword": "football", "whole_word": False}],
        },
        headers=ana,
    )
    assert created.status_code == 200, created.text
    entity = created.json()
    assert entity["filter_action"] == "hide"
    assert entity["statuses"] == []
    assert entity["keywords"] == [{"id": entity["id"], "keyword": "football", "whole_word": False}]
    keywords = client.get(f"/api/v2/filters/{entity['id']}/keywords", headers=ana).json()
    assert [k["keyword"] for k in keywords] == ["football"]
    renamed = client.put(
        f"/api/v2/filters/keywords/{entity['id']}", data={"keyword": "rugby"}, headers=ana
    ).json()
    assert renamed["keyword"] == "rugby"
    assert [f["title"] for f in client.get("/api/v2/filters", headers=ana).json()] == ["rugby"]
    assert client.delete(f"/api/v2/filters/{entity['id']}", headers=ana).json() == {}
    assert client.get("/api/v2/filters", headers=ana).json() == []


def test_v2_keyword_removal_removes_its_filter(client: TestClient, token_for: TokenFor) -> None:
    ana = token_for("ana")
    entity = client.post("/api/v2/filters", data={"title": "spoilers"}, headers=ana).json()
    one = client.get(f"/api/v2/filters/keywords/{entity['id']}", headers=ana).json()
    assert (one["keyword"], one["whole_word"]) == ("spoilers", True)
    changed = client.put(
        f"/api/v2/filters/keywords/{entity['id']}", data={"whole_word": "false"}, headers=ana
    ).json()
    assert (changed["keyword"], changed["whole_word"]) == ("spoilers", False)
    gone = client.delete(f"/api/v2/filters/keywords/{entity['id']}", headers=ana)
    assert gone.json() == {}
    assert client.get("/api/v2/filters", headers=ana).json() == []
    assert client.get(f"/api/v2/filters/keywords/{entity['id']}", headers=ana).status_code == 404


def test_v2_refuses_what_muted_words_cannot_do(client: TestClient, token_for: TokenFor) -> None:
    ana, bob = token_for("ana"), token_for("bob")
    two = client.post(
        "/api/v2/filters",
        data={
            "title": "x",
            "context[]": "home",
            "keywords_attributes[][keyword]": ["one", "two"],
        },
        headers=ana,
    )
    assert two.status_code == 422
    assert "one keyword" in two.json()["error"]
    expiring = client.post(
        "/api/v2/filters", data={"title": "x", "expires_in": "3600"}, headers=ana
    )
    assert expiring.status_code == 422
    assert "expire" in expiring.json()["error"]
    made = client.post(
        "/api/v2/filters",
        data={"title": "x", "keywords_attributes[0][keyword]": "word"},
        headers=ana,
    ).json()
    assert made["keywords"][0]["keyword"] == "word"
    more = client.post(f"/api/v2/filters/{made['id']}/keywords", data={"keyword": "y"}, headers=ana)
    assert more.status_code == 422
    assert client.get(f"/api/v2/filters/{made['id']}", headers=bob).status_code == 404
    assert client.get("/api/v1/filters", headers={}).status_code == 401

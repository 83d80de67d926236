"""Parvis's own endpoints under /api/parvis/v1: votes, articles, ranks."""

from __future__ import annotations

from starlette.testclient import TestClient

from tests.api.conftest import TokenFor, ids, my_id, post_status


def test_parvis_downvote_extension(client: TestClient, token_for: TokenFor) -> None:
    ana, bob = token_for("ana"), token_for("bob")
    status = post_status(client, ana, "vote")
    path = f"/api/parvis/v1/statuses/{status['id']}/vote"
    voted = client.post(path, data={"value": "-1"}, headers=bob).json()
    assert voted["parvis"]["downvotes_count"] == 1
    assert voted["parvis"]["my_vote"] == -1
    up = client.post(path, json={"value": 1}, headers=bob).json()
    assert (up["favourites_count"], up["parvis"]["downvotes_count"], up["favourited"]) == (
        1,
        0,
        True,
    )
    withdrawn = client.post(path, data={"value": "0"}, headers=bob).json()
    assert withdrawn["parvis"]["my_vote"] == 0
    bad = client.post(path, data={"value": "5"}, headers=bob)
    assert bad.status_code == 422
    assert "value must be" in bad.json()["error"]
    assert (
        client.post(
            "/api/parvis/v1/statuses/99999/vote", data={"value": "1"}, headers=bob
        ).status_code
        == 404
    )
    client.post(f"/api/v1/accounts/{my_id(client, bob)}/block", headers=ana)
    assert client.post(path, data={"value": "1"}, headers=bob).status_code == 404
    assert client.post(path, data={"value": "1"}).status_code == 401


def test_articles(client: TestClient, token_for: TokenFor) -> None:
    ana = token_for("ana")
    created = client.post(
        "/api/parvis/v1/articles",
        data={"title": "On squares <&>", "body": "A long **argument**."},
        headers=ana,
    )
    assert created.status_code == 200, created.text
    article = created.json()
    assert article["parvis"]["kind"] == "article"
    assert article["parvis"]["title"] == "On squares <&>"
    assert article["content"].startswith("<h2>On squares &lt;&amp;&gt;</h2>")
    post_status(client, ana, "not an article")
    assert ids(client, "/api/parvis/v1/articles") == [article["id"]]
    comment = post_status(client, ana, "a comment", in_reply_to_id=article["id"])
    context = client.get(f"/api/v1/statuses/{article['id']}/context").json()
    assert [s["id"] for s in context["descendants"]] == [comment["id"]]
    untitled = client.post("/api/parvis/v1/articles", data={"body": "text"}, headers=ana)
    assert untitled.status_code == 422
    assert "title" in untitled.json()["error"]
    reader = token_for("reader", scope="read")
    denied = client.post(
        "/api/parvis/v1/articles", data={"title": "t", "body": "b"}, headers=reader
    )
    assert denied.status_code == 403
    writer = token_for("wes", scope="write")
    assert client.get("/api/parvis/v1/articles", headers=writer).status_code == 403


def test_ranks(client: TestClient, token_for: TokenFor) -> None:
    ana = token_for("ana")
    tiers = client.get("/api/parvis/v1/ranks").json()
    assert [t["name"] for t in tiers][:2] == ["Newcomer", "Member"]
    assert {"min_days", "min_net_upvotes", "description"} <= tiers[0].keys()
    rank = client.get(f"/api/parvis/v1/accounts/{my_id(client, ana)}/rank").json()
    assert rank == {"rank": "Newcomer", "role": "member", "vote_score": 0}
    assert client.get("/api/parvis/v1/accounts/99999/rank").status_code == 404

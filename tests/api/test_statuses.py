"""Statuses through the API: shapes, idempotency, context, votes, reposts, deletion, errors."""

from __future__ import annotations

from starlette.testclient import TestClient

from parvis.moderation.models import Action
from tests.api.conftest import DecideOn, TokenFor, my_id, post_status

STATUS_KEYS = {
    "id",
    "uri",
    "url",
    "created_at",
    "account",
    "content",
    "visibility",
    "sensitive",
    "spoiler_text",
    "media_attachments",
    "mentions",
    "tags",
    "emojis",
    "reblogs_count",
    "favourites_count",
    "replies_count",
    "in_reply_to_id",
    "in_reply_to_account_id",
    "reblog",
    "poll",
    "card",
    "language",
    "favourited",
    "reblogged",
    "muted",
    "bookmarked",
    "edited_at",
}
ACCOUNT_KEYS = {
    "id",
    "username",
    "acct",
    "display_name",
    "locked",
    "bot",
    "created_at",
    "note",
    "url",
    "avatar",
    "avatar_static",
    "header",
    "header_static",
    "followers_count",
    "following_count",
    "statuses_count",
    "emojis",
    "fields",
}


def test_status_has_mastodon_shape(client: TestClient, token_for: TokenFor) -> None:
    ana = token_for("ana")
    status = post_status(client, ana, "Hello **square** #town", spoiler_text="cw")
    assert status.keys() >= STATUS_KEYS
    assert status["account"].keys() >= ACCOUNT_KEYS
    assert isinstance(status["id"], str)
    assert status["sensitive"] is True
    assert status["tags"][0]["name"] == "town"
    assert status["created_at"].endswith("Z")


def test_idempotency_key_returns_the_same_status(client: TestClient, token_for: TokenFor) -> None:
    ana = token_for("ana")
    headers = {**ana, "Idempotency-Key": "retry-1"}
    first = client.post("/api/v1/statuses", data={"status": "once"}, headers=headers).json()
    second = client.post("/api/v1/statuses", data={"status": "once"}, headers=headers).json()
    assert first["id"] == second["id"]
    timeline = client.get("/api/v1/timelines/home", headers=ana).json()
    assert len(timeline) == 1


def test_reply_context_favourite_reblog_and_delete(client: TestClient, token_for: TokenFor) -> None:
    ana, bob = token_for("ana"), token_for("bob")
    root = post_status(client, ana, "root")
    reply = post_status(client, bob, "reply", in_reply_to_id=root["id"])
    assert reply["in_reply_to_id"] == root["id"]
    context = client.get(f"/api/v1/statuses/{root['id']}/context", headers=bob).json()
    assert [s["id"] for s in context["descendants"]] == [reply["id"]]
    favourited = client.post(f"/api/v1/statuses/{root['id']}/favourite", headers=bob).json()
    assert (favourited["favourited"], favourited["favourites_count"]) == (True, 1)
    reblog = client.post(f"/api/v1/statuses/{root['id']}/reblog", headers=bob).json()
    assert reblog["reblog"]["id"] == root["id"]
    assert client.delete(f"/api/v1/statuses/{root['id']}", headers=bob).status_code == 403
    deleted = client.delete(f"/api/v1/statuses/{root['id']}", headers=ana)
    assert deleted.json()["text"] == "root"
    assert client.get(f"/api/v1/statuses/{root['id']}", headers=ana).status_code == 404


def test_edit_keeps_history(client: TestClient, token_for: TokenFor) -> None:
    ana = token_for("ana")
    status = post_status(client, ana, "first")
    edited = client.put(
        f"/api/v1/statuses/{status['id']}", data={"status": "second"}, headers=ana
    ).json()
    assert "second" in edited["content"]
    assert edited["edited_at"] is not None
    history = client.get(f"/api/v1/statuses/{status['id']}/history", headers=ana).json()
    assert ["first" in h["content"] for h in history] == [True, False]
    assert (
        client.get(f"/api/v1/statuses/{status['id']}/source", headers=ana).json()["text"]
        == "second"
    )


def test_bad_status_requests_get_clear_errors(client: TestClient, token_for: TokenFor) -> None:
    ana = token_for("ana")
    cases = [
        ({"status": ""}, 422, "Write something"),
        ({"status": "x" * 6000}, 422, "Too long"),
        ({"status": "x", "visibility": "direct"}, 422, "not supported"),
        ({"status": "x", "in_reply_to_id": "abc"}, 422, "numeric id"),
        ({"status": "x", "poll[options][]": "a"}, 422, "Polls"),
        ({"status": "x", "in_reply_to_id": "99999"}, 404, "does not exist"),
    ]
    for data, status_code, fragment in cases:
        response = client.post("/api/v1/statuses", data=data, headers=ana)
        assert response.status_code == status_code, (data, response.text)
        assert fragment in response.json()["error"]
    assert client.get("/api/v1/timelines/home", headers=ana).json() == []
    assert client.get("/api/v1/statuses/abc", headers=ana).status_code == 404
    assert client.post("/api/v1/statuses", data={"status": "x"}).status_code == 401


def test_read_only_token_cannot_write(client: TestClient, token_for: TokenFor) -> None:
    reader = token_for("reader", scope="read")
    response = client.post("/api/v1/statuses", data={"status": "x"}, headers=reader)
    assert response.status_code == 403
    assert "write:statuses" in response.json()["error"]


def test_json_body_quote_and_language(client: TestClient, token_for: TokenFor) -> None:
    ana, bob = token_for("ana"), token_for("bob")
    original = post_status(client, ana, "worth quoting")
    response = client.post(
        "/api/v1/statuses",
        json={
            "status": "see this",
            "quote_id": original["id"],
            "language": "fr",
            "sensitive": True,
            "spoiler_text": "opinion",
            "media_ids": [],
        },
        headers=bob,
    )
    assert response.status_code == 200, response.text
    quote = response.json()
    assert quote["parvis"]["quote"]["id"] == original["id"]
    assert (quote["language"], quote["sensitive"], quote["spoiler_text"]) == (
        "fr",
        True,
        "opinion",
    )
    shared = client.get(f"/api/v1/statuses/{original['id']}", headers=ana).json()
    assert shared["parvis"]["share_count"] >= 1
    bad_bool = client.post(
        "/api/v1/statuses", data={"status": "x", "sensitive": "perhaps"}, headers=bob
    )
    assert bad_bool.status_code == 422
    assert "sensitive" in bad_bool.json()["error"]
    bad_media = client.post(
        "/api/v1/statuses", data={"status": "x", "media_ids[]": "abc"}, headers=bob
    )
    assert bad_media.status_code == 422
    assert "media_ids" in bad_media.json()["error"]
    scheduled = client.post(
        "/api/v1/statuses",
        data={"status": "x", "scheduled_at": "2030-01-01T00:00:00Z"},
        headers=bob,
    )
    assert scheduled.status_code == 422


def test_idempotency_keys_are_per_member(client: TestClient, token_for: TokenFor) -> None:
    ana, bob = token_for("ana"), token_for("bob")
    first = client.post(
        "/api/v1/statuses", data={"status": "a"}, headers={**ana, "Idempotency-Key": "k"}
    ).json()
    other = client.post(
        "/api/v1/statuses", data={"status": "b"}, headers={**bob, "Idempotency-Key": "k"}
    ).json()
    assert first["id"] != other["id"]
    assert other["account"]["username"] == "bob"
    fresh = client.post(
        "/api/v1/statuses", data={"status": "a"}, headers={**ana, "Idempotency-Key": "k2"}
    ).json()
    assert fresh["id"] != first["id"]


def test_actions_round_trip(client: TestClient, token_for: TokenFor) -> None:
    ana, bob = token_for("ana"), token_for("bob")
    status = post_status(client, ana, "act on me")
    sid = status["id"]
    assert client.post(f"/api/v1/statuses/{sid}/favourite", headers=bob).json()["favourited"]
    undone = client.post(f"/api/v1/statuses/{sid}/unfavourite", headers=bob).json()
    assert (undone["favourited"], undone["favourites_count"]) == (False, 0)
    # Unfavouriting leaves a down-vote alone: it only withdraws an up-vote.
    client.post(f"/api/parvis/v1/statuses/{sid}/vote", data={"value": "-1"}, headers=bob)
    kept = client.post(f"/api/v1/statuses/{sid}/unfavourite", headers=bob).json()
    assert kept["parvis"]["my_vote"] == -1
    reblogged = client.post(f"/api/v1/statuses/{sid}/reblog", headers=bob).json()
    assert reblogged["reblog"]["reblogged"] is True
    unreblogged = client.post(f"/api/v1/statuses/{sid}/unreblog", headers=bob).json()
    assert (unreblogged["reblogged"], unreblogged["reblogs_count"]) == (False, 0)
    saved = client.post(f"/api/v1/statuses/{sid}/bookmark", headers=bob).json()
    assert saved["bookmarked"] is True
    bookmarks = client.get("/api/v1/bookmarks", headers=bob)
    assert [s["id"] for s in bookmarks.json()] == [sid]
    assert "link" in bookmarks.headers
    client.post(f"/api/v1/statuses/{sid}/unbookmark", headers=bob)
    assert client.get("/api/v1/bookmarks", headers=bob).json() == []
    assert client.post(f"/api/v1/statuses/{sid}/pin", headers=bob).status_code == 422
    assert client.post(f"/api/v1/statuses/{sid}/explode", headers=bob).status_code == 404
    assert client.post("/api/v1/statuses/99999/favourite", headers=bob).status_code == 404
    assert client.post(f"/api/v1/statuses/{sid}/favourite").status_code == 401
    reader = token_for("reader", scope="read")
    assert client.post(f"/api/v1/statuses/{sid}/bookmark", headers=reader).status_code == 403


def test_deleted_and_foreign_statuses(client: TestClient, token_for: TokenFor) -> None:
    ana, bob = token_for("ana"), token_for("bob")
    status = post_status(client, ana, "short-lived")
    sid = status["id"]
    not_mine = client.put(f"/api/v1/statuses/{sid}", data={"status": "mine now"}, headers=bob)
    assert not_mine.status_code in (403, 404)
    assert client.get(f"/api/v1/statuses/{sid}/source", headers=bob).status_code == 404
    client.delete(f"/api/v1/statuses/{sid}", headers=ana)
    for path in ("", "/context", "/history"):
        assert client.get(f"/api/v1/statuses/{sid}{path}", headers=ana).status_code == 404
    assert client.post(f"/api/v1/statuses/{sid}/favourite", headers=bob).status_code == 404
    assert client.delete(f"/api/v1/statuses/{sid}", headers=ana).status_code == 404
    assert client.get("/api/v1/statuses/99999/context").status_code == 404


def test_context_obeys_blocks(client: TestClient, token_for: TokenFor) -> None:
    ana, bob, cy = token_for("ana"), token_for("bob"), token_for("cyd")
    root = post_status(client, ana, "root")
    from_bob = post_status(client, bob, "bob replies", in_reply_to_id=root["id"])
    from_cy = post_status(client, cy, "cy replies", in_reply_to_id=root["id"])
    nested = post_status(client, ana, "ana answers cy", in_reply_to_id=from_cy["id"])
    path = f"/api/v1/statuses/{root['id']}/context"
    everyone = [s["id"] for s in client.get(path).json()["descendants"]]
    assert set(everyone) == {from_bob["id"], from_cy["id"], nested["id"]}
    bob_id = client.get("/api/v1/accounts/verify_credentials", headers=bob).json()["id"]
    client.post(f"/api/v1/accounts/{bob_id}/block", headers=ana)
    seen = [s["id"] for s in client.get(path, headers=ana).json()["descendants"]]
    assert from_bob["id"] not in seen
    assert from_cy["id"] in seen
    ancestors = client.get(f"/api/v1/statuses/{nested['id']}/context", headers=ana).json()
    assert [s["id"] for s in ancestors["ancestors"]] == [root["id"], from_cy["id"]]
    assert client.get(path, headers=bob).status_code == 404


def test_interstitial_shows_as_sensitive_with_a_spoiler_naming_the_rule(
    client: TestClient, token_for: TokenFor, decide_on: DecideOn
) -> None:
    ana, bob = token_for("ana"), token_for("bob")
    client.post(f"/api/v1/accounts/{my_id(client, ana)}/follow", headers=bob)
    status = post_status(client, ana, "a heated post", spoiler_text="politics")
    client.put(
        f"/api/v1/statuses/{status['id']}",
        data={"status": "a heated post, edited"},
        headers=ana,
    )
    decide_on(status["id"], Action.INTERSTITIAL)
    warning = "Warning under the rule 'harassment'"
    shown = [
        client.get(f"/api/v1/statuses/{status['id']}").json(),
        client.get("/api/v1/timelines/public").json()[0],
        client.get("/api/v1/timelines/home", headers=bob).json()[0],
        client.get(f"/api/v1/accounts/{my_id(client, ana)}/statuses").json()[0],
    ]
    for entity in shown:
        assert entity["id"] == status["id"]
        assert entity["sensitive"] is True
        assert entity["spoiler_text"].startswith(warning)
        assert entity["parvis"]["moderation"]["action"] == "interstitial"
    history = client.get(f"/api/v1/statuses/{status['id']}/history").json()
    assert len(history) == 2
    assert all(v["sensitive"] and v["spoiler_text"].startswith(warning) for v in history)


def test_removed_status_is_gone_as_a_deleted_one(
    client: TestClient, token_for: TokenFor, decide_on: DecideOn
) -> None:
    ana, bob = token_for("ana"), token_for("bob")
    root = post_status(client, ana, "the thread")
    reply = post_status(client, bob, "an insulting reply", in_reply_to_id=root["id"])
    decision_id = decide_on(reply["id"], Action.REMOVE)
    sid = reply["id"]
    for path in ("", "/context", "/history", "/favourited_by"):
        response = client.get(f"/api/v1/statuses/{sid}{path}", headers=ana)
        assert response.status_code == 404
        assert response.json() == {
            "error": f"This post was removed under the rule 'harassment' (decision {decision_id})."
        }
    assert client.post(f"/api/v1/statuses/{sid}/favourite", headers=ana).status_code == 404
    assert client.post(f"/api/v1/statuses/{sid}/reblog", headers=ana).status_code == 404
    context = client.get(f"/api/v1/statuses/{root['id']}/context").json()
    assert context["descendants"] == []
    assert [s["id"] for s in client.get("/api/v1/timelines/public").json()] == [root["id"]]
    assert client.get(f"/api/v1/accounts/{my_id(client, bob)}/statuses").json() == []


def test_a_token_must_allow_reading_even_public_statuses(
    client: TestClient, token_for: TokenFor
) -> None:
    ana = token_for("ana")
    writer = token_for("wes", scope="write")
    sid = post_status(client, ana, "public words")["id"]
    for path in ("", "/context", "/history", "/favourited_by"):
        assert client.get(f"/api/v1/statuses/{sid}{path}").status_code == 200
        refused = client.get(f"/api/v1/statuses/{sid}{path}", headers=writer)
        assert refused.status_code == 403
        assert "read:" in refused.json()["error"]
    sub_scoped = token_for("sue", scope="read:statuses")
    assert client.get(f"/api/v1/statuses/{sid}", headers=sub_scoped).status_code == 200


def test_favourites_are_the_statuses_the_member_voted_up(
    client: TestClient, token_for: TokenFor
) -> None:
    ana, bob = token_for("ana"), token_for("bob")
    first, second, third = (post_status(client, ana, f"post {n}") for n in range(3))
    for status in (first, third):
        client.post(f"/api/v1/statuses/{status['id']}/favourite", headers=bob)
    client.post(f"/api/parvis/v1/statuses/{second['id']}/vote", data={"value": "-1"}, headers=bob)
    assert client.get("/api/v1/favourites").status_code == 401
    listed = client.get("/api/v1/favourites", headers=bob)
    assert [s["id"] for s in listed.json()] == [third["id"], first["id"]]
    assert all(s["favourited"] for s in listed.json())
    client.post(f"/api/v1/statuses/{third['id']}/unfavourite", headers=bob)
    assert [s["id"] for s in client.get("/api/v1/favourites", headers=bob).json()] == [first["id"]]
    assert client.get("/api/v1/favourites", headers=ana).json() == []

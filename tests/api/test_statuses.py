"""Statuses through the API: shapes, idempotency, context, votes, reposts, deletion, errors."""

from __future__ import annotations

import io

from PIL import Image
from starlette.testclient import TestClient

from tests.api.conftest import TokenFor, post_status

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


def test_media_upload_and_attach(client: TestClient, token_for: TokenFor) -> None:
    ana = token_for("ana")
    image = io.BytesIO()
    Image.new("RGB", (20, 10), "blue").save(image, "PNG")
    uploaded = client.post(
        "/api/v2/media",
        files={"file": ("a.png", image.getvalue(), "image/png")},
        data={"description": "a blue box"},
        headers=ana,
    )
    assert uploaded.status_code == 200, uploaded.text
    media = uploaded.json()
    assert (media["type"], media["description"]) == ("image", "a blue box")
    status = post_status(client, ana, "look", **{"media_ids[]": media["id"]})
    assert status["media_attachments"][0]["id"] == media["id"]
    bad = client.post(
        "/api/v2/media",
        files={"file": ("x.exe", b"MZ\x90binary", "application/octet-stream")},
        headers=ana,
    )
    assert bad.status_code == 422
    assert "could not be read" in bad.json()["error"]


def test_parvis_downvote_extension(client: TestClient, token_for: TokenFor) -> None:
    ana, bob = token_for("ana"), token_for("bob")
    status = post_status(client, ana, "vote")
    voted = client.post(
        f"/api/parvis/v1/statuses/{status['id']}/vote", data={"value": "-1"}, headers=bob
    ).json()
    assert voted["parvis"]["downvotes_count"] == 1
    assert voted["parvis"]["my_vote"] == -1
    bad = client.post(
        f"/api/parvis/v1/statuses/{status['id']}/vote", data={"value": "5"}, headers=bob
    )
    assert bad.status_code == 422

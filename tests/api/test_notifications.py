"""Notifications API: Mastodon types, filters, paging, one, dismiss, clear; blocks obeyed."""

from __future__ import annotations

import time
from typing import Any

from starlette.testclient import TestClient

from parvis.api.notifications import kinds_for
from parvis.moderation.models import Action
from tests.api.conftest import DecideOn, TokenFor, ids, my_id, post_status


def test_kinds_for_maps_mastodon_types() -> None:
    assert kinds_for([], []) is None
    assert kinds_for(["mention"], []) == ["mention", "reply", "quote"]
    assert kinds_for(["favourite", "follow"], []) == ["follow", "vote"]
    excluded = kinds_for([], ["mention", "favourite"])
    assert excluded is not None
    assert "reply" not in excluded
    assert "vote" not in excluded
    assert "follow" in excluded
    assert kinds_for(["poll"], []) == []


def test_notifications_map_to_mastodon_types(client: TestClient, token_for: TokenFor) -> None:
    ana, bob = token_for("ana"), token_for("bob")
    root = post_status(client, ana, "root")
    reply = post_status(client, bob, "reply", in_reply_to_id=root["id"])
    client.post(f"/api/v1/statuses/{root['id']}/favourite", headers=bob)
    client.post(f"/api/v1/accounts/{my_id(client, ana)}/follow", headers=bob)
    items = client.get("/api/v1/notifications", headers=ana).json()
    assert [n["type"] for n in items] == ["follow", "favourite", "mention"]
    assert items[2]["parvis"]["kind"] == "reply"
    assert items[2]["status"]["id"] == reply["id"]
    assert items[0]["status"] is None
    assert items[0]["account"]["username"] == "bob"
    only = client.get("/api/v1/notifications?types[]=mention", headers=ana).json()
    assert [n["type"] for n in only] == ["mention"]
    without = client.get(
        "/api/v1/notifications?exclude_types[]=follow&exclude_types[]=favourite", headers=ana
    ).json()
    assert [n["type"] for n in without] == ["mention"]
    assert client.get("/api/v1/notifications?types[]=poll", headers=ana).json() == []


def test_one_dismiss_clear_and_paging(client: TestClient, token_for: TokenFor) -> None:
    ana, bob = token_for("ana"), token_for("bob")
    for n in range(3):
        post_status(client, bob, f"hello @ana number {n}")
    listed = client.get("/api/v1/notifications?limit=2", headers=ana)
    first_two = [n["id"] for n in listed.json()]
    assert len(first_two) == 2
    assert f"max_id={first_two[-1]}" in listed.headers["link"]
    rest = ids(client, f"/api/v1/notifications?max_id={first_two[-1]}", ana)
    assert len(rest) == 1
    one = client.get(f"/api/v1/notifications/{rest[0]}", headers=ana)
    assert one.json()["type"] == "mention"
    assert client.get(f"/api/v1/notifications/{rest[0]}", headers=bob).status_code == 404
    assert client.get("/api/v1/notifications/abc", headers=ana).status_code == 404
    assert client.post(f"/api/v1/notifications/{rest[0]}/dismiss", headers=bob).status_code == 404
    assert client.post(f"/api/v1/notifications/{rest[0]}/dismiss", headers=ana).json() == {}
    assert client.get(f"/api/v1/notifications/{rest[0]}", headers=ana).status_code == 404
    assert client.post("/api/v1/notifications/clear", headers=ana).json() == {}
    assert client.get("/api/v1/notifications", headers=ana).json() == []
    reader = token_for("reader", scope="read")
    assert client.post("/api/v1/notifications/clear", headers=reader).status_code == 403
    assert client.get("/api/v1/notifications").status_code == 401


def test_blocked_and_muted_actors_are_left_out(client: TestClient, token_for: TokenFor) -> None:
    ana, bob, cy = token_for("ana"), token_for("bob"), token_for("cyd")
    post_status(client, bob, "hey @ana")
    post_status(client, cy, "yo @ana")
    before = client.get("/api/v1/notifications", headers=ana).json()
    from_bob = next(n["id"] for n in before if n["account"]["username"] == "bob")
    client.post(f"/api/v1/accounts/{my_id(client, bob)}/block", headers=ana)
    client.post(f"/api/v1/accounts/{my_id(client, cy)}/mute", headers=ana)
    assert client.get("/api/v1/notifications", headers=ana).json() == []
    assert client.get(f"/api/v1/notifications/{from_bob}", headers=ana).status_code == 404
    client.post(f"/api/v1/accounts/{my_id(client, cy)}/unmute", headers=ana)
    after = client.get("/api/v1/notifications", headers=ana).json()
    assert [n["account"]["username"] for n in after] == ["cyd"]


def test_notifications_about_a_removed_status_are_left_out(
    client: TestClient, token_for: TokenFor, decide_on: DecideOn
) -> None:
    ana, bob = token_for("ana"), token_for("bob")
    kept = post_status(client, bob, "hello @ana")
    removed = post_status(client, bob, "you idiot @ana")
    before = client.get("/api/v1/notifications", headers=ana).json()
    about_removed = next(n["id"] for n in before if n["status"]["id"] == removed["id"])
    decide_on(removed["id"], Action.REMOVE)
    after = client.get("/api/v1/notifications", headers=ana).json()
    assert [n["status"]["id"] for n in after] == [kept["id"]]
    assert client.get(f"/api/v1/notifications/{about_removed}", headers=ana).status_code == 404
    # The author is told of the decision, without the status (gone for clients: 404).
    told = client.get("/api/v1/notifications", headers=bob).json()
    assert [(n["type"], n["status"]) for n in told] == [("moderation_warning", None)]
    assert told[0]["parvis"]["kind"] == "moderation"


def test_a_post_removed_by_screening_is_followed_by_its_moderation_notification(
    client: TestClient, token_for: TokenFor, rulebook: None
) -> None:
    # Screening tells the author after the post's transaction commits (its statement of
    # reasons waits in the decision row); the committed post wakes the server's delivery
    # loop, so the notification follows the post's response at once.
    ana = token_for("ana")
    removed = post_status(
        client, ana, "Found him: John Roe, SSN 536-90-4399, lives at 1600 Pennsylvania Avenue."
    )
    deadline = time.monotonic() + 10
    items: list[dict[str, Any]] = []
    while time.monotonic() < deadline:
        items = client.get("/api/v1/notifications", headers=ana).json()
        if items:
            break
        time.sleep(0.02)
    assert [n["parvis"]["kind"] for n in items] == ["moderation"]
    assert items[0]["status"] is None or items[0]["status"]["id"] == removed["id"]

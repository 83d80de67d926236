"""Accounts API: sign-up through an app, credentials, profiles, lists and relationships."""

from __future__ import annotations

import io

from PIL import Image
from starlette.testclient import TestClient

from parvis.config import Settings
from tests.api.conftest import TokenFor, app_token, ids, my_id, post_status, register_app
from tests.conftest import outbox_messages


def test_register_through_an_app_token(client: TestClient, settings: Settings) -> None:
    app = register_app(client)
    headers = app_token(client, app, "read write")
    form = {
        "username": "newbie",
        "email": "newbie@example.org",
        "password": "a long and unusual passphrase 9431",
        "agreement": "true",
        "locale": "en",
    }
    created = client.post("/api/v1/accounts", data=form, headers=headers)
    assert created.status_code == 200, created.text
    token = created.json()
    assert token["token_type"] == "Bearer"
    assert set(token["scope"].split()) == {"read", "write", "follow", "push"}
    member = {"Authorization": f"Bearer {token['access_token']}"}
    me = client.get("/api/v1/accounts/verify_credentials", headers=member).json()
    assert me["username"] == "newbie"
    assert "newbie@example.org" in outbox_messages(settings)[-1]
    refused = client.post("/api/v1/statuses", data={"status": "hi"}, headers=member)
    assert refused.status_code == 403
    assert "Confirm your e-mail" in refused.json()["error"]
    again = client.post("/api/v1/accounts", data=form, headers=headers)
    assert again.status_code == 409
    assert "already taken" in again.json()["error"]


def test_register_refuses_bad_input(client: TestClient) -> None:
    app = register_app(client)
    headers = app_token(client, app, "read write")
    base = {"username": "x1x", "email": "x1x@example.org", "password": "p" * 5}
    no_agreement = client.post("/api/v1/accounts", data=base, headers=headers)
    assert no_agreement.status_code == 422
    assert "agreement" in no_agreement.json()["error"]
    bad_name = client.post(
        "/api/v1/accounts",
        data={**base, "username": "no spaces!", "agreement": "true"},
        headers=headers,
    )
    assert bad_name.status_code == 422
    assert "Username" in bad_name.json()["error"]
    weak = client.post("/api/v1/accounts", data={**base, "agreement": "true"}, headers=headers)
    assert weak.status_code == 422
    assert client.post("/api/v1/accounts", data=base).status_code == 401
    read_only = app_token(client, app, "read")
    assert client.post("/api/v1/accounts", data=base, headers=read_only).status_code == 403


def test_credentials_and_profile_update(client: TestClient, token_for: TokenFor) -> None:
    ana = token_for("ana")
    me = client.get("/api/v1/accounts/verify_credentials", headers=ana).json()
    assert me["source"]["privacy"] == "public"
    assert me["source"]["language"] == ""
    assert me["role"]["name"] == ""
    updated = client.patch(
        "/api/v1/accounts/update_credentials",
        data={"display_name": "Ana B.", "note": "Baker <b>&</b> walker\n\nSecond line"},
        headers=ana,
    )
    assert updated.status_code == 200, updated.text
    body = updated.json()
    assert body["display_name"] == "Ana B."
    assert body["note"] == "<p>Baker &lt;b&gt;&amp;&lt;/b&gt; walker</p><p>Second line</p>"
    assert body["source"]["note"].startswith("Baker <b>")
    as_json = client.patch(
        "/api/v1/accounts/update_credentials", json={"display_name": "Ana"}, headers=ana
    )
    assert as_json.json()["display_name"] == "Ana"
    assert as_json.json()["source"]["note"].startswith("Baker")  # untouched
    too_long = client.patch(
        "/api/v1/accounts/update_credentials", data={"display_name": "x" * 61}, headers=ana
    )
    assert too_long.status_code == 422
    assert "Display name" in too_long.json()["error"]
    reader = token_for("reader", scope="read")
    denied = client.patch("/api/v1/accounts/update_credentials", data={"note": "x"}, headers=reader)
    assert denied.status_code == 403


def test_get_and_lookup_accounts(client: TestClient, token_for: TokenFor) -> None:
    ana, bob = token_for("ana"), token_for("bob")
    bob_id = my_id(client, bob)
    public = client.get(f"/api/v1/accounts/{bob_id}")
    assert public.status_code == 200
    assert public.json()["acct"] == "bob"
    assert client.get("/api/v1/accounts/99999").status_code == 404
    assert client.get("/api/v1/accounts/abc").json()["error"] == "Record not found"
    assert client.get("/api/v1/accounts/lookup?acct=@bob@testserver").json()["id"] == bob_id
    assert client.get("/api/v1/accounts/lookup?acct=nobody").status_code == 404
    missing = client.get("/api/v1/accounts/lookup")
    assert missing.status_code == 422
    assert "acct" in missing.json()["error"]
    client.post(f"/api/v1/accounts/{bob_id}/block", headers=ana)
    assert client.get("/api/v1/accounts/lookup?acct=bob", headers=ana).status_code == 404
    assert client.get("/api/v1/accounts/lookup?acct=ana", headers=bob).status_code == 404


def _png() -> bytes:
    image = io.BytesIO()
    Image.new("RGB", (8, 8), "red").save(image, "PNG")
    return image.getvalue()


def test_account_statuses_filters_and_pages(client: TestClient, token_for: TokenFor) -> None:
    ana, bob = token_for("ana"), token_for("bob")
    ana_id = my_id(client, ana)
    other = post_status(client, bob, "bob's")
    first = post_status(client, ana, "first")
    reply = post_status(client, ana, "a reply", in_reply_to_id=other["id"])
    reblog = client.post(f"/api/v1/statuses/{other['id']}/reblog", headers=ana).json()
    upload = client.post(
        "/api/v2/media", files={"file": ("a.png", _png(), "image/png")}, headers=ana
    ).json()
    with_media = post_status(client, ana, "picture", **{"media_ids[]": upload["id"]})
    path = f"/api/v1/accounts/{ana_id}/statuses"
    everything = [with_media["id"], reblog["id"], reply["id"], first["id"]]
    assert ids(client, path) == everything
    assert ids(client, path + "?exclude_replies=true") == [
        with_media["id"],
        reblog["id"],
        first["id"],
    ]
    assert ids(client, path + "?exclude_reblogs=1") == [with_media["id"], reply["id"], first["id"]]
    assert ids(client, path + "?only_media=true") == [with_media["id"]]
    page = client.get(path + "?limit=2&exclude_replies=true")
    assert [s["id"] for s in page.json()] == [with_media["id"], reblog["id"]]
    assert "exclude_replies=true" in page.headers["link"]
    assert ids(client, path + f"?max_id={reblog['id']}&exclude_replies=true") == [first["id"]]
    assert client.get(path + "?only_media=maybe").status_code == 422
    assert client.get("/api/v1/accounts/99999/statuses").status_code == 404
    client.post(f"/api/v1/accounts/{ana_id}/block", headers=bob)
    assert ids(client, path, bob) == []


def test_follow_lists_and_relationships(client: TestClient, token_for: TokenFor) -> None:
    ana, bob, cy = token_for("ana"), token_for("bob"), token_for("cyd")
    ana_id, bob_id, cy_id = my_id(client, ana), my_id(client, bob), my_id(client, cy)
    followed = client.post(f"/api/v1/accounts/{ana_id}/follow", headers=bob).json()
    assert followed["following"] is True
    assert followed["id"] == ana_id
    client.post(f"/api/v1/accounts/{ana_id}/follow", headers=cy)
    assert ids(client, f"/api/v1/accounts/{ana_id}/followers") == [cy_id, bob_id]
    page = client.get(f"/api/v1/accounts/{ana_id}/followers?limit=1")
    assert f"max_id={cy_id}" in page.headers["link"]
    assert ids(client, f"/api/v1/accounts/{ana_id}/followers?max_id={cy_id}") == [bob_id]
    assert ids(client, f"/api/v1/accounts/{bob_id}/following") == [ana_id]
    assert client.get(f"/api/v1/accounts/{ana_id}/followers?max_id=x").status_code == 422
    rels = client.get(
        f"/api/v1/accounts/relationships?id[]={bob_id}&id[]=99999&id[]=zz", headers=ana
    ).json()
    assert [(r["id"], r["followed_by"], r["following"]) for r in rels] == [(bob_id, True, False)]
    unfollowed = client.post(f"/api/v1/accounts/{ana_id}/unfollow", headers=bob).json()
    assert unfollowed["following"] is False
    self_follow = client.post(f"/api/v1/accounts/{ana_id}/follow", headers=ana)
    assert self_follow.status_code == 422
    assert "yourself" in self_follow.json()["error"]
    assert client.post("/api/v1/accounts/99999/follow", headers=ana).status_code == 404
    assert client.post(f"/api/v1/accounts/{bob_id}/poke", headers=ana).status_code == 404
    assert client.post(f"/api/v1/accounts/{bob_id}/follow").status_code == 401


def test_block_mute_and_their_lists(client: TestClient, token_for: TokenFor) -> None:
    ana, bob, cy = token_for("ana"), token_for("bob"), token_for("cyd")
    bob_id, cy_id = my_id(client, bob), my_id(client, cy)
    client.post(f"/api/v1/accounts/{my_id(client, ana)}/follow", headers=bob)
    blocked = client.post(f"/api/v1/accounts/{bob_id}/block", headers=ana).json()
    assert (blocked["blocking"], blocked["followed_by"]) == (True, False)
    seen_by_bob = client.get(
        f"/api/v1/accounts/relationships?id={my_id(client, ana)}", headers=bob
    ).json()
    assert seen_by_bob[0]["blocked_by"] is True
    assert (
        client.post(f"/api/v1/accounts/{my_id(client, ana)}/follow", headers=bob).status_code == 403
    )
    muted = client.post(f"/api/v1/accounts/{cy_id}/mute", headers=ana).json()
    assert (muted["muting"], muted["muting_notifications"]) == (True, True)
    assert ids(client, "/api/v1/blocks", ana) == [bob_id]
    assert ids(client, "/api/v1/mutes", ana) == [cy_id]
    page = client.get("/api/v1/mutes?limit=1", headers=ana)
    assert f"max_id={cy_id}" in page.headers["link"]
    client.post(f"/api/v1/accounts/{bob_id}/unblock", headers=ana)
    client.post(f"/api/v1/accounts/{cy_id}/unmute", headers=ana)
    assert ids(client, "/api/v1/blocks", ana) == []
    assert ids(client, "/api/v1/mutes", ana) == []
    reader = token_for("reader", scope="read")
    assert client.post(f"/api/v1/accounts/{bob_id}/mute", headers=reader).status_code == 403
    follow_only = token_for("follower", scope="follow")
    assert client.post(f"/api/v1/accounts/{bob_id}/mute", headers=follow_only).status_code == 200
    assert client.get("/api/v1/blocks", headers=follow_only).status_code == 200
    assert client.get("/api/v1/blocks").status_code == 401


def test_account_search_leaves_out_blocked(client: TestClient, token_for: TokenFor) -> None:
    ana = token_for("ana")
    token_for("marta")
    marco = token_for("marco")
    found = client.get("/api/v1/accounts/search?q=mar", headers=ana).json()
    assert sorted(a["username"] for a in found) == ["marco", "marta"]
    client.post(f"/api/v1/accounts/{my_id(client, marco)}/block", headers=ana)
    found = client.get("/api/v1/accounts/search?q=mar", headers=ana).json()
    assert [a["username"] for a in found] == ["marta"]
    assert client.get("/api/v1/accounts/search?q=mar&limit=0", headers=ana).status_code == 422
    assert client.get("/api/v1/accounts/search?q=mar").status_code == 401


def test_a_token_must_allow_reading_even_public_accounts(
    client: TestClient, token_for: TokenFor
) -> None:
    ana_id = my_id(client, token_for("ana"))
    writer = token_for("wes", scope="write")
    paths = (
        f"/api/v1/accounts/{ana_id}",
        "/api/v1/accounts/lookup?acct=ana",
        f"/api/v1/accounts/{ana_id}/statuses",
        f"/api/v1/accounts/{ana_id}/followers",
        f"/api/v1/accounts/{ana_id}/following",
    )
    for path in paths:
        assert client.get(path).status_code == 200, path
        refused = client.get(path, headers=writer)
        assert refused.status_code == 403, path
        assert "read:" in refused.json()["error"]


def test_preferences_say_everything_is_posted_in_public(
    client: TestClient, token_for: TokenFor
) -> None:
    assert client.get("/api/v1/preferences").status_code == 401
    prefs = client.get("/api/v1/preferences", headers=token_for("ana")).json()
    assert prefs["posting:default:visibility"] == "public"
    assert prefs["reading:expand:spoilers"] is False

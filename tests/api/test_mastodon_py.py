"""Mastodon.py, a widely used client library, works against a live Parvis server.

Skipped when Mastodon.py is not installed (it is a test-only dependency).
"""

from __future__ import annotations

import io
import time
from typing import Any

import pytest
from PIL import Image

from tests.conftest import PASSWORD, MakeUser

# Imported this way so that the suite (and mypy) still run where it is not installed.
mastodon: Any = pytest.importorskip("mastodon")


def test_mastodon_py_round_trip(live_api: str, make_user: MakeUser) -> None:
    make_user("ana")
    make_user("bob")
    scopes = ["read", "write", "follow"]
    client_id, client_secret = mastodon.Mastodon.create_app(
        "Mastodon.py test", api_base_url=live_api, scopes=scopes
    )

    def logged_in(email: str) -> Any:
        api = mastodon.Mastodon(
            client_id=client_id, client_secret=client_secret, api_base_url=live_api
        )
        api.log_in(email, PASSWORD, scopes=scopes)
        return api

    ana, bob = logged_in("ana@example.org"), logged_in("bob@example.org")
    assert ana.account_verify_credentials()["username"] == "ana"
    bob_account = ana.account_lookup("bob")
    assert ana.account_follow(bob_account)["following"] is True
    posted = [bob.status_post(f"post {n} #lib", idempotency_key=f"k{n}") for n in range(3)]
    again = bob.status_post("post 0 #lib", idempotency_key="k0")
    assert again["id"] == posted[0]["id"]
    page = ana.timeline_home(limit=2)
    assert [s["id"] for s in page] == [posted[2]["id"], posted[1]["id"]]
    older = ana.fetch_next(page)
    assert older is not None
    assert [s["id"] for s in older] == [posted[0]["id"]]
    favourited = ana.status_favourite(posted[2]["id"])
    assert favourited["favourites_count"] == 1
    assert [s["id"] for s in ana.favourites()] == [posted[2]["id"]]
    ana.markers_set("home", posted[2]["id"])
    assert ana.markers_get("home")["home"]["last_read_id"] == str(posted[2]["id"])
    assert ana.custom_emojis() == []
    assert ana.lists() == []
    reply = ana.status_post("a reply", in_reply_to_id=posted[2]["id"])
    context = bob.status_context(posted[2]["id"])
    assert [s["id"] for s in context["descendants"]] == [reply["id"]]
    kinds = [n["type"] for n in bob.notifications()]
    assert kinds == ["mention", "favourite", "follow"]
    found = ana.search_v2("lib", result_type="hashtags")
    assert [t["name"] for t in found["hashtags"]] == ["lib"]
    ana.account_block(bob_account)
    assert ana.timeline_home() == []
    with pytest.raises(mastodon.MastodonNotFoundError):
        ana.status(posted[0]["id"])
    assert ana.instance()["version"].startswith("4.2.0")


def _png() -> bytes:
    image = io.BytesIO()
    Image.new("RGB", (40, 20), "green").save(image, "PNG")
    return image.getvalue()


def test_mastodon_py_media_public_timeline_reblog_mute_and_rate_limits(
    live_api: str, make_user: MakeUser
) -> None:
    make_user("ana")
    make_user("bob")
    scopes = ["read", "write", "follow"]
    client_id, client_secret = mastodon.Mastodon.create_app(
        "Mastodon.py media test", api_base_url=live_api, scopes=scopes
    )

    def logged_in(email: str) -> Any:
        api = mastodon.Mastodon(
            client_id=client_id, client_secret=client_secret, api_base_url=live_api
        )
        api.log_in(email, PASSWORD, scopes=scopes)
        return api

    ana, bob = logged_in("ana@example.org"), logged_in("bob@example.org")
    media = bob.media_post(
        io.BytesIO(_png()), mime_type="image/png", file_name="box.png", description="a box"
    )
    assert (media["type"], media["description"]) == ("image", "a box")
    pictured = bob.status_post("look at this box", media_ids=[media])
    assert [m["id"] for m in pictured["media_attachments"]] == [media["id"]]
    assert pictured["media_attachments"][0]["meta"]["original"]["width"] == 40
    texts = [bob.status_post(f"public {n}")["id"] for n in range(2)]
    page = ana.timeline_public(limit=2)
    assert [s["id"] for s in page] == [texts[1], texts[0]]
    older = ana.fetch_next(page)
    assert [s["id"] for s in older] == [pictured["id"]]
    assert ana.fetch_next(older) is None  # a short page has no "next" link, as on Mastodon
    reblog = ana.status_reblog(pictured["id"])
    assert reblog["reblog"]["id"] == pictured["id"]
    assert ana.status(pictured["id"])["reblogs_count"] == 1
    assert [a["username"] for a in ana.status_reblogged_by(pictured["id"])] == ["ana"]
    bob_account = ana.account_lookup("bob")
    ana.account_follow(bob_account)
    home = [s["id"] for s in ana.timeline_home()]
    assert home[0] == reblog["id"]
    assert set(texts) <= set(home)
    assert ana.account_mute(bob_account)["muting"] is True
    assert ana.timeline_home() == []  # bob's statuses, and reblogs of them, are hidden
    assert [a["username"] for a in ana.mutes()] == ["bob"]
    # Mastodon.py read the X-RateLimit-* headers (it parses Mastodon's format) of each call.
    assert ana.ratelimit_limit > 0
    assert 0 <= ana.ratelimit_remaining < ana.ratelimit_limit
    assert ana.ratelimit_reset > time.time()


def test_mastodon_py_admin_reports_and_account_actions(
    live_api: str, make_user: MakeUser, rulebook: None
) -> None:
    from parvis.accounts.models import Role

    make_user("ana")
    make_user("bob")
    make_user("mia", role=Role.MODERATOR)
    scopes = ["read", "write", "follow", "admin:read", "admin:write"]
    client_id, client_secret = mastodon.Mastodon.create_app(
        "Mastodon.py admin test", api_base_url=live_api, scopes=scopes
    )

    def logged_in(email: str) -> Any:
        api = mastodon.Mastodon(
            client_id=client_id, client_secret=client_secret, api_base_url=live_api
        )
        api.log_in(email, PASSWORD, scopes=scopes)
        return api

    ana, bob, mia = (logged_in(f"{n}@example.org") for n in ("ana", "bob", "mia"))
    bob_account = ana.account_lookup("bob")
    rude = bob.status_post("you are all idiots and I will find you")
    filed = ana.report(
        bob_account,
        status_ids=[rude],
        comment="Threatens other members in this post, repeatedly.",
        category="violation",
        rule_ids=["harassment"],
    )
    open_reports = mia.admin_reports()
    assert [r["id"] for r in open_reports] == [filed["id"]]
    assert open_reports[0]["target_account"]["username"] == "bob"
    assert mia.admin_report_assign(filed["id"])["assigned_account"]["username"] == "mia"
    with pytest.raises(mastodon.MastodonAPIError) as refused:
        mia.admin_account_moderate(bob_account, action="suspend")
    assert "requires a rule" in str(refused.value)
    mia.admin_account_moderate(bob_account, action="suspend", report_id=filed["id"])
    assert mia.admin_account(bob_account)["suspended"] is True
    assert mia.admin_report(filed["id"])["action_taken"] is True
    assert mia.admin_reports() == []
    assert [a["username"] for a in mia.admin_accounts_v2(status="suspended")] == ["bob"]
    with pytest.raises(mastodon.MastodonAPIError):
        ana.admin_reports()

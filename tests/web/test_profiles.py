"""Profiles: tabs, rank badge, follower lists, follow / mute / block, blocks both ways."""

from __future__ import annotations

import re

import pytest
from starlette.testclient import TestClient

from parvis.accounts.ranks import rank_for
from parvis.runtime import Runtime
from parvis.social.models import PostKind
from tests.conftest import MakeUser
from tests.web.conftest import form_post, login, make_post


def test_profile_tabs_and_rank(client: TestClient, make_user: MakeUser, runtime: Runtime) -> None:
    ana = make_user("ana")
    root = make_post(runtime, ana, "a top-level post")
    make_post(runtime, ana, "a reply of mine", in_reply_to_id=root.id)
    make_post(runtime, ana, "Long text.", title="An essay", kind=PostKind.ARTICLE)
    posts = client.get("/@ana").text
    assert "a top-level post" in posts
    assert "a reply of mine" not in posts
    assert rank_for(ana).name in posts
    assert "a reply of mine" in client.get("/@ana?tab=replies").text
    articles = client.get("/@ana?tab=articles").text
    assert "An essay" in articles
    assert "a top-level post" not in articles
    assert client.get("/@ANA").status_code == 200


def test_follow_unfollow_and_lists(client: TestClient, make_user: MakeUser) -> None:
    make_user("ana")
    make_user("bob")
    login(client, "ana")
    followed = form_post(
        client, "/@bob/follow", page="/@bob", headers={"referer": "http://testserver/@bob"}
    )
    assert followed.headers["location"] == "/@bob"
    assert ">Unfollow</button>" in client.get("/@bob").text
    assert "@ana" in client.get("/@bob/followers").text
    assert "@bob" in client.get("/@ana/following").text
    form_post(client, "/@bob/unfollow", page="/@bob")
    assert ">Follow</button>" in client.get("/@bob").text
    assert "No one yet" in client.get("/@bob/followers").text
    assert form_post(client, "/@ana/follow", page="/@ana").status_code == 422


def test_mute_hides_posts_from_home_but_not_the_profile(
    client: TestClient, make_user: MakeUser, runtime: Runtime
) -> None:
    make_user("ana")
    bob = make_user("bob")
    make_post(runtime, bob, "bob is loud")
    login(client, "ana")
    form_post(client, "/@bob/follow", page="/@bob")
    form_post(client, "/@bob/mute", page="/@bob")
    assert "bob is loud" not in client.get("/").text
    assert ">Unmute</button>" in client.get("/@bob").text
    assert "@bob" in client.get("/settings/mutes").text
    form_post(client, "/@bob/unmute", page="/@bob")
    assert "bob is loud" in client.get("/").text


def test_block_hides_everything_both_ways(
    client: TestClient, make_user: MakeUser, runtime: Runtime
) -> None:
    make_user("ana")
    big = make_user("big")
    make_post(runtime, big, "loud opinion about parks")
    login(client, "ana")
    form_post(client, "/@big/follow", page="/@big")
    assert "loud opinion" in client.get("/").text
    form_post(client, "/@big/block", page="/@big")
    for path in ("/", "/public", "/search?q=parks", "/tags/parks", "/@big?tab=replies"):
        assert "loud opinion" not in client.get(path).text, path
    profile = client.get("/@big").text
    assert "You blocked @big" in profile
    assert ">Unblock</button>" in profile
    assert "A block stands" in client.get("/@big/followers").text
    assert "@big" in client.get("/settings/blocks").text
    login(client, "big")
    theirs = client.get("/@ana").text
    assert "@ana blocked you" in theirs
    assert ">Follow</button>" not in theirs
    assert form_post(client, "/@ana/follow", page="/@ana").status_code == 403
    login(client, "ana")
    form_post(client, "/@big/unblock", page="/settings/blocks")
    assert "loud opinion" in client.get("/@big").text
    assert "loud opinion" not in client.get("/").text  # the block ended the follow


def test_follower_lists_page_through_every_follower(
    client: TestClient, make_user: MakeUser, runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    from parvis.social import graph
    from parvis.web import profiles

    monkeypatch.setattr(profiles, "ACCOUNTS_PAGE", 2)
    star = make_user("star")
    fans = [make_user(f"fan{n}") for n in range(5)]
    with runtime.db.session() as session:
        for fan in fans:
            graph.follow(session, session.merge(fan), session.merge(star))
    seen: list[str] = []
    path: str | None = "/@star/followers"
    while path:
        page = client.get(path).text
        seen += [f"fan{n}" for n in range(5) if f"@fan{n}<" in page]
        found = re.search(r'href="(/@star/followers\?max_id=\d+)"', page)
        path = found.group(1) if found else None
    assert sorted(seen) == [f"fan{n}" for n in range(5)]

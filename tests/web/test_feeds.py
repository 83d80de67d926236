"""Reading pages: home, public, tags, articles, bookmarks, search, notifications, ranks."""

from __future__ import annotations

from starlette.testclient import TestClient

from parvis.accounts.ranks import RANKS
from parvis.runtime import Runtime
from parvis.social.models import PostKind
from tests.conftest import MakeUser
from tests.web.conftest import form_post, login, make_post


def test_anonymous_home_is_the_public_feed_with_an_invitation(
    client: TestClient, make_user: MakeUser, runtime: Runtime
) -> None:
    ana = make_user("ana")
    make_post(runtime, ana, "hello square")
    page = client.get("/").text
    assert "hello square" in page
    assert 'href="/signup">Join</a>' in page
    assert "composer" not in page


def test_home_shows_only_followed_accounts_and_the_composer(
    client: TestClient, make_user: MakeUser, runtime: Runtime
) -> None:
    make_user("ana")
    bob = make_user("bob")
    carl = make_user("carl")
    make_post(runtime, bob, "from bob")
    make_post(runtime, carl, "from carl")
    login(client, "ana")
    form_post(client, "/@bob/follow", page="/@bob")
    home = client.get("/").text
    assert 'class="composer"' in home
    assert "from bob" in home
    assert "from carl" not in home
    public = client.get("/public").text
    assert "from bob" in public
    assert "from carl" in public


def test_feeds_page_with_older_posts_links(
    client: TestClient, make_user: MakeUser, runtime: Runtime
) -> None:
    ana = make_user("ana")
    for number in range(25):
        make_post(runtime, ana, f"post number {number:02d}")
    first = client.get("/public").text
    assert "post number 24" in first
    assert "post number 00" not in first
    older = first.split('<nav class="pager" aria-label="Pages"><a href="')[1].split('"')[0]
    second = client.get(older.replace("&amp;", "&")).text
    assert "post number 00" in second
    assert "post number 24" not in second
    assert "Older posts" not in second


def test_tag_page_and_articles(client: TestClient, make_user: MakeUser, runtime: Runtime) -> None:
    ana = make_user("ana")
    make_post(runtime, ana, "about #Parks today")
    make_post(runtime, ana, "nothing tagged")
    make_post(runtime, ana, "Body of the piece.", title="On squares", kind=PostKind.ARTICLE)
    tag = client.get("/tags/parks").text
    assert "<h1>#parks</h1>" in tag
    assert "about" in tag
    assert "nothing tagged" not in tag
    articles = client.get("/articles").text
    assert "On squares" in articles
    assert "nothing tagged" not in articles


def test_search_finds_posts_and_people_but_not_across_blocks(
    client: TestClient, make_user: MakeUser, runtime: Runtime
) -> None:
    make_user("ana")
    anatole = make_user("anatole")
    make_post(runtime, anatole, "bicycles everywhere")
    assert "@anatole" in client.get("/search?q=anat").text
    assert "bicycles everywhere" in client.get("/search?q=bicycles").text
    assert "No one matches" in client.get("/search?q=zzzz").text
    login(client, "ana")
    form_post(client, "/@anatole/block", page="/@anatole")
    assert "bicycles everywhere" not in client.get("/search?q=bicycles").text
    assert "@anatole" not in client.get("/search?q=anat").text


def test_notifications_page_lists_each_kind_and_marks_read(
    client: TestClient, make_user: MakeUser, runtime: Runtime
) -> None:
    ana = make_user("ana")
    make_user("bob")
    post = make_post(runtime, ana, "ana speaks")
    login(client, "bob")
    form_post(client, "/@ana/follow", page="/@ana")
    form_post(client, f"/posts/{post.id}/vote", {"value": "1"})
    form_post(client, f"/posts/{post.id}/repost")
    form_post(client, "/compose", {"body": "reply", "in_reply_to_id": str(post.id)})
    form_post(client, "/compose", {"body": "see", "quote_of_id": str(post.id)})
    form_post(client, "/compose", {"body": "hey @ana"})
    login(client, "ana")
    page = client.get("/notifications").text
    for phrase in (
        "followed you",
        "up-voted your post",
        "reposted your post",
        "replied to you",
        "quoted your post",
        "mentioned you",
    ):
        assert phrase in page, phrase
    assert 'class="badge"' in client.get("/").text
    form_post(client, "/notifications/read", page="/notifications")
    assert 'class="badge"' not in client.get("/").text
    form_post(client, "/@bob/block", page="/@bob")
    assert "followed you" not in client.get("/notifications").text


def test_ranks_page_documents_every_tier(client: TestClient) -> None:
    page = client.get("/about/ranks").text
    for rank in RANKS:
        assert rank.name in page
        assert rank.description in page

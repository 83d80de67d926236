"""Reading pages: feeds, profiles, blocks everywhere, settings, search, notifications, headers."""

from __future__ import annotations

from starlette.testclient import TestClient

from tests.conftest import MakeUser
from tests.web.conftest import form_post, login


def test_block_hides_everything_from_the_blocker(client: TestClient, make_user: MakeUser) -> None:
    make_user("ana")
    make_user("big")
    login(client, "big")
    form_post(client, "/compose", {"body": "loud opinion about parks"})
    login(client, "ana")
    form_post(client, "/@big/follow", page="/@big")
    assert "loud opinion" in client.get("/").text
    form_post(client, "/@big/block", page="/@big")
    for path in ("/", "/public", "/search?q=parks"):
        assert "loud opinion" not in client.get(path).text, path
    profile = client.get("/@big").text
    assert "You blocked @big" in profile
    assert "big" in client.get("/settings/blocks").text


def test_muted_words_settings(client: TestClient, make_user: MakeUser) -> None:
    make_user("ana")
    make_user("bob")
    login(client, "bob")
    form_post(client, "/compose", {"body": "the derby result"})
    login(client, "ana")
    form_post(client, "/@bob/follow", page="/@bob")
    form_post(
        client,
        "/settings/muted-words",
        {"phrase": "derby", "whole_word": "yes"},
        page="/settings/muted-words",
    )
    assert "derby result" not in client.get("/").text
    empty = form_post(
        client, "/settings/muted-words", {"phrase": " "}, page="/settings/muted-words"
    )
    assert empty.status_code == 422


def test_profile_settings_and_avatar_must_be_an_image(
    client: TestClient, make_user: MakeUser
) -> None:
    make_user("ana")
    login(client, "ana")
    saved = form_post(
        client,
        "/settings/profile",
        {"display_name": "Ana A.", "bio": "Hi"},
        page="/settings/profile",
    )
    assert "Profile saved" in saved.text
    assert "Ana A." in client.get("/@ana").text
    pdf = form_post(
        client,
        "/settings/profile",
        {"display_name": "x"},
        page="/settings/profile",
        files={"avatar": ("a.pdf", b"%PDF-1.4 broken", "application/pdf")},
    )
    assert pdf.status_code == 422
    too_long = form_post(
        client, "/settings/profile", {"display_name": "x" * 61}, page="/settings/profile"
    )
    assert too_long.status_code == 422


def test_notifications_page_lists_and_marks_read(client: TestClient, make_user: MakeUser) -> None:
    make_user("ana")
    make_user("bob")
    login(client, "bob")
    form_post(client, "/@ana/follow", page="/@ana")
    login(client, "ana")
    page = client.get("/notifications").text
    assert "followed you" in page
    assert 'class="badge"' in client.get("/").text
    form_post(client, "/notifications/read", page="/notifications")
    assert 'class="badge"' not in client.get("/").text


def test_pages_need_login_where_it_matters(client: TestClient) -> None:
    for path in ("/notifications", "/settings/profile", "/compose", "/bookmarks"):
        response = client.get(path)
        assert response.status_code == 401, path
        assert "Log in" in response.text


def test_security_headers_on_html(client: TestClient) -> None:
    response = client.get("/public")
    assert "default-src 'self'" in response.headers["content-security-policy"]
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert client.get("/static/parvis.css").status_code == 200


def test_ranks_page_and_search(client: TestClient, make_user: MakeUser) -> None:
    make_user("anatole")
    assert "Pillar" in client.get("/about/ranks").text
    assert "@anatole" in client.get("/search?q=anat").text

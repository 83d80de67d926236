"""The friendly HTML error page: unknown addresses and ids, wrong types, oversized bodies."""

from __future__ import annotations

from starlette.testclient import TestClient

from parvis.config import Settings
from parvis.runtime import Runtime
from tests.conftest import MakeUser
from tests.web.conftest import csrf, form_post, login, make_post


def test_unknown_pages_and_ids_give_the_404_page(
    client: TestClient, make_user: MakeUser, runtime: Runtime
) -> None:
    ana = make_user("ana")
    post = make_post(runtime, ana)
    login(client, "ana")
    for path in (
        "/no-such-page",
        "/@nobody",
        "/@nobody/12345",
        "/@ana/999999",
        "/@ana/followers/extra",
        "/posts/999999/edit",
        "/posts/999999/history",
        "/compose?quote=999999",
        "/media/no-such-key.png",
        "/settings/nothing",
    ):
        response = client.get(path)
        assert response.status_code == 404, path
        assert "text/html" in response.headers["content-type"]
        assert "<h1>Not found</h1>" in response.text, path
        assert "Back to the square" in response.text
    for path in ("/posts/999999/vote", "/posts/999999/repost", "/posts/999999/delete"):
        response = form_post(client, path, {"value": "1"})
        assert response.status_code == 404, path
    assert form_post(client, f"/posts/{post.id}/explode").status_code == 404
    assert form_post(client, "/@ana/befriend", page="/@ana").status_code == 404


def test_wrong_types_are_explained(client: TestClient, make_user: MakeUser) -> None:
    make_user("ana")
    login(client, "ana")
    listing = client.get("/public?max_id=abc")
    assert listing.status_code == 422
    assert "max_id" in listing.text
    reply = form_post(client, "/compose", {"body": "hi", "in_reply_to_id": "abc"})
    assert reply.status_code == 422
    assert "in_reply_to_id" in reply.text
    assert "Nothing here yet" in client.get("/").text


def test_wrong_method_and_login_required(client: TestClient) -> None:
    assert client.get("/logout").status_code == 405
    for path in ("/notifications", "/settings/profile", "/compose", "/bookmarks", "/welcome"):
        response = client.get(path)
        assert response.status_code == 401, path
        assert f'href="/login?next={path}"' in response.text


def test_oversized_form_body_is_refused_with_413(client: TestClient, settings: Settings) -> None:
    token = csrf(client)
    response = client.post(
        "/login",
        data={
            "username": "x" * (settings.max_form_bytes + 10),
            "password": "",
            "csrf_token": token,
        },
    )
    assert response.status_code == 413
    assert "Request body too large" in response.text  # written by the shield's body limit


def test_api_paths_keep_json_errors(client: TestClient) -> None:
    response = client.get("/api/v1/statuses/999999")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("application/json")

"""Writing through the pages: compose, reply, quote, vote (with htmx), edit, delete, uploads."""

from __future__ import annotations

import io
import re

from PIL import Image
from starlette.testclient import TestClient

from parvis.config import Settings
from tests.conftest import MakeUser
from tests.web.conftest import csrf, form_post, login


def _latest_post_path(client: TestClient, username: str) -> str:
    match = re.search(rf'href="(/@{username}/\d+)"', client.get(f"/@{username}").text)
    assert match
    return match.group(1)


def test_compose_reply_quote_and_thread(client: TestClient, make_user: MakeUser) -> None:
    make_user("ana")
    login(client, "ana")
    assert form_post(client, "/compose", {"body": "root **post**"}).status_code == 303
    root = _latest_post_path(client, "ana")
    root_id = root.rsplit("/", 1)[1]
    reply = form_post(client, "/compose", {"body": "a reply", "in_reply_to_id": root_id})
    assert reply.headers["location"].startswith("/@ana/")
    quote = form_post(client, "/compose", {"body": "quoting", "quote_of_id": root_id})
    assert quote.status_code == 303
    thread = client.get(root).text
    assert "<strong>post</strong>" in thread
    assert "a reply" in thread
    assert "Replies (1)" in thread
    quote_page = client.get(quote.headers["location"]).text
    assert "wrote:" in quote_page


def test_vote_with_and_without_htmx(client: TestClient, make_user: MakeUser) -> None:
    make_user("ana")
    make_user("bob")
    login(client, "ana")
    form_post(client, "/compose", {"body": "vote for me"})
    post_id = _latest_post_path(client, "ana").rsplit("/", 1)[1]
    login(client, "bob")
    plain = form_post(
        client,
        f"/posts/{post_id}/vote",
        {"value": "1"},
        headers={"referer": "http://testserver/public"},
    )
    assert (plain.status_code, plain.headers["location"]) == (303, "/public")
    partial = client.post(
        f"/posts/{post_id}/vote",
        data={"value": "-1"},
        headers={"HX-Request": "true", "X-CSRF-Token": csrf(client, "/")},
    )
    assert partial.status_code == 200
    assert partial.text.lstrip().startswith("<footer")
    assert "▼ 1" in partial.text
    bad = form_post(client, f"/posts/{post_id}/vote", {"value": "7"})
    assert bad.status_code == 422


def test_edit_history_and_delete_own_post_only(client: TestClient, make_user: MakeUser) -> None:
    make_user("ana")
    make_user("bob")
    login(client, "ana")
    form_post(client, "/compose", {"body": "version one"})
    path = _latest_post_path(client, "ana")
    post_id = path.rsplit("/", 1)[1]
    form_post(
        client, f"/posts/{post_id}/edit", {"body": "version two"}, page=f"/posts/{post_id}/edit"
    )
    assert "version two" in client.get(path).text
    assert "version one" in client.get(f"/posts/{post_id}/history").text
    login(client, "bob")
    assert form_post(client, f"/posts/{post_id}/delete").status_code == 403
    assert client.get(f"/posts/{post_id}/edit").status_code == 404
    login(client, "ana")
    assert form_post(client, f"/posts/{post_id}/delete").status_code == 303
    assert client.get(path).status_code == 404


def test_image_upload_strips_metadata_and_bad_types_are_refused(
    client: TestClient, make_user: MakeUser, settings: Settings
) -> None:
    make_user("ana")
    login(client, "ana")
    image = Image.new("RGB", (30, 20), "green")
    exif = Image.Exif()
    exif[0x010F] = "SecretCam"
    data = io.BytesIO()
    image.save(data, "JPEG", exif=exif.tobytes())
    ok = form_post(
        client,
        "/compose",
        {"body": "photo"},
        files={"files": ("p.jpg", data.getvalue(), "image/jpeg")},
    )
    assert ok.status_code == 303
    src = re.search(r'<img src="(/media/[^"]+)"', client.get("/").text)
    assert src
    served = client.get(src.group(1))
    assert served.status_code == 200
    assert b"SecretCam" not in served.content
    bad = form_post(
        client,
        "/compose",
        {"body": "script"},
        files={"files": ("x.html", b"<script>1</script>", "text/html")},
    )
    assert bad.status_code == 422
    assert "could not be read" in bad.text
    assert 'value="script"' not in bad.text  # the textarea keeps the text
    assert "script</textarea>" in bad.text


def test_oversized_upload_is_refused_with_413(
    client: TestClient, make_user: MakeUser, settings: Settings
) -> None:
    make_user("ana")
    login(client, "ana")
    huge = b"x" * (settings.max_document_bytes + 128 * 1024)
    response = form_post(
        client, "/compose", {"body": "big"}, files={"files": ("big.pdf", huge, "application/pdf")}
    )
    assert response.status_code == 413
    assert "too large" in response.text


def test_article_with_comments(client: TestClient, make_user: MakeUser) -> None:
    make_user("sofia")
    login(client, "sofia")
    missing = form_post(
        client, "/articles/new", {"title": "", "body": "text"}, page="/articles/new"
    )
    assert missing.status_code == 422
    assert "needs a title" in missing.text
    created = form_post(
        client,
        "/articles/new",
        {"title": "On squares", "body": "## Part one\n\nText."},
        page="/articles/new",
    )
    page = client.get(created.headers["location"]).text
    assert "<h2>Part one</h2>" in page
    assert "Comments (0)" in page
    assert "On squares" in client.get("/articles").text


def test_unknown_ids_give_a_friendly_404(client: TestClient) -> None:
    response = client.get("/@nobody/12345")
    assert response.status_code == 404
    assert "Not found" in response.text
    assert client.get("/@nobody").status_code == 404

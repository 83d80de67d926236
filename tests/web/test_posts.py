"""Writing through the pages: compose, reply, quote, vote (with htmx), edit, delete, uploads."""

from __future__ import annotations

import io
import re

from PIL import Image
from pypdf import PdfWriter
from sqlalchemy import func, select
from starlette.testclient import TestClient

from parvis.config import Settings
from parvis.moderation import publication
from parvis.runtime import Runtime
from parvis.social.models import Attachment, Post
from tests.conftest import MakeUser
from tests.web.conftest import csrf, form_post, login, make_post


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
    assert "could not be read" in bad.text or "Unsupported" in bad.text
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


def _count(runtime: Runtime, model: type[object]) -> int:
    with runtime.db.session() as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def test_pdf_is_linked_and_disallowed_types_store_nothing(
    client: TestClient, make_user: MakeUser, runtime: Runtime
) -> None:
    make_user("ana")
    login(client, "ana")
    writer = PdfWriter()
    writer.add_blank_page(width=200, height=200)
    pdf = io.BytesIO()
    writer.write(pdf)
    ok = form_post(
        client,
        "/compose",
        {"body": "the report"},
        files={"files": ("report.pdf", pdf.getvalue(), "application/pdf")},
    )
    assert ok.status_code == 303
    link = re.search(
        r'<a class="document" href="(/media/[^"]+)">PDF: report.pdf', client.get("/").text
    )
    assert link
    assert client.get(link.group(1)).headers["content-type"] == "application/pdf"
    before = (_count(runtime, Post), _count(runtime, Attachment))
    for name, data, kind in [
        ("notes.txt", b"plain text", "text/plain"),
        ("fake.jpg", b"not really a jpeg", "image/jpeg"),
        ("empty.png", b"", "image/png"),
    ]:
        refused = form_post(
            client, "/compose", {"body": "attempt"}, files={"files": (name, data, kind)}
        )
        assert refused.status_code == 422, name
        assert 'class="field-error" id="file-error"' in refused.text
    assert (_count(runtime, Post), _count(runtime, Attachment)) == before


def test_repost_unrepost_and_bookmark(
    client: TestClient, make_user: MakeUser, runtime: Runtime
) -> None:
    ana = make_user("ana")
    make_user("bob")
    post = make_post(runtime, ana, "worth sharing")
    login(client, "bob")
    assert form_post(client, f"/posts/{post.id}/repost").status_code == 303
    profile = client.get("/@bob").text
    assert "reposted" in profile
    assert "worth sharing" in profile
    assert "Reposted · 1" in client.get(f"/@ana/{post.id}").text
    assert "Shared 1×" in client.get(f"/@ana/{post.id}").text
    form_post(client, f"/posts/{post.id}/unrepost")
    assert "worth sharing" not in client.get("/@bob").text
    form_post(client, f"/posts/{post.id}/bookmark")
    assert "worth sharing" in client.get("/bookmarks").text
    form_post(client, f"/posts/{post.id}/unbookmark")
    assert "worth sharing" not in client.get("/bookmarks").text


def test_votes_are_single_and_changeable(
    client: TestClient, make_user: MakeUser, runtime: Runtime
) -> None:
    ana = make_user("ana")
    make_user("bob")
    post = make_post(runtime, ana, "judge me")
    login(client, "bob")
    form_post(client, f"/posts/{post.id}/vote", {"value": "1"})
    form_post(client, f"/posts/{post.id}/vote", {"value": "1"})
    page = client.get(f"/@ana/{post.id}").text
    assert 'aria-label="Vote up">▲ 1' in page
    form_post(client, f"/posts/{post.id}/vote", {"value": "-1"})
    page = client.get(f"/@ana/{post.id}").text
    assert 'aria-label="Vote up">▲ 0' in page
    assert 'aria-label="Vote down">▼ 1' in page
    login(client, "ana")
    own = form_post(client, f"/posts/{post.id}/vote", {"value": "1"})
    assert own.status_code == 422
    assert "your own post" in own.text


def test_quote_embeds_the_author_and_survives_deletion_as_unavailable(
    client: TestClient, make_user: MakeUser, runtime: Runtime
) -> None:
    ana = make_user("ana")
    make_user("bob")
    original = make_post(runtime, ana, "original words")
    login(client, "bob")
    compose = client.get(f"/compose?quote={original.id}").text
    assert "You are quoting" in compose
    assert "original words" in compose
    quote = form_post(client, "/compose", {"body": "I agree", "quote_of_id": str(original.id)})
    quote_path = quote.headers["location"]
    page = client.get(quote_path).text
    assert '<blockquote class="quote">' in page
    assert "@ana</span> wrote:" in page
    login(client, "ana")
    form_post(client, f"/posts/{original.id}/delete")
    page = client.get(quote_path).text
    assert "The quoted post is unavailable." in page
    assert "original words" not in page


def test_deleted_post_with_replies_stays_as_a_tombstone(
    client: TestClient, make_user: MakeUser, runtime: Runtime
) -> None:
    ana = make_user("ana")
    bob = make_user("bob")
    root = make_post(runtime, ana, "root words")
    make_post(runtime, bob, "a reply below", in_reply_to_id=root.id)
    login(client, "ana")
    form_post(client, f"/posts/{root.id}/delete")
    page = client.get(f"/@ana/{root.id}")
    assert page.status_code == 200
    assert "This post was deleted by its author." in page.text
    assert "root words" not in page.text
    assert "a reply below" in page.text


def test_replying_to_unknown_or_blocked_posts_changes_nothing(
    client: TestClient, make_user: MakeUser, runtime: Runtime
) -> None:
    ana = make_user("ana")
    make_user("bob")
    post = make_post(runtime, ana, "mine")
    login(client, "ana")
    form_post(client, "/@bob/block", page="/@bob")
    login(client, "bob")
    before = _count(runtime, Post)
    missing = form_post(client, "/compose", {"body": "hello?", "in_reply_to_id": "999999"})
    assert missing.status_code == 404
    assert "does not exist" in missing.text
    assert "hello?</textarea>" in missing.text
    assert client.get(f"/@ana/{post.id}").status_code == 404
    blocked = form_post(client, "/compose", {"body": "sneaky", "in_reply_to_id": str(post.id)})
    assert blocked.status_code in (403, 404)
    assert _count(runtime, Post) == before


def test_edit_errors_keep_the_text(client: TestClient, make_user: MakeUser) -> None:
    make_user("ana")
    login(client, "ana")
    form_post(client, "/compose", {"body": "short"})
    post_id = _latest_post_path(client, "ana").rsplit("/", 1)[1]
    too_long = form_post(
        client, f"/posts/{post_id}/edit", {"body": "x" * 6000}, page=f"/posts/{post_id}/edit"
    )
    assert too_long.status_code == 422
    assert 'id="body-error"' in too_long.text
    assert "Too long" in too_long.text
    assert "short" in client.get(f"/@ana/{post_id}").text


def test_a_post_removed_by_screening_takes_its_author_to_the_statement(
    client: TestClient, runtime: Runtime, make_user: MakeUser
) -> None:
    with runtime.db.session() as session:
        publication.ensure_default(session)
    make_user("ana")
    login(client, "ana")
    doxxing = "Kelly Howard SSN 589-18-6326 lives at 2996 Drub Avenue"
    answer = form_post(client, "/compose", {"body": doxxing})
    assert answer.status_code == 303
    assert re.fullmatch(r"/statements/\d+", answer.headers["location"])
    statement = client.get(answer.headers["location"]).text
    assert "removed from public view" in statement
    assert "doxxing" in statement
    assert "Send appeal" in statement  # the author may appeal from there at once
    # An ordinary post still lands on the home feed; an edit that doxxes lands on its statement.
    assert form_post(client, "/compose", {"body": "hello"}).headers["location"] == "/"
    hello = _latest_post_path(client, "ana")
    post_id = hello.rsplit("/", 1)[1]
    edited = form_post(
        client,
        f"/posts/{post_id}/edit",
        {"body": f"hello {doxxing}"},
        page=f"/posts/{post_id}/edit",
    )
    assert re.fullmatch(r"/statements/\d+", edited.headers["location"])
    assert edited.headers["location"] != answer.headers["location"]

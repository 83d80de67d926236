"""Media API: uploads (v1 and v2), reading and describing one's own attachments."""

from __future__ import annotations

import io

from PIL import Image
from sqlalchemy import select
from starlette.testclient import TestClient

from parvis.accounts.models import User
from parvis.runtime import Runtime
from parvis.social.models import Attachment
from tests.api.conftest import TokenFor, post_status


def _png(width: int = 20, height: int = 10) -> bytes:
    image = io.BytesIO()
    Image.new("RGB", (width, height), "blue").save(image, "PNG")
    return image.getvalue()


def test_media_upload_and_attach(client: TestClient, token_for: TokenFor) -> None:
    ana = token_for("ana")
    uploaded = client.post(
        "/api/v2/media",
        files={"file": ("a.png", _png(), "image/png")},
        data={"description": "a blue box"},
        headers=ana,
    )
    assert uploaded.status_code == 200, uploaded.text
    media = uploaded.json()
    assert (media["type"], media["description"]) == ("image", "a blue box")
    assert media["meta"]["original"] == {"width": 20, "height": 10, "size": "20x10", "aspect": 2.0}
    status = post_status(client, ana, "look", **{"media_ids[]": media["id"]})
    assert status["media_attachments"][0]["id"] == media["id"]
    bad = client.post(
        "/api/v2/media",
        files={"file": ("x.exe", b"MZ\x90binary", "application/octet-stream")},
        headers=ana,
    )
    assert bad.status_code == 422
    assert "could not be read" in bad.json()["error"]


def test_v1_upload_pdf_and_missing_file(client: TestClient, token_for: TokenFor) -> None:
    ana = token_for("ana")
    missing = client.post("/api/v1/media", data={"description": "nothing"}, headers=ana)
    assert missing.status_code == 422
    assert "file" in missing.json()["error"]
    image = client.post(
        "/api/v1/media", files={"file": ("b.png", _png(4, 4), "image/png")}, headers=ana
    )
    assert image.json()["preview_url"]
    assert (
        client.post("/api/v1/media", files={"file": ("b.png", _png(), "image/png")}).status_code
        == 401
    )
    reader = token_for("reader", scope="read")
    denied = client.post(
        "/api/v1/media", files={"file": ("b.png", _png(), "image/png")}, headers=reader
    )
    assert denied.status_code == 403


def test_get_and_describe_own_media(client: TestClient, token_for: TokenFor) -> None:
    ana, bob = token_for("ana"), token_for("bob")
    media = client.post(
        "/api/v2/media", files={"file": ("a.png", _png(), "image/png")}, headers=ana
    ).json()
    path = f"/api/v1/media/{media['id']}"
    assert client.get(path, headers=ana).json()["description"] is None
    described = client.put(path, data={"description": "alt text"}, headers=ana)
    assert described.json()["description"] == "alt text"
    as_json = client.put(path, json={"description": "better alt"}, headers=ana)
    assert as_json.json()["description"] == "better alt"
    assert client.get(path, headers=ana).json()["description"] == "better alt"
    too_long = client.put(path, data={"description": "x" * 1501}, headers=ana)
    assert too_long.status_code == 422
    assert client.get(path, headers=bob).status_code == 404
    assert client.put(path, data={"description": "mine"}, headers=bob).status_code == 404
    assert client.get("/api/v1/media/abc", headers=ana).status_code == 404
    taken = client.post(
        "/api/v1/statuses", data={"status": "steal", "media_ids[]": media["id"]}, headers=bob
    )
    assert taken.status_code in (403, 404, 422)


def test_a_live_room_recording_is_audio_to_mastodon_clients(
    client: TestClient, token_for: TokenFor, runtime: Runtime
) -> None:
    hostess = token_for("hostess")
    with runtime.db.session() as session:
        owner = session.scalars(select(User).where(User.username == "hostess")).one()
        recorded = Attachment(  # as `live.recording.publish` stores a speaker's part
            owner_id=owner.id,
            kind="audio",
            content_type="audio/webm",
            storage_key="rec/part.webm",
            size=1000,
            sha256="0" * 64,
        )
        session.add(recorded)
        session.flush()
        attachment_id = recorded.id
    media = client.get(f"/api/v1/media/{attachment_id}", headers=hostess).json()
    assert (media["type"], media["preview_url"]) == ("audio", None)
    assert media["url"].endswith("/media/rec/part.webm")

"""Settings pages: profile and avatar, muted words, blocked and muted lists, password."""

from __future__ import annotations

import io
import re

from PIL import Image
from sqlalchemy import func, select
from starlette.testclient import TestClient

from parvis.accounts.models import User
from parvis.runtime import Runtime
from parvis.social.models import Attachment
from tests.conftest import PASSWORD, MakeUser
from tests.web.conftest import form_post, login, make_post

STRONG = "violet tractor anthem 1987 quietly"


def _png() -> bytes:
    data = io.BytesIO()
    Image.new("RGB", (64, 64), "navy").save(data, "PNG")
    return data.getvalue()


def test_profile_settings_save_and_show(client: TestClient, make_user: MakeUser) -> None:
    make_user("ana")
    login(client, "ana")
    saved = form_post(
        client,
        "/settings/profile",
        {"display_name": "Ana A.", "bio": "Walks the square"},
        page="/settings/profile",
        files={"avatar": ("me.png", _png(), "image/png")},
    )
    assert (saved.status_code, saved.headers["location"]) == (303, "/settings/profile?done=saved")
    assert "Profile saved." in client.get(saved.headers["location"]).text
    profile = client.get("/@ana").text
    assert "Ana A." in profile
    assert "Walks the square" in profile
    avatar = re.search(r'<img class="avatar size-72" src="(/media/[^"]+)"', profile)
    assert avatar
    assert client.get(avatar.group(1)).headers["content-type"] == "image/png"


def test_profile_errors_keep_input_and_change_nothing(
    client: TestClient, make_user: MakeUser, runtime: Runtime
) -> None:
    ana = make_user("ana")
    login(client, "ana")
    cases = [
        ({"display_name": "x"}, ("a.pdf", b"%PDF-1.4 broken", "application/pdf"), "avatar"),
        ({"display_name": "x"}, ("a.txt", b"hello", "text/plain"), "avatar"),
        ({"display_name": "x" * 61}, None, "display_name"),
        ({"display_name": "ok", "bio": "b" * 1001}, None, "bio"),
    ]
    for data, upload, field in cases:
        files = {"avatar": upload} if upload else None
        response = form_post(
            client, "/settings/profile", data, page="/settings/profile", files=files
        )
        assert response.status_code == 422, field
        assert f'id="{field}-error"' in response.text, field
        assert f'value="{data["display_name"]}"' in response.text
    with runtime.db.session() as session:
        me = session.get_one(User, ana.id)
        assert (me.display_name, me.bio, me.avatar_path) == (ana.display_name, ana.bio, None)
        assert session.scalar(select(func.count()).select_from(Attachment)) == 0


def test_muted_words_add_and_remove(
    client: TestClient, make_user: MakeUser, runtime: Runtime
) -> None:
    make_user("ana")
    bob = make_user("bob")
    make_post(runtime, bob, "the derby result")
    login(client, "ana")
    form_post(client, "/@bob/follow", page="/@bob")
    added = form_post(
        client,
        "/settings/muted-words",
        {"phrase": "derby", "whole_word": "yes"},
        page="/settings/muted-words",
    )
    assert added.headers["location"] == "/settings/muted-words"
    assert "derby result" not in client.get("/").text
    empty = form_post(
        client, "/settings/muted-words", {"phrase": " "}, page="/settings/muted-words"
    )
    assert empty.status_code == 422
    assert 'id="phrase-error"' in empty.text
    word_id = re.search(
        r"/settings/muted-words/(\d+)/delete", client.get("/settings/muted-words").text
    )
    assert word_id
    form_post(
        client, f"/settings/muted-words/{word_id.group(1)}/delete", page="/settings/muted-words"
    )
    assert "derby result" in client.get("/").text
    assert (
        form_post(
            client, "/settings/muted-words/999999/delete", page="/settings/muted-words"
        ).status_code
        == 404
    )


def test_change_password(client: TestClient, make_user: MakeUser) -> None:
    make_user("ana")
    login(client, "ana")
    wrong = form_post(
        client,
        "/settings/password",
        {"current_password": "nope", "new_password": STRONG},
        page="/settings/password",
    )
    assert wrong.status_code == 422
    assert 'id="current_password-error"' in wrong.text
    weak = form_post(
        client,
        "/settings/password",
        {"current_password": PASSWORD, "new_password": "short"},
        page="/settings/password",
    )
    assert weak.status_code == 422
    assert 'id="new_password-error"' in weak.text
    done = form_post(
        client,
        "/settings/password",
        {"current_password": PASSWORD, "new_password": STRONG},
        page="/settings/password",
    )
    assert done.headers["location"] == "/settings/password?done=changed"
    assert "Password changed." in client.get(done.headers["location"]).text
    client.cookies.clear()
    login(client, "ana", STRONG)

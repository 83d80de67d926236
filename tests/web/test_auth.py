"""Sign-up, verification, login throttling, logout, password reset and CSRF, over HTTP."""

from __future__ import annotations

import re

from starlette.testclient import TestClient

from parvis.config import Settings
from tests.conftest import PASSWORD, MakeUser, outbox_messages
from tests.web.conftest import csrf, form_post, login

STRONG = "violet tractor anthem 1987 quietly"


def _link(settings: Settings, path: str) -> str:
    match = re.search(rf"http://testserver({path}\?token=[\w-]+)", outbox_messages(settings)[-1])
    assert match
    return match.group(1)


def test_sign_up_verify_and_post(client: TestClient, settings: Settings) -> None:
    response = client.post(
        "/signup",
        data={
            "username": "nina",
            "email": "nina@example.org",
            "password": STRONG,
            "csrf_token": csrf(client, "/signup"),
        },
    )
    assert response.status_code == 200
    assert "Check your e-mail" in response.text
    refused = form_post(client, "/compose", {"body": "too early"})
    assert refused.status_code == 403
    assert "Confirm your e-mail" in refused.text
    assert "Address confirmed" in client.get(_link(settings, "/verify-email")).text
    posted = form_post(client, "/compose", {"body": "first post"})
    assert posted.status_code == 303
    assert "first post" in client.get("/").text


def test_sign_up_errors_keep_input_and_change_nothing(
    client: TestClient, make_user: MakeUser
) -> None:
    make_user("taken")
    token = csrf(client, "/signup")
    duplicate = client.post(
        "/signup",
        data={
            "username": "TAKEN",
            "email": "x@example.org",
            "password": STRONG,
            "csrf_token": token,
        },
    )
    assert duplicate.status_code == 409
    assert "already taken" in duplicate.text
    assert 'value="TAKEN"' in duplicate.text
    weak = client.post(
        "/signup",
        data={
            "username": "newbie",
            "email": "n@example.org",
            "password": "password",
            "csrf_token": token,
        },
    )
    assert weak.status_code == 422
    assert "Password" in weak.text
    assert client.get("/@newbie").status_code == 404


def test_forged_csrf_is_refused(client: TestClient, make_user: MakeUser) -> None:
    make_user("ana")
    response = client.post(
        "/login", data={"username": "ana", "password": PASSWORD, "csrf_token": "forged"}
    )
    assert response.status_code == 403
    assert "CSRF" in response.text
    login(client, "ana")
    forged = client.post("/compose", data={"body": "hi", "csrf_token": "forged"})
    assert forged.status_code == 403
    assert "Nothing here yet" in client.get("/").text


def test_wrong_password_then_throttled(
    client: TestClient, make_user: MakeUser, settings: Settings
) -> None:
    make_user("ana")
    settings.login_attempts_per_account = 2
    for _ in range(2):
        wrong = client.post(
            "/login", data={"username": "ana", "password": "nope", "csrf_token": csrf(client)}
        )
        assert wrong.status_code == 422
        assert "Wrong username/e-mail or password" in wrong.text
    throttled = client.post(
        "/login", data={"username": "ana", "password": PASSWORD, "csrf_token": csrf(client)}
    )
    assert throttled.status_code == 429
    assert "Retry-After" in throttled.headers


def test_logout_ends_the_session(client: TestClient, make_user: MakeUser) -> None:
    make_user("ana")
    login(client, "ana")
    assert "Log out" in client.get("/").text
    form_post(client, "/logout")
    assert "Log in" in client.get("/").text


def test_password_reset_round_trip(
    client: TestClient, make_user: MakeUser, settings: Settings
) -> None:
    make_user("ana")
    client.post(
        "/forgot-password",
        data={"email": "ana@example.org", "csrf_token": csrf(client, "/forgot-password")},
    )
    link = _link(settings, "/reset-password")
    page = client.get(link)
    assert "Choose a new password" in page.text
    token = link.split("token=")[1]
    done = client.post(
        "/reset-password",
        data={"token": token, "password": STRONG, "csrf_token": csrf(client, link)},
    )
    assert "Password changed" in done.text
    again = client.get(link)
    assert again.status_code == 422
    assert "not valid" in again.text
    login(client, "ana", STRONG)


def test_login_next_is_never_an_outside_address(client: TestClient, make_user: MakeUser) -> None:
    make_user("ana")
    response = client.post(
        "/login",
        data={
            "username": "ana",
            "password": PASSWORD,
            "next": "https://evil.example/",
            "csrf_token": csrf(client),
        },
        follow_redirects=False,
    )
    assert response.headers["location"] == "/"

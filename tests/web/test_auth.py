"""Sign-up, verification, login throttling, logout and password reset, over HTTP."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import func, select, update
from starlette.testclient import TestClient

from parvis.accounts.models import EmailToken, User
from parvis.config import Settings
from parvis.runtime import Runtime
from parvis.storage.base import utcnow
from tests.conftest import PASSWORD, MakeUser, outbox_messages
from tests.web.conftest import csrf, form_post, login

STRONG = "violet tractor anthem 1987 quietly"


def _link(settings: Settings, path: str) -> str:
    match = re.search(rf"http://testserver({path}\?token=[\w-]+)", outbox_messages(settings)[-1])
    assert match
    return match.group(1)


def _sign_up(client: TestClient, username: str, email: str, password: str = STRONG) -> object:
    return client.post(
        "/signup",
        data={
            "username": username,
            "email": email,
            "password": password,
            "csrf_token": csrf(client, "/signup"),
        },
        follow_redirects=False,
    )


def _user_count(runtime: Runtime) -> int:
    with runtime.db.session() as session:
        return session.scalar(select(func.count()).select_from(User)) or 0


def test_sign_up_verify_and_post(client: TestClient, settings: Settings) -> None:
    response = client.post(
        "/signup",
        data={
            "username": "nina",
            "email": "nina@example.org",
            "password": STRONG,
            "csrf_token": csrf(client, "/signup"),
        },
        follow_redirects=False,
    )
    assert (response.status_code, response.headers["location"]) == (303, "/welcome")
    cookie = response.headers["set-cookie"].lower()
    assert "parvis_session=" in cookie
    assert "httponly" in cookie
    assert "samesite=lax" in cookie
    welcome = client.get("/welcome")
    assert "Check your e-mail" in welcome.text
    assert "nina@example.org" in welcome.text
    refused = form_post(client, "/compose", {"body": "too early"})
    assert refused.status_code == 403
    assert "Confirm your e-mail" in refused.text
    assert "Address confirmed" in client.get(_link(settings, "/verify-email")).text
    assert client.get("/welcome", follow_redirects=False).headers["location"] == "/"
    posted = form_post(client, "/compose", {"body": "first post"})
    assert posted.status_code == 303
    assert "first post" in client.get("/").text


def test_sign_up_errors_sit_next_to_their_field_and_change_nothing(
    client: TestClient, make_user: MakeUser, runtime: Runtime
) -> None:
    make_user("taken")
    before = _user_count(runtime)
    cases = [
        ("TAKEN", "x@example.org", STRONG, 409, "username", "already taken"),
        ("fresh", "TAKEN@example.org", STRONG, 409, "email", "already exists"),
        ("no spaces!", "y@example.org", STRONG, 422, "username", "Username"),
        ("fresh", "not-an-address", STRONG, 422, "email", "valid e-mail"),
        ("newbie", "n@example.org", "password", 422, "password", "Password"),
    ]
    for username, email, password, status, field, message in cases:
        response = client.post(
            "/signup",
            data={
                "username": username,
                "email": email,
                "password": password,
                "csrf_token": csrf(client, "/signup"),
            },
        )
        assert response.status_code == status, (username, response.text)
        error = re.search(rf'<p class="field-error" id="{field}-error">([^<]+)</p>', response.text)
        assert error, f"no error next to {field}"
        assert message in error.group(1)
        assert f'id="{field}"' in response.text
        assert 'aria-invalid="true"' in response.text
        assert f'value="{username}"' in response.text  # what was typed is kept
        assert f'value="{password}"' not in response.text  # but never the password
    assert _user_count(runtime) == before
    assert outbox_messages(runtime.settings) == []


def test_verification_links_bogus_used_and_expired(
    client: TestClient, runtime: Runtime, settings: Settings
) -> None:
    _sign_up(client, "vera", "vera@example.org")
    bogus = client.get("/verify-email?token=nonsense")
    assert bogus.status_code == 422
    assert "This link is not valid" in bogus.text
    link = _link(settings, "/verify-email")
    assert client.get(link).status_code == 200
    used = client.get(link)
    assert used.status_code == 422
    assert "already used" in used.text

    _sign_up(TestClient(client.app), "late", "late@example.org")
    late_link = _link(settings, "/verify-email")
    with runtime.db.session() as session:
        session.execute(update(EmailToken).values(expires_at=utcnow() - timedelta(minutes=1)))
    expired = client.get(late_link)
    assert expired.status_code == 422
    assert "expired" in expired.text
    with runtime.db.session() as session:
        late = session.scalars(select(User).where(User.username == "late")).one()
        assert late.email_verified_at is None


def test_resend_verification_sends_a_fresh_link(client: TestClient, settings: Settings) -> None:
    _sign_up(client, "vera", "vera@example.org")
    first = _link(settings, "/verify-email")
    sent = form_post(client, "/verify-email/resend", page="/settings/profile")
    assert (sent.status_code, sent.headers["location"]) == (
        303,
        "/settings/profile?done=link-sent",
    )
    assert "We sent a new confirmation link" in client.get(sent.headers["location"]).text
    assert len(outbox_messages(settings)) == 2
    assert _link(settings, "/verify-email") != first
    assert "Address confirmed" in client.get(_link(settings, "/verify-email")).text


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
        assert 'value="ana"' in wrong.text
    throttled = client.post(
        "/login", data={"username": "ana", "password": PASSWORD, "csrf_token": csrf(client)}
    )
    assert throttled.status_code == 429
    assert throttled.headers["retry-after"] == str(settings.login_window_seconds)
    assert "Too many failed logins" in throttled.text
    assert "parvis_session" not in client.cookies


def test_unknown_account_gets_the_same_answer(client: TestClient) -> None:
    response = client.post(
        "/login", data={"username": "ghost", "password": "x", "csrf_token": csrf(client)}
    )
    assert response.status_code == 422
    assert "Wrong username/e-mail or password" in response.text


def test_login_by_email_and_logout_ends_the_session(
    client: TestClient, make_user: MakeUser
) -> None:
    make_user("ana")
    login(client, "ana@example.org")
    assert "Log out" in client.get("/").text
    raw = client.cookies["parvis_session"]
    out = form_post(client, "/logout")
    assert out.headers["location"] == "/public"
    assert "Log in" in client.get("/").text
    client.cookies.set("parvis_session", raw)  # the old cookie is dead on the server too
    assert "Log out" not in client.get("/").text


def test_password_reset_round_trip(
    client: TestClient, make_user: MakeUser, settings: Settings
) -> None:
    make_user("ana")
    sent = client.post(
        "/forgot-password",
        data={"email": "ana@example.org", "csrf_token": csrf(client, "/forgot-password")},
        follow_redirects=False,
    )
    assert sent.headers["location"] == "/forgot-password/sent"
    link = _link(settings, "/reset-password")
    page = client.get(link)
    assert "Choose a new password" in page.text
    token = link.split("token=")[1]
    weak = client.post(
        "/reset-password",
        data={"token": token, "password": "short", "csrf_token": csrf(client, link)},
    )
    assert weak.status_code == 422
    assert 'id="password-error"' in weak.text
    done = client.post(
        "/reset-password",
        data={"token": token, "password": STRONG, "csrf_token": csrf(client, link)},
        follow_redirects=False,
    )
    assert done.headers["location"] == "/login?done=password-reset"
    assert "Password changed" in client.get(done.headers["location"]).text
    again = client.get(link)
    assert again.status_code == 422
    assert "not valid" in again.text
    login(client, "ana", STRONG)


def test_unknown_address_gets_the_same_answer_and_no_mail(
    client: TestClient, settings: Settings
) -> None:
    response = client.post(
        "/forgot-password",
        data={"email": "nobody@example.org", "csrf_token": csrf(client, "/forgot-password")},
    )
    assert "If an account uses this address" in response.text
    assert outbox_messages(settings) == []


def test_expired_reset_link_is_refused(
    client: TestClient, make_user: MakeUser, runtime: Runtime, settings: Settings
) -> None:
    make_user("ana")
    client.post(
        "/forgot-password",
        data={"email": "ana@example.org", "csrf_token": csrf(client, "/forgot-password")},
    )
    link = _link(settings, "/reset-password")
    with runtime.db.session() as session:
        session.execute(update(EmailToken).values(expires_at=utcnow() - timedelta(minutes=1)))
    assert client.get(link).status_code == 422
    refused = client.post(
        "/reset-password",
        data={
            "token": link.split("token=")[1],
            "password": STRONG,
            "csrf_token": csrf(client, "/login"),
        },
    )
    assert refused.status_code == 422
    assert "Ask for a new one" in refused.text
    login(client, "ana", PASSWORD)  # the old password still works


def test_login_next_is_never_an_outside_address(client: TestClient, make_user: MakeUser) -> None:
    make_user("ana")
    for target, expected in [
        ("https://evil.example/", "/"),
        ("//evil.example/", "/"),
        ("/@ana", "/@ana"),
    ]:
        client.cookies.clear()
        response = client.post(
            "/login",
            data={
                "username": "ana",
                "password": PASSWORD,
                "next": target,
                "csrf_token": csrf(client),
            },
            follow_redirects=False,
        )
        assert response.headers["location"] == expected

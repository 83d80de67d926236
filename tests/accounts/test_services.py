"""Account workflows: sign-up rules, verification, login throttling, password reset, sessions."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from parvis.accounts import passwords, services
from parvis.accounts.models import EmailToken, Role, User, WebSession
from parvis.errors import Conflict, InvalidInput, PermissionDenied, RateLimited
from parvis.runtime import Runtime
from parvis.storage.base import utcnow
from tests.conftest import PASSWORD, MakeUser, outbox_messages

STRONG = "violet tractor anthem 1987 quietly"


def _link(message: str, path: str) -> str:
    match = re.search(rf"{path}\?token=([\w-]+)", message)
    assert match, message
    return match.group(1)


def test_sign_up_creates_unverified_member_and_sends_verification_link(runtime: Runtime) -> None:
    with runtime.db.session() as session:
        user = services.sign_up(session, runtime.services, "Ana_1", "Ana@Example.org", STRONG)
        assert user.email_verified_at is None
        assert user.role == Role.MEMBER.value
    messages = outbox_messages(runtime.settings)
    assert len(messages) == 1
    token = _link(messages[0], "/verify-email")
    with runtime.db.session() as session:
        verified = services.verify_email(session, token)
        assert verified.email_verified_at is not None
    with runtime.db.session() as session, pytest.raises(InvalidInput, match="already used"):
        services.verify_email(session, token)


@pytest.mark.parametrize(
    ("username", "fragment"),
    [
        ("ab", "3 to 30"),
        ("has space", "letters, digits"),
        ("admin", "reserved"),
        ("x" * 31, "3 to 30"),
    ],
)
def test_sign_up_refuses_bad_usernames(runtime: Runtime, username: str, fragment: str) -> None:
    with runtime.db.session() as session, pytest.raises(InvalidInput, match=fragment):
        services.sign_up(session, runtime.services, username, "a@example.org", STRONG)


def test_sign_up_refuses_weak_password_with_advice(runtime: Runtime) -> None:
    with runtime.db.session() as session, pytest.raises(InvalidInput) as caught:
        services.sign_up(session, runtime.services, "bob", "bob@example.org", "password123")
    assert caught.value.field == "password"
    assert "weak" in caught.value.message or "short" in caught.value.message


def test_usernames_and_emails_are_unique_case_insensitively(
    runtime: Runtime, make_user: MakeUser
) -> None:
    make_user("carol")
    with runtime.db.session() as session, pytest.raises(Conflict, match="already taken"):
        services.sign_up(session, runtime.services, "CAROL", "other@example.org", STRONG)
    with runtime.db.session() as session, pytest.raises(Conflict, match="e-mail"):
        services.sign_up(session, runtime.services, "carol2", "Carol@example.org", STRONG)


def test_closed_registrations_refuse_sign_up(runtime: Runtime) -> None:
    runtime.settings.registrations_open = False
    with runtime.db.session() as session, pytest.raises(PermissionDenied, match="closed"):
        services.sign_up(session, runtime.services, "dave", "dave@example.org", STRONG)


def test_authenticate_accepts_username_or_email(runtime: Runtime, make_user: MakeUser) -> None:
    erin = make_user("erin")
    for identifier in ("erin", "@ERIN", "erin@example.org"):
        user_id = services.authenticate(
            runtime.db, runtime.settings, identifier, PASSWORD, "1.2.3.4"
        )
        assert user_id == erin.id


def test_password_check_runs_outside_any_write_transaction(
    runtime: Runtime, make_user: MakeUser, monkeypatch: pytest.MonkeyPatch
) -> None:
    # argon2 is slow on purpose; while it works, other members must be able to write (on
    # SQLite a write transaction around it would keep them waiting for the single write lock).
    make_user("ivo")
    checked = passwords.verify_password
    written: list[int] = []

    def check_while_another_member_writes(stored_hash: str, password: str) -> bool:
        with runtime.db.session() as other:
            other.execute(
                update(User).where(User.username == "ivo").values(display_name="written meanwhile")
            )
            written.append(1)
        return checked(stored_hash, password)

    monkeypatch.setattr(passwords, "verify_password", check_while_another_member_writes)
    assert services.authenticate(runtime.db, runtime.settings, "ivo", PASSWORD, "1.2.3.4")
    assert services.authenticate(runtime.db, runtime.settings, "nobody", "x", "1.2.3.4") is None
    assert written == [1, 1]


def test_login_upgrades_a_hash_made_with_weaker_parameters(
    runtime: Runtime, make_user: MakeUser
) -> None:
    user = make_user("jude")
    with runtime.db.session() as session:
        old_hash = session.get_one(User, user.id).password_hash
    passwords.use_parameters(time_cost=2, memory_kib=1024)
    try:
        assert services.authenticate(runtime.db, runtime.settings, "jude", PASSWORD, "1.2.3.4")
        with runtime.db.session() as session:
            stored = session.get_one(User, user.id)
            assert stored.password_hash != old_hash
            assert not passwords.needs_rehash(stored.password_hash)
            assert stored.last_active_at is not None
    finally:
        passwords.use_parameters(
            runtime.settings.argon2_time_cost, runtime.settings.argon2_memory_kib
        )


def test_failed_logins_are_throttled_per_account(runtime: Runtime, make_user: MakeUser) -> None:
    make_user("frank")
    runtime.settings.login_attempts_per_account = 3
    for _ in range(3):
        assert (
            services.authenticate(runtime.db, runtime.settings, "frank", "nope", "9.9.9.9") is None
        )
    with pytest.raises(RateLimited) as caught:
        services.authenticate(runtime.db, runtime.settings, "frank", PASSWORD, "8.8.8.8")
    assert caught.value.retry_after > 0


def test_failed_logins_are_throttled_per_address(runtime: Runtime, make_user: MakeUser) -> None:
    runtime.settings.login_attempts_per_address = 2
    for name in ("ghost1", "ghost2"):
        assert services.authenticate(runtime.db, runtime.settings, name, "x", "7.7.7.7") is None
    with pytest.raises(RateLimited):
        services.authenticate(runtime.db, runtime.settings, "ghost3", "x", "7.7.7.7")


def test_password_reset_link_is_single_use_and_ends_sessions(
    runtime: Runtime, make_user: MakeUser
) -> None:
    user = make_user("gina")
    with runtime.db.session() as session:
        services.start_web_session(session, runtime.settings, user)
        services.request_password_reset(session, runtime.services, "GINA@example.org")
    token = _link(outbox_messages(runtime.settings)[-1], "/reset-password")
    assert services.reset_password(runtime.db, runtime.settings, token, STRONG) == user.id
    with runtime.db.session() as session:
        assert session.scalars(select(WebSession).where(WebSession.user_id == user.id)).all() == []
    assert services.authenticate(runtime.db, runtime.settings, "gina", STRONG, "1.1.1.1")
    with pytest.raises(InvalidInput, match="not valid"):
        services.reset_password(runtime.db, runtime.settings, token, STRONG + "x")


def test_expired_reset_link_is_refused(runtime: Runtime, make_user: MakeUser) -> None:
    make_user("hana")
    with runtime.db.session() as session:
        services.request_password_reset(session, runtime.services, "hana@example.org")
    token = _link(outbox_messages(runtime.settings)[-1], "/reset-password")
    with runtime.db.session() as session:
        for row in session.scalars(select(EmailToken)):
            row.expires_at = utcnow() - timedelta(minutes=1)
    with pytest.raises(InvalidInput):
        services.reset_password(runtime.db, runtime.settings, token, STRONG)


def test_reset_request_for_unknown_address_sends_nothing(runtime: Runtime) -> None:
    with runtime.db.session() as session:
        services.request_password_reset(session, runtime.services, "nobody@example.org")
    assert outbox_messages(runtime.settings) == []


def test_new_reset_link_invalidates_older_one(runtime: Runtime, make_user: MakeUser) -> None:
    make_user("ivan")
    for _ in range(2):
        with runtime.db.session() as session:
            services.request_password_reset(session, runtime.services, "ivan@example.org")
    first, second = (_link(m, "/reset-password") for m in outbox_messages(runtime.settings))
    with runtime.db.session() as session, pytest.raises(InvalidInput):
        services.check_reset_token(session, first)
    with runtime.db.session() as session:
        services.check_reset_token(session, second)


def test_web_session_resolves_until_logout(runtime: Runtime, make_user: MakeUser) -> None:
    user = make_user("jade")
    with runtime.db.session() as session:
        raw, row = services.start_web_session(session, runtime.settings, user, "pytest")
        assert row.token_hash != raw  # only the hash is stored
    with runtime.db.session() as session:
        resolved = services.resolve_web_session(session, raw)
        assert resolved is not None
        assert resolved[1].id == user.id
        services.end_web_session(session, raw)
    with runtime.db.session() as session:
        assert services.resolve_web_session(session, raw) is None


def test_update_profile_checks_lengths(runtime: Runtime, make_user: MakeUser) -> None:
    make_user("kim")
    with runtime.db.session() as session:
        user = services.get_user_by_username(session, "kim")
        services.update_profile(user, display_name=" Kim K ", bio="Hello")
        assert user.display_name == "Kim K"
        with pytest.raises(InvalidInput, match="60"):
            services.update_profile(user, display_name="x" * 61)
    with runtime.db.session() as session:
        assert (
            session.scalars(select(User.display_name).where(User.username == "kim")).one()
            == "Kim K"
        )


def test_changing_password_ends_other_sessions_only(runtime: Runtime, make_user: MakeUser) -> None:
    user = make_user("lena")
    with runtime.db.session() as session:
        me = session.get_one(User, user.id)
        _raw_other, _ = services.start_web_session(session, runtime.settings, me)
        raw_here, here = services.start_web_session(session, runtime.settings, me)
    services.change_password(runtime.db, runtime.settings, user.id, PASSWORD, STRONG, here.id)
    with runtime.db.session() as session:
        remaining = session.scalars(select(WebSession).where(WebSession.user_id == user.id)).all()
        assert [row.id for row in remaining] == [here.id]
        assert services.resolve_web_session(session, raw_here) is not None

"""Account workflows: sign-up, e-mail verification, login, password reset, profiles, roles.

Every function takes the unit of work (`Session`) it runs in and the caller commits, except
`authenticate`, which opens its own short ones around the deliberately slow password check.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from parvis.accounts import passwords
from parvis.accounts.models import EmailToken, LoginAttempt, Role, User, WebSession
from parvis.accounts.tokens import hash_token, new_token
from parvis.audit import log as audit_log
from parvis.config import Settings
from parvis.errors import Conflict, InvalidInput, NotFound, PermissionDenied, RateLimited
from parvis.mail import Mailer
from parvis.storage.base import utcnow
from parvis.storage.database import Database

USERNAME_RE = re.compile(r"^[A-Za-z0-9_]{3,30}$")
EMAIL_RE = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]+$")
RESERVED_USERNAMES = frozenset(
    {"admin", "administrator", "root", "parvis", "moderator", "moderators", "support",
     "api", "oauth", "settings", "login", "logout", "signup", "about", "rules", "help",
     "staff", "system", "null", "undefined", "well_known"}
)  # fmt: skip
VERIFY = "verify"
RESET = "reset"


@dataclass(frozen=True)
class Services:
    """What account workflows need from outside: settings and a way to send e-mail."""

    settings: Settings
    mailer: Mailer


def _username_key(username: str) -> str:
    return username.strip().lower()


def _email_key(email: str) -> str:
    return email.strip().lower()


def validate_username(username: str) -> str:
    """Return the username if it follows the rules, else explain which rule it breaks."""
    username = username.strip()
    if not USERNAME_RE.match(username):
        raise InvalidInput(
            "Username must be 3 to 30 characters: letters, digits and underscores only.",
            field="username",
        )
    if username.lower() in RESERVED_USERNAMES:
        raise InvalidInput(f"The username '{username}' is reserved; choose another.", "username")
    return username


def validate_email(email: str) -> str:
    """Return the trimmed address if it looks deliverable."""
    email = email.strip()
    if len(email) > 254 or not EMAIL_RE.match(email):
        raise InvalidInput("Enter a valid e-mail address such as ana@example.org.", field="email")
    return email


def create_user(
    session: Session,
    settings: Settings,
    *,
    username: str,
    email: str,
    password: str,
    role: Role = Role.MEMBER,
    verified: bool = False,
    check_strength: bool = True,
) -> User:
    """Create an account after checking the username, e-mail and password rules."""
    username = validate_username(username)
    email = validate_email(email)
    if check_strength:
        passwords.check_strength(password, settings.min_password_score, [username, email])
    # Hashed before the first query: in a fresh unit of work on SQLite, the write lock is not
    # yet held while argon2 works.
    password_hash = passwords.hash_password(password)
    if session.scalar(select(User.id).where(User.username_key == _username_key(username))):
        raise Conflict(f"The username '{username}' is already taken.", field="username")
    if session.scalar(select(User.id).where(User.email_key == _email_key(email))):
        raise Conflict("An account with this e-mail address already exists.", field="email")
    user = User(
        username=username,
        username_key=_username_key(username),
        email=email,
        email_key=_email_key(email),
        password_hash=password_hash,
        role=role.value,
        email_verified_at=utcnow() if verified else None,
    )
    session.add(user)
    session.flush()
    if user.role != Role.MEMBER.value:
        audit_log.record_role(session, user.id, user.username, user.role)
    return user


def sign_up(session: Session, services: Services, username: str, email: str, password: str) -> User:
    """Public sign-up: create an unverified member and e-mail a verification link."""
    if not services.settings.registrations_open:
        raise PermissionDenied("Sign-ups are closed on this instance.")
    user = create_user(
        session, services.settings, username=username, email=email, password=password
    )
    send_verification(session, services, user)
    return user


def _issue_email_token(session: Session, user: User, purpose: str, lifetime: timedelta) -> str:
    raw, digest = new_token()
    now = utcnow()
    session.add(
        EmailToken(
            user_id=user.id,
            purpose=purpose,
            token_hash=digest,
            created_at=now,
            expires_at=now + lifetime,
        )
    )
    return raw


def send_verification(session: Session, services: Services, user: User) -> None:
    """E-mail a link that proves the member owns their address."""
    settings = services.settings
    raw = _issue_email_token(session, user, VERIFY, timedelta(hours=settings.verification_hours))
    link = f"{settings.base_url}/verify-email?token={raw}"
    services.mailer.send(
        session,
        user.email,
        f"Confirm your e-mail address for {settings.instance_name}",
        f"Hello {user.username},\n\nConfirm your address by opening this link within "
        f"{settings.verification_hours} hours:\n\n{link}\n\n"
        "If you did not sign up, ignore this message.\n",
    )


def _consume_email_token(session: Session, raw: str, purpose: str) -> EmailToken:
    token = session.scalar(
        select(EmailToken).where(
            EmailToken.token_hash == hash_token(raw), EmailToken.purpose == purpose
        )
    )
    if token is None:
        raise InvalidInput("This link is not valid. Ask for a new one.", field="token")
    if token.used_at is not None:
        raise InvalidInput("This link was already used. Ask for a new one.", field="token")
    if token.expires_at < utcnow():
        raise InvalidInput("This link has expired. Ask for a new one.", field="token")
    token.used_at = utcnow()
    return token


def verify_email(session: Session, raw_token: str) -> User:
    """Mark the address as verified using the single-use link token."""
    token = _consume_email_token(session, raw_token, VERIFY)
    user = session.get_one(User, token.user_id)
    user.email_verified_at = user.email_verified_at or utcnow()
    return user


def find_by_login(session: Session, identifier: str) -> User | None:
    """Look a member up by username (optionally @-prefixed) or e-mail address."""
    key = identifier.strip().lower().lstrip("@")
    column = User.email_key if "@" in key else User.username_key
    return session.scalar(select(User).where(column == key))


def _check_login_rate(session: Session, settings: Settings, address: str, account: str) -> None:
    since = utcnow() - timedelta(seconds=settings.login_window_seconds)
    by_address = session.scalar(
        select(func.count())
        .select_from(LoginAttempt)
        .where(LoginAttempt.address == address, LoginAttempt.created_at >= since)
    )
    by_account = session.scalar(
        select(func.count())
        .select_from(LoginAttempt)
        .where(LoginAttempt.account_key == account, LoginAttempt.created_at >= since)
    )
    if (by_address or 0) >= settings.login_attempts_per_address or (
        by_account or 0
    ) >= settings.login_attempts_per_account:
        raise RateLimited(
            "Too many failed logins. Wait a few minutes before trying again, "
            "or reset your password.",
            retry_after=settings.login_window_seconds,
        )


def authenticate(
    db: Database, settings: Settings, identifier: str, password: str, address: str
) -> int | None:
    """Check credentials, with failed attempts limited per client address and per account.

    Returns the member's id, or None on a wrong name or password after recording the failure;
    the caller shows one message that never reveals whether the account exists. It runs its
    own short units of work because argon2 takes tens of milliseconds on purpose: hashing
    inside a write transaction would hold SQLite's single write lock that long per login, and
    a login storm would then stall every writer on the instance.
    """
    account = identifier.strip().lower().lstrip("@")[:254]
    address = address[:64]
    with db.session(read_only=True) as session:
        _check_login_rate(session, settings, address, account)
        user = find_by_login(session, identifier)
        found = (user.id, user.password_hash) if user is not None else None
    if found is None:
        passwords.verify_password(_absent_account_hash(), password)  # same time either way
        matched = False
    else:
        matched = passwords.verify_password(found[1], password)
    if found is None or not matched:
        with db.session() as session:
            session.add(LoginAttempt(address=address, account_key=account))
        return None
    user_id, stored_hash = found
    rehashed = passwords.hash_password(password) if passwords.needs_rehash(stored_hash) else None
    with db.session() as session:
        session.execute(update(User).where(User.id == user_id).values(last_active_at=utcnow()))
        if rehashed is not None:  # unless the password changed meanwhile
            session.execute(
                update(User)
                .where(User.id == user_id, User.password_hash == stored_hash)
                .values(password_hash=rehashed)
            )
        session.execute(delete(LoginAttempt).where(LoginAttempt.account_key == account))
    return user_id


@cache
def _absent_account_hash() -> str:
    """A hash to check wrong logins for unknown accounts against, so they take as long."""
    return passwords.hash_password(new_token()[0])


WRONG_CREDENTIALS = "Wrong username/e-mail or password."


def start_web_session(
    session: Session, settings: Settings, user: User, user_agent: str = ""
) -> tuple[str, WebSession]:
    """Open a browser session; returns the cookie value (shown once) and the stored row."""
    raw, digest = new_token()
    csrf, _ = new_token(24)
    now = utcnow()
    row = WebSession(
        token_hash=digest,
        user_id=user.id,
        csrf_token=csrf,
        created_at=now,
        expires_at=now + timedelta(days=settings.session_days),
        user_agent=user_agent[:255],
    )
    session.add(row)
    session.flush()
    return raw, row


def resolve_web_session(session: Session, raw: str) -> tuple[WebSession, User] | None:
    """The live session and member behind a cookie value, or None."""
    row = session.scalar(select(WebSession).where(WebSession.token_hash == hash_token(raw)))
    if row is None or row.expires_at < utcnow():
        return None
    return row, session.get_one(User, row.user_id)


def end_web_session(session: Session, raw: str) -> None:
    """Log a browser out."""
    session.execute(delete(WebSession).where(WebSession.token_hash == hash_token(raw)))


def request_password_reset(session: Session, services: Services, email: str) -> None:
    """E-mail a single-use reset link if an account has this address; silent otherwise."""
    user = session.scalar(select(User).where(User.email_key == _email_key(email)))
    if user is None:
        return
    settings = services.settings
    # A new link makes older unused ones useless.
    session.execute(
        update(EmailToken)
        .where(
            EmailToken.user_id == user.id,
            EmailToken.purpose == RESET,
            EmailToken.used_at.is_(None),
        )
        .values(used_at=utcnow())
    )
    raw = _issue_email_token(
        session, user, RESET, timedelta(minutes=settings.password_reset_minutes)
    )
    link = f"{settings.base_url}/reset-password?token={raw}"
    services.mailer.send(
        session,
        user.email,
        f"Reset your {settings.instance_name} password",
        f"Hello {user.username},\n\nSomeone asked to reset your password. To choose a new one, "
        f"open this link within {settings.password_reset_minutes} minutes:\n\n{link}\n\n"
        "The link works once. If it was not you, ignore this message; your password is "
        "unchanged.\n",
    )


def check_reset_token(session: Session, raw_token: str) -> None:
    """Raise if a reset link is unknown, used or expired (to show the form or an error)."""
    token = session.scalar(
        select(EmailToken).where(
            EmailToken.token_hash == hash_token(raw_token), EmailToken.purpose == RESET
        )
    )
    if token is None or token.used_at is not None or token.expires_at < utcnow():
        raise InvalidInput("This reset link is not valid any more. Ask for a new one.", "token")


def reset_password(db: Database, settings: Settings, raw_token: str, password: str) -> int:
    """Set a new password through a reset link; every open session of the member ends.

    Returns the member's id. Like `authenticate`, it hashes outside any write transaction.
    """
    with db.session(read_only=True) as session:
        check_reset_token(session, raw_token)
        user = session.scalars(
            select(User)
            .join(EmailToken, EmailToken.user_id == User.id)
            .where(EmailToken.token_hash == hash_token(raw_token))
        ).one()
        user_id, names = user.id, [user.username, user.email]
    passwords.check_strength(password, settings.min_password_score, names)
    new_hash = passwords.hash_password(password)
    with db.session() as session:
        _consume_email_token(session, raw_token, RESET)  # again: a twin request may have won
        user = session.get_one(User, user_id)
        user.password_hash = new_hash
        user.email_verified_at = user.email_verified_at or utcnow()  # they proved the address
        session.execute(delete(WebSession).where(WebSession.user_id == user_id))
    return user_id


def change_password(
    db: Database,
    settings: Settings,
    user_id: int,
    current: str,
    new: str,
    keep_session_id: int | None = None,
) -> None:
    """Change the password of a signed-in member who knows the current one.

    Every other browser session ends (a stolen session must not survive a password change);
    the one making the change is kept. Both argon2 steps run outside any write transaction.
    """
    with db.session(read_only=True) as session:
        user = get_user(session, user_id)
        stored_hash, names = user.password_hash, [user.username, user.email]
    if not passwords.verify_password(stored_hash, current):
        raise InvalidInput("The current password is wrong.", field="current_password")
    passwords.check_strength(new, settings.min_password_score, names)
    new_hash = passwords.hash_password(new)
    with db.session() as session:
        changed = session.execute(
            update(User)
            .where(User.id == user_id, User.password_hash == stored_hash)
            .values(password_hash=new_hash)
        )
        if changed.rowcount != 1:  # type: ignore[attr-defined]
            raise Conflict(
                "The password was changed elsewhere meanwhile. Sign in again and retry.",
                field="current_password",
            )
        others = delete(WebSession).where(WebSession.user_id == user_id)
        if keep_session_id is not None:
            others = others.where(WebSession.id != keep_session_id)
        session.execute(others)


def update_profile(
    user: User,
    *,
    display_name: str | None = None,
    bio: str | None = None,
    avatar_path: str | None = None,
) -> User:
    """Change the public profile fields that were given."""
    if display_name is not None:
        display_name = display_name.strip()
        if len(display_name) > 60:
            raise InvalidInput("Display name: at most 60 characters.", field="display_name")
        user.display_name = display_name
    if bio is not None:
        if len(bio) > 1000:
            raise InvalidInput("Bio: at most 1000 characters.", field="bio")
        user.bio = bio.strip()
    if avatar_path is not None:
        user.avatar_path = avatar_path
    return user


def set_role(session: Session, user: User, role: Role) -> None:
    """Change a member's role (operators and admins only; callers check the permission)."""
    user.role = role.value
    session.flush()
    audit_log.record_role(session, user.id, user.username, user.role)


def get_user(session: Session, user_id: int) -> User:
    """A member by id, or NotFound."""
    user = session.get(User, user_id)
    if user is None:
        raise NotFound("No such account.")
    return user


def get_user_by_username(session: Session, username: str) -> User:
    """A member by username (case-insensitive), or NotFound."""
    user = session.scalar(select(User).where(User.username_key == _username_key(username)))
    if user is None:
        raise NotFound(f"No account named '{username}'.")
    return user


def prune_expired(session: Session, now: datetime | None = None) -> None:
    """Delete expired sessions, tokens and old login failures (housekeeping)."""
    now = now or utcnow()
    session.execute(delete(WebSession).where(WebSession.expires_at < now))
    session.execute(delete(EmailToken).where(EmailToken.expires_at < now - timedelta(days=7)))
    session.execute(delete(LoginAttempt).where(LoginAttempt.created_at < now - timedelta(days=1)))

"""Tables owned by accounts: members, web sessions and single-use e-mail tokens."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Protocol

from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from parvis.storage.base import Base, UTCDateTime, utcnow


class Role(enum.StrEnum):
    """What an account may do beyond posting. Changing a role is an audited act."""

    MEMBER = "member"
    MODERATOR = "moderator"
    ADMIN = "admin"


class _HasRoleAndNames(Protocol):
    role: str
    display_name: str
    username: str


class MemberFacts:
    """What follows from a member's columns; shared by `User` and the hot path's rows."""

    __slots__ = ()

    @property
    def is_moderator(self: _HasRoleAndNames) -> bool:
        """Moderators and admins may work the moderation queue."""
        return self.role in (Role.MODERATOR.value, Role.ADMIN.value)

    @property
    def is_admin(self: _HasRoleAndNames) -> bool:
        """Admins manage the instance."""
        return self.role == Role.ADMIN.value

    @property
    def name(self: _HasRoleAndNames) -> str:
        """The name to show: display name, or the username when none is set."""
        return self.display_name or self.username


class User(Base, MemberFacts):
    """A member of the instance."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(30))
    # Lower-cased username and e-mail make uniqueness case-insensitive on every database.
    username_key: Mapped[str] = mapped_column(String(30), unique=True)
    email: Mapped[str] = mapped_column(String(254))
    email_key: Mapped[str] = mapped_column(String(254), unique=True)
    email_verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    password_hash: Mapped[str] = mapped_column(String(255))
    display_name: Mapped[str] = mapped_column(String(60), default="")
    bio: Mapped[str] = mapped_column(Text, default="")
    avatar_path: Mapped[str | None] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16), default=Role.MEMBER.value)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_active_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Denormalised counters, kept in step inside the same transaction as the change.
    followers_count: Mapped[int] = mapped_column(Integer, default=0)
    following_count: Mapped[int] = mapped_column(Integer, default=0)
    posts_count: Mapped[int] = mapped_column(Integer, default=0)
    # Sum of up-votes minus down-votes received, an input to the member rank.
    vote_score: Mapped[int] = mapped_column(Integer, default=0)
    last_post_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class WebSession(Base):
    """A signed-in browser. The cookie holds a random token; only its hash is stored."""

    __tablename__ = "web_sessions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    user_agent: Mapped[str] = mapped_column(String(255), default="")


class EmailToken(Base):
    """A single-use, expiring token sent by e-mail (address verification, password reset)."""

    __tablename__ = "email_tokens"
    __table_args__ = (Index("ix_email_tokens_user_purpose", "user_id", "purpose"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    purpose: Mapped[str] = mapped_column(String(16))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class LoginAttempt(Base):
    """A failed login, kept briefly to slow down password guessing per address and account."""

    __tablename__ = "login_attempts"
    __table_args__ = (
        Index("ix_login_attempts_address", "address", "created_at"),
        Index("ix_login_attempts_account", "account_key", "created_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    address: Mapped[str] = mapped_column(String(64))
    account_key: Mapped[str] = mapped_column(String(254))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

"""Tables of live audio rooms: the room, the people with a standing in it, and its chat.

Listeners who only listen leave no row: presence is held in memory by the relay. A participant
row exists for whoever has a role above listener, raised a hand, chatted, or was muted,
removed or blocked — the facts the host and moderators act on.
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from parvis.storage.base import Base, UTCDateTime, utcnow


class RoomState(enum.StrEnum):
    """A room's life; the allowed moves between states are in `rooms.TRANSITIONS`."""

    SCHEDULED = "scheduled"
    LIVE = "live"
    ENDED = "ended"
    CANCELLED = "cancelled"


class RoomRole(enum.StrEnum):
    """Who may do what in a room, most powerful first."""

    HOST = "host"
    COHOST = "cohost"
    SPEAKER = "speaker"
    LISTENER = "listener"


class Room(Base):
    """A scheduled or instant audio room."""

    __tablename__ = "live_rooms"
    __table_args__ = (
        Index("ix_live_rooms_host_id", "host_id", "id"),
        Index("ix_live_rooms_state_scheduled", "state", "scheduled_for"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    host_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    # The description rendered by social.markup (sanitised HTML).
    description_html: Mapped[str] = mapped_column(Text, default="")
    state: Mapped[str] = mapped_column(String(16), default=RoomState.SCHEDULED.value)
    scheduled_for: Mapped[datetime | None] = mapped_column(UTCDateTime())
    opened_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Set when a moderator's decision ended the room (its statement of reasons says why).
    ended_by_decision_id: Mapped[int | None] = mapped_column(Integer)
    # Whether the host asked for the audio to be kept.
    recording: Mapped[bool] = mapped_column(Boolean, default=False)
    # When followers were reminded that the room starts (so it happens once).
    reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class RoomParticipant(Base):
    """A member's standing in one room."""

    __tablename__ = "live_room_participants"
    __table_args__ = (Index("ix_live_room_participants_hands", "room_id", "hand_raised_at"),)

    room_id: Mapped[int] = mapped_column(
        ForeignKey("live_rooms.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    role: Mapped[str] = mapped_column(String(16), default=RoomRole.LISTENER.value)
    # When the hand went up (None: hand down); raised hands are answered oldest first.
    hand_raised_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    muted: Mapped[bool] = mapped_column(Boolean, default=False)
    # Removed: out of the room now, may come back as a listener. Blocked: may not come back.
    removed: Mapped[bool] = mapped_column(Boolean, default=False)
    blocked: Mapped[bool] = mapped_column(Boolean, default=False)
    # Set when a moderator's decision removed this speaker.
    removed_by_decision_id: Mapped[int | None] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class RoomChatMessage(Base):
    """One chat message in a room, rendered like a post (safe Markdown subset)."""

    __tablename__ = "live_room_chat"
    __table_args__ = (Index("ix_live_room_chat_room_id", "room_id", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    room_id: Mapped[int] = mapped_column(ForeignKey("live_rooms.id", ondelete="CASCADE"))
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    body_source: Mapped[str] = mapped_column(Text)
    body_html: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

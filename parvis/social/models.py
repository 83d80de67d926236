"""Tables owned by the social core."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Protocol

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from parvis.storage.base import Base, UTCDateTime, utcnow


class PostKind(enum.StrEnum):
    """A short post or a long-form article (an article's comments are its replies)."""

    POST = "post"
    ARTICLE = "article"


class _HasShareColumns(Protocol):
    reblog_of_id: int | None
    reblogs_count: int
    quotes_count: int


class PostFacts:
    """What follows from a post's columns; shared by `Post` and the hot path's rows."""

    __slots__ = ()

    @property
    def is_reblog(self: _HasShareColumns) -> bool:
        """True for a repost row."""
        return self.reblog_of_id is not None

    @property
    def share_count(self: _HasShareColumns) -> int:
        """How often the post was shared: reposts plus quotes."""
        return self.reblogs_count + self.quotes_count


class Post(Base, PostFacts):
    """A post, reply, quote, repost or article.

    A repost is a row with `reblog_of_id` set and no body, so the home feed is one ordered
    scan of this table.
    """

    __tablename__ = "posts"
    __table_args__ = (
        Index("ix_posts_author_id_id", "author_id", "id"),
        Index("ix_posts_in_reply_to_id", "in_reply_to_id"),
        Index("ix_posts_thread_root_id", "thread_root_id"),
        # (reblog_of_id, author_id): "has this member reposted these posts?" must not fall back
        # to scanning a prolific member's whole history.
        Index("ix_posts_reblog_of_id_author_id", "reblog_of_id", "author_id"),
        Index("ix_posts_quote_of_id", "quote_of_id"),
        Index("ix_posts_kind_id", "kind", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(10), default=PostKind.POST.value)
    title: Mapped[str] = mapped_column(String(200), default="")
    body_source: Mapped[str] = mapped_column(Text, default="")
    body_html: Mapped[str] = mapped_column(Text, default="")
    # The body's duplicate key (`moderation.signals.flood.text_key`; None when blank): flood
    # screening counts an account's copies of a text in the database by it.
    text_key: Mapped[str | None] = mapped_column(String(24))
    spoiler_text: Mapped[str] = mapped_column(String(200), default="")
    sensitive: Mapped[bool] = mapped_column(Boolean, default=False)
    language: Mapped[str | None] = mapped_column(String(8))
    visibility: Mapped[str] = mapped_column(String(10), default="public")
    in_reply_to_id: Mapped[int | None] = mapped_column(ForeignKey("posts.id"))
    in_reply_to_account_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # The first post of the conversation (itself for a root), so a thread loads in one query.
    thread_root_id: Mapped[int | None] = mapped_column(Integer)
    quote_of_id: Mapped[int | None] = mapped_column(ForeignKey("posts.id"))
    reblog_of_id: Mapped[int | None] = mapped_column(ForeignKey("posts.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    edited_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Deleted by its author: the row stays (replies and quotes keep their place) as a tombstone.
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    replies_count: Mapped[int] = mapped_column(Integer, default=0)
    reblogs_count: Mapped[int] = mapped_column(Integer, default=0)
    quotes_count: Mapped[int] = mapped_column(Integer, default=0)
    upvotes: Mapped[int] = mapped_column(Integer, default=0)
    downvotes: Mapped[int] = mapped_column(Integer, default=0)


class PostRevision(Base):
    """An earlier version of an edited post; the post row always holds the current one."""

    __tablename__ = "post_revisions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("posts.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(200), default="")
    body_source: Mapped[str] = mapped_column(Text)
    body_html: Mapped[str] = mapped_column(Text)
    spoiler_text: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Attachment(Base):
    """An uploaded image (metadata stripped) or PDF document."""

    __tablename__ = "attachments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    post_id: Mapped[int | None] = mapped_column(ForeignKey("posts.id"), index=True)
    kind: Mapped[str] = mapped_column(String(10))  # image | document | audio (recordings)
    content_type: Mapped[str] = mapped_column(String(64))
    storage_key: Mapped[str] = mapped_column(String(255), unique=True)
    original_name: Mapped[str] = mapped_column(String(255), default="")
    size: Mapped[int] = mapped_column(Integer)
    width: Mapped[int | None] = mapped_column(Integer)
    height: Mapped[int | None] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    description: Mapped[str] = mapped_column(String(1500), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class PostTag(Base):
    """A #tag used in a post."""

    __tablename__ = "post_tags"
    __table_args__ = (Index("ix_post_tags_tag_post", "tag", "post_id"),)

    post_id: Mapped[int] = mapped_column(
        ForeignKey("posts.id", ondelete="CASCADE"), primary_key=True
    )
    tag: Mapped[str] = mapped_column(String(100), primary_key=True)


class Mention(Base):
    """An @mention of a member in a post."""

    __tablename__ = "mentions"

    post_id: Mapped[int] = mapped_column(
        ForeignKey("posts.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class PostLink(Base):
    """A link found in a post, kept so links can be listed and checked later."""

    __tablename__ = "post_links"

    post_id: Mapped[int] = mapped_column(
        ForeignKey("posts.id", ondelete="CASCADE"), primary_key=True
    )
    url: Mapped[str] = mapped_column(String(2048), primary_key=True)
    # The link as moderation lists match it (normalised URL, registrable domain), indexed so
    # listing an address finds the posts that carry it without reading every link.
    normal_url: Mapped[str] = mapped_column(String(2048), default="", server_default="", index=True)
    domain: Mapped[str] = mapped_column(String(255), default="", server_default="", index=True)


class Vote(Base):
    """One member's up (+1) or down (-1) vote on a post; changing it replaces the row's value."""

    __tablename__ = "votes"
    __table_args__ = (CheckConstraint("value IN (-1, 1)", name="value_is_plus_or_minus_one"),)

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    post_id: Mapped[int] = mapped_column(
        ForeignKey("posts.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    value: Mapped[int] = mapped_column(SmallInteger)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Follow(Base):
    """`follower_id` follows `followee_id`."""

    __tablename__ = "follows"
    __table_args__ = (Index("ix_follows_followee", "followee_id", "follower_id"),)

    follower_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    followee_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Mute(Base):
    """`user_id` does not want to see `target_id`'s posts (the target is not told)."""

    __tablename__ = "mutes"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    target_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Block(Base):
    """`user_id` blocks `target_id`: mutual and total, neither sees nor reaches the other."""

    __tablename__ = "blocks"
    __table_args__ = (Index("ix_blocks_target", "target_id", "user_id"),)

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    target_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class MutedWord(Base):
    """A word or phrase a member never wants to see (exposed as a Mastodon filter)."""

    __tablename__ = "muted_words"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    phrase: Mapped[str] = mapped_column(String(100))
    whole_word: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class NotificationKind(enum.StrEnum):
    """Mastodon's notification types, plus Parvis's own (vote, quote)."""

    MENTION = "mention"
    REPLY = "reply"
    QUOTE = "quote"
    FOLLOW = "follow"
    VOTE = "vote"
    REBLOG = "reblog"
    # A moderation decision affecting the member; links to its statement of reasons.
    MODERATION = "moderation"
    # Live rooms (parvis.live): a followed host scheduled a room / the room starts now.
    ROOM_SCHEDULED = "room_scheduled"
    ROOM_LIVE = "room_live"


class Notification(Base):
    """Something that happened to a member's account or posts."""

    __tablename__ = "notifications"
    __table_args__ = (Index("ix_notifications_user_id_id", "user_id", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))
    actor_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    post_id: Mapped[int | None] = mapped_column(ForeignKey("posts.id", ondelete="CASCADE"))
    # For moderation notifications: the decision whose statement of reasons to read.
    decision_id: Mapped[int | None] = mapped_column(Integer)
    # For room notifications: the live room (parvis.live) they announce.
    room_id: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class Bookmark(Base):
    """A post a member saved for later."""

    __tablename__ = "bookmarks"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    post_id: Mapped[int] = mapped_column(
        ForeignKey("posts.id", ondelete="CASCADE"), primary_key=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Pin(Base):
    """A post its author pinned to their profile (Mastodon's pinned statuses)."""

    __tablename__ = "pins"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    post_id: Mapped[int] = mapped_column(
        ForeignKey("posts.id", ondelete="CASCADE"), primary_key=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class ReadMarker(Base):
    """Where a member stopped reading a timeline (Mastodon's markers), so that their apps on
    several devices open at the same place. `version` counts the saves."""

    __tablename__ = "read_markers"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    timeline: Mapped[str] = mapped_column(String(20), primary_key=True)  # home | notifications
    last_read_id: Mapped[int] = mapped_column(Integer)
    version: Mapped[int] = mapped_column(Integer, default=1)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

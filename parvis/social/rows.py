"""Posts, authors and attachments as the hot read path loads them (`storage.hot`): plain slotted
objects with the ORM models' attribute names and properties, so post views, API entities and
page templates take either kind. Only the public columns of members are loaded here: a page of
posts never carries e-mail addresses or password hashes.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any, ClassVar

from parvis.accounts.models import MemberFacts, User
from parvis.social.models import Attachment, Post, PostFacts
from parvis.storage.hot import optional_utc, utc


@dataclass(slots=True)
class PostRow(PostFacts):
    """A post read by the hot path (every column of `posts` but `text_key`, which only the
    flood check reads)."""

    id: int
    author_id: int
    kind: str
    title: str
    body_source: str
    body_html: str
    spoiler_text: str
    sensitive: bool
    language: str | None
    visibility: str
    in_reply_to_id: int | None
    in_reply_to_account_id: int | None
    thread_root_id: int | None
    quote_of_id: int | None
    reblog_of_id: int | None
    created_at: datetime
    edited_at: datetime | None
    deleted_at: datetime | None
    replies_count: int
    reblogs_count: int
    quotes_count: int
    upvotes: int
    downvotes: int

    COLUMNS: ClassVar[str] = ""

    @classmethod
    def from_db(cls, row: tuple[Any, ...]) -> PostRow:
        """Build from a row selected with `COLUMNS` (driver types converted)."""
        values = list(row)
        values[7] = bool(values[7])
        values[15] = utc(values[15])
        values[16] = optional_utc(values[16])
        values[17] = optional_utc(values[17])
        return cls(*values)


@dataclass(slots=True)
class UserRow(MemberFacts):
    """A member's public columns, as shown beside their posts."""

    id: int
    username: str
    display_name: str
    bio: str
    avatar_path: str | None
    role: str
    created_at: datetime
    followers_count: int
    following_count: int
    posts_count: int
    vote_score: int
    last_post_at: datetime | None

    COLUMNS: ClassVar[str] = ""

    @classmethod
    def from_db(cls, row: tuple[Any, ...]) -> UserRow:
        """Build from a row selected with `COLUMNS` (driver types converted)."""
        values = list(row)
        values[6] = utc(values[6])
        values[11] = optional_utc(values[11])
        return cls(*values)


@dataclass(slots=True)
class AttachmentRow:
    """An attachment read by the hot path (every column of `attachments`)."""

    id: int
    owner_id: int
    post_id: int | None
    kind: str
    content_type: str
    storage_key: str
    original_name: str
    size: int
    width: int | None
    height: int | None
    sha256: str
    description: str
    created_at: datetime

    COLUMNS: ClassVar[str] = ""

    @classmethod
    def from_db(cls, row: tuple[Any, ...]) -> AttachmentRow:
        """Build from a row selected with `COLUMNS` (driver types converted)."""
        values = list(row)
        values[12] = utc(values[12])
        return cls(*values)


def _column_list(cls: type) -> str:
    return ", ".join(field.name for field in fields(cls))


PostRow.COLUMNS = _column_list(PostRow)
UserRow.COLUMNS = _column_list(UserRow)
AttachmentRow.COLUMNS = _column_list(AttachmentRow)

# What views, entities and templates accept: an ORM object or its hot-path row.
AnyPost = Post | PostRow
AnyUser = User | UserRow
AnyAttachment = Attachment | AttachmentRow

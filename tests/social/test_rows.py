"""The hot path's rows mirror the tables: a column added to a model must be added to its row
(or deliberately left out: members' private columns, posts' screening-only key)."""

from __future__ import annotations

from dataclasses import fields

from parvis.social.rows import AttachmentRow, PostRow, UserRow
from parvis.storage.registry import metadata

PRIVATE_MEMBER_COLUMNS = {
    "username_key",
    "email",
    "email_key",
    "email_verified_at",
    "password_hash",
    "last_active_at",
}


def _names(cls: type) -> list[str]:
    return [field.name for field in fields(cls)]


# Read by moderation's flood check alone, never shown: the feeds do not carry it.
SCREENING_ONLY_POST_COLUMNS = {"text_key"}


def test_post_and_attachment_rows_hold_every_column_in_table_order() -> None:
    shown = [
        c.name
        for c in metadata.tables["posts"].columns
        if c.name not in SCREENING_ONLY_POST_COLUMNS
    ]
    assert _names(PostRow) == shown
    assert _names(AttachmentRow) == [c.name for c in metadata.tables["attachments"].columns]


def test_member_rows_hold_the_public_columns_only() -> None:
    public = [
        c.name for c in metadata.tables["users"].columns if c.name not in PRIVATE_MEMBER_COLUMNS
    ]
    assert _names(UserRow) == public

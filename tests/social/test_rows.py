"""The hot path's rows mirror the tables: a column added to a model must be added to its row
(or, for members, deliberately left out as private)."""

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


def test_post_and_attachment_rows_hold_every_column_in_table_order() -> None:
    assert _names(PostRow) == [c.name for c in metadata.tables["posts"].columns]
    assert _names(AttachmentRow) == [c.name for c in metadata.tables["attachments"].columns]


def test_member_rows_hold_the_public_columns_only() -> None:
    public = [
        c.name for c in metadata.tables["users"].columns if c.name not in PRIVATE_MEMBER_COLUMNS
    ]
    assert _names(UserRow) == public

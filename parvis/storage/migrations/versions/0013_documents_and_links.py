"""documents read by moderation, the link checker's work, fingerprints on list entries

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-23 03:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import parvis.storage.base

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "document_texts",
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("fingerprint", sa.String(length=16), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("pages", sa.Integer(), nullable=False),
        sa.Column("truncated", sa.Boolean(), nullable=False),
        sa.Column("extracted_at", parvis.storage.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("sha256", name=op.f("pk_document_texts")),
    )
    with op.batch_alter_table("document_texts", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_document_texts_fingerprint"), ["fingerprint"], unique=False
        )
    op.create_table(
        "link_fetches",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("url", sa.String(length=2048), nullable=False),
        sa.Column("depth", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column("content_type", sa.String(length=128), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=True),
        sa.Column("document_urls", sa.Text(), nullable=False),
        sa.Column("error", sa.Text(), nullable=False),
        sa.Column("created_at", parvis.storage.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("fetched_at", parvis.storage.base.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_link_fetches")),
        sa.UniqueConstraint("url", name=op.f("uq_link_fetches_url")),
    )
    with op.batch_alter_table("link_fetches", schema=None) as batch_op:
        batch_op.create_index("ix_link_fetches_state", ["state", "id"], unique=False)
        batch_op.create_index(batch_op.f("ix_link_fetches_sha256"), ["sha256"], unique=False)
    with op.batch_alter_table("list_entries", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("fingerprint", sa.String(length=16), nullable=False, server_default="")
        )


def downgrade() -> None:
    with op.batch_alter_table("list_entries", schema=None) as batch_op:
        batch_op.drop_column("fingerprint")
    op.drop_table("link_fetches")
    op.drop_table("document_texts")

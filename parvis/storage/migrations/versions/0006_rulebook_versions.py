"""rulebook versions

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23 00:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import parvis.storage.base

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "rulebook_versions",
        sa.Column("version", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("published_at", parvis.storage.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("published_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["published_by_id"],
            ["users.id"],
            name=op.f("fk_rulebook_versions_published_by_id_users"),
        ),
        sa.PrimaryKeyConstraint("version", name=op.f("pk_rulebook_versions")),
    )


def downgrade() -> None:
    op.drop_table("rulebook_versions")

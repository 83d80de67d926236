"""read markers: where a member stopped reading the home timeline and notifications

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-02 05:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import parvis.storage.base

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "read_markers",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("timeline", sa.String(length=20), nullable=False),
        sa.Column("last_read_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("updated_at", parvis.storage.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_read_markers_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", "timeline", name=op.f("pk_read_markers")),
    )


def downgrade() -> None:
    op.drop_table("read_markers")

"""trusted flaggers: a withdrawn designation stays on record

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-02 02:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import parvis.storage.base

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("trusted_flaggers", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("revoked_at", parvis.storage.base.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(sa.Column("revoked_by_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_trusted_flaggers_revoked_by_id_users"),
            "users",
            ["revoked_by_id"],
            ["id"],
        )


def downgrade() -> None:
    with op.batch_alter_table("trusted_flaggers", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_trusted_flaggers_revoked_by_id_users"), type_="foreignkey"
        )
        batch_op.drop_column("revoked_by_id")
        batch_op.drop_column("revoked_at")

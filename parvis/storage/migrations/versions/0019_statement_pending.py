"""decisions whose statement of reasons is still to be delivered (the statements' outbox)

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-02 21:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PENDING = sa.text("statement_pending")


def upgrade() -> None:
    with op.batch_alter_table("decisions", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("statement_pending", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    # Partial: only the few decisions awaiting delivery are in it, so the delivery loop's
    # look-up costs nothing however many decisions the instance holds.
    op.create_index(
        "ix_decisions_statement_pending",
        "decisions",
        ["id"],
        sqlite_where=PENDING,
        postgresql_where=PENDING,
    )


def downgrade() -> None:
    op.drop_index("ix_decisions_statement_pending", table_name="decisions")
    with op.batch_alter_table("decisions", schema=None) as batch_op:
        batch_op.drop_column("statement_pending")

"""posts: index reposts by (reblog_of_id, author_id)

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-22 23:55:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("posts", schema=None) as batch_op:
        batch_op.drop_index("ix_posts_reblog_of_id")
        batch_op.create_index(
            "ix_posts_reblog_of_id_author_id", ["reblog_of_id", "author_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("posts", schema=None) as batch_op:
        batch_op.drop_index("ix_posts_reblog_of_id_author_id")
        batch_op.create_index("ix_posts_reblog_of_id", ["reblog_of_id"], unique=False)

"""posts keep their text's duplicate key, so flood screening counts copies in the database

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-02 18:00:00
"""

from collections.abc import Sequence
from datetime import timedelta

import sqlalchemy as sa
from alembic import op

import parvis.storage.base

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BATCH = 5000
# Flood screening looks one hour back: older posts never need the key, and reading back every
# post's text would make the upgrade of a large instance slow for nothing.
FILLED_BACK = timedelta(days=1)


def upgrade() -> None:
    with op.batch_alter_table("posts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("text_key", sa.String(length=24), nullable=True))
    # Filled with the same function new posts use.
    from parvis.moderation.signals.flood import text_key
    from parvis.storage.base import utcnow

    connection = op.get_bind()
    posts = sa.table(
        "posts",
        sa.column("id", sa.Integer),
        sa.column("body_source", sa.Text),
        sa.column("text_key", sa.String),
        sa.column("created_at", parvis.storage.base.UTCDateTime()),
    )
    rows = connection.execute(
        sa.select(posts.c.id, posts.c.body_source).where(
            posts.c.created_at >= utcnow() - FILLED_BACK
        )
    ).all()
    update = (
        sa.update(posts).where(posts.c.id == sa.bindparam("p")).values(text_key=sa.bindparam("k"))
    )
    for start in range(0, len(rows), BATCH):
        batch = [
            {"p": post_id, "k": text_key(body or "")}
            for post_id, body in rows[start : start + BATCH]
        ]
        connection.execute(update, batch)


def downgrade() -> None:
    with op.batch_alter_table("posts", schema=None) as batch_op:
        batch_op.drop_column("text_key")

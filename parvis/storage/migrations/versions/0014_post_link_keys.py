"""post links keep their normalised URL and registrable domain, indexed

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-23 03:45:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BATCH = 5000


def upgrade() -> None:
    with op.batch_alter_table("post_links", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("normal_url", sa.String(length=2048), server_default="", nullable=False)
        )
        batch_op.add_column(
            sa.Column("domain", sa.String(length=255), server_default="", nullable=False)
        )
    # Fill existing rows with the same functions new posts use.
    from parvis.moderation.enforcement import normalise_url
    from parvis.moderation.signals.links import registrable_domain

    connection = op.get_bind()
    links = sa.table(
        "post_links",
        sa.column("post_id", sa.Integer),
        sa.column("url", sa.String),
        sa.column("normal_url", sa.String),
        sa.column("domain", sa.String),
    )
    rows = connection.execute(sa.select(links.c.post_id, links.c.url)).all()
    update = (
        sa.update(links)
        .where(links.c.post_id == sa.bindparam("p"), links.c.url == sa.bindparam("u"))
        .values(normal_url=sa.bindparam("n"), domain=sa.bindparam("d"))
    )
    for start in range(0, len(rows), BATCH):
        batch = []
        for post_id, url in rows[start : start + BATCH]:
            normal = normalise_url(url)
            batch.append(
                {"p": post_id, "u": url, "n": normal[:2048], "d": registrable_domain(normal)[:255]}
            )
        connection.execute(update, batch)
    with op.batch_alter_table("post_links", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_post_links_normal_url"), ["normal_url"], unique=False)
        batch_op.create_index(batch_op.f("ix_post_links_domain"), ["domain"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("post_links", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_post_links_domain"))
        batch_op.drop_index(batch_op.f("ix_post_links_normal_url"))
        batch_op.drop_column("domain")
        batch_op.drop_column("normal_url")

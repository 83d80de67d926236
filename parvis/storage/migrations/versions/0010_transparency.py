"""transparency: statements of reasons submitted to the DSA Transparency Database

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-23 04:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import parvis.storage.base

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "dsa_submissions",
        sa.Column("decision_id", sa.Integer(), nullable=False),
        sa.Column("puid", sa.String(length=500), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("remote_uuid", sa.String(length=64), nullable=False),
        sa.Column("permalink", sa.String(length=500), nullable=False),
        sa.Column("claimed_at", parvis.storage.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("accepted_at", parvis.storage.base.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["decision_id"], ["decisions.id"], name=op.f("fk_dsa_submissions_decision_id_decisions")
        ),
        sa.PrimaryKeyConstraint("decision_id", name=op.f("pk_dsa_submissions")),
        sa.UniqueConstraint("puid", name=op.f("uq_dsa_submissions_puid")),
    )


def downgrade() -> None:
    op.drop_table("dsa_submissions")

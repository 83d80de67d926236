"""live audio rooms

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-23 03:45:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import parvis.storage.base

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "live_rooms",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("host_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("description_html", sa.Text(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("scheduled_for", parvis.storage.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("opened_at", parvis.storage.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("ended_at", parvis.storage.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("ended_by_decision_id", sa.Integer(), nullable=True),
        sa.Column("recording", sa.Boolean(), nullable=False),
        sa.Column("reminded_at", parvis.storage.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", parvis.storage.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["host_id"], ["users.id"], name=op.f("fk_live_rooms_host_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_live_rooms")),
    )
    with op.batch_alter_table("live_rooms", schema=None) as batch_op:
        batch_op.create_index("ix_live_rooms_host_id", ["host_id", "id"], unique=False)
        batch_op.create_index(
            "ix_live_rooms_state_scheduled", ["state", "scheduled_for"], unique=False
        )

    op.create_table(
        "live_room_participants",
        sa.Column("room_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("hand_raised_at", parvis.storage.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("muted", sa.Boolean(), nullable=False),
        sa.Column("removed", sa.Boolean(), nullable=False),
        sa.Column("blocked", sa.Boolean(), nullable=False),
        sa.Column("removed_by_decision_id", sa.Integer(), nullable=True),
        sa.Column("updated_at", parvis.storage.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["room_id"],
            ["live_rooms.id"],
            name=op.f("fk_live_room_participants_room_id_live_rooms"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_live_room_participants_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("room_id", "user_id", name=op.f("pk_live_room_participants")),
    )
    with op.batch_alter_table("live_room_participants", schema=None) as batch_op:
        batch_op.create_index(
            "ix_live_room_participants_hands", ["room_id", "hand_raised_at"], unique=False
        )

    op.create_table(
        "live_room_chat",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("room_id", sa.Integer(), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=False),
        sa.Column("body_source", sa.Text(), nullable=False),
        sa.Column("body_html", sa.Text(), nullable=False),
        sa.Column("created_at", parvis.storage.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["author_id"],
            ["users.id"],
            name=op.f("fk_live_room_chat_author_id_users"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["room_id"],
            ["live_rooms.id"],
            name=op.f("fk_live_room_chat_room_id_live_rooms"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_live_room_chat")),
    )
    with op.batch_alter_table("live_room_chat", schema=None) as batch_op:
        batch_op.create_index("ix_live_room_chat_room_id", ["room_id", "id"], unique=False)

    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.add_column(sa.Column("room_id", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.drop_column("room_id")
    op.drop_table("live_room_chat")
    op.drop_table("live_room_participants")
    op.drop_table("live_rooms")

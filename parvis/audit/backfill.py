"""Leaves for rows that existed before the log: read with Core and named columns (so the
migration that runs this keeps working whatever later migrations add), ordered by time."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from parvis.audit import leaves
from parvis.audit.leaves import LeafDraft
from parvis.storage.base import UTCDateTime

_time = UTCDateTime()
RULEBOOKS = sa.table(
    "rulebook_versions",
    sa.column("version", sa.Integer),
    sa.column("title", sa.String),
    sa.column("content_hash", sa.String),
    sa.column("published_at", _time),
    sa.column("content", sa.Text),
)
USERS = sa.table(
    "users",
    sa.column("id", sa.Integer),
    sa.column("username", sa.String),
    sa.column("role", sa.String),
    sa.column("created_at", _time),
)
LIST_ENTRIES = sa.table(
    "list_entries",
    sa.column("id", sa.Integer),
    sa.column("list_name", sa.String),
    sa.column("kind", sa.String),
    sa.column("value", sa.String),
    sa.column("rule_id", sa.String),
    sa.column("created_at", _time),
)
_DECISION_TEXT = (
    "subject_type", "subject_key", "rule_id", "action", "features", "facts",
    "automated_decision", "source", "territorial_scope", "state", "statement_json",
)  # fmt: skip
DECISIONS = sa.table(
    "decisions",
    *(sa.column(name, sa.String) for name in _DECISION_TEXT),
    sa.column("id", sa.Integer),
    sa.column("rulebook_version", sa.Integer),
    sa.column("supersedes_id", sa.Integer),
    sa.column("automated_detection", sa.Boolean),
    sa.column("starts_at", _time),
    sa.column("ends_at", _time),
    sa.column("created_at", _time),
)
APPEALS = sa.table(
    "appeals",
    sa.column("id", sa.Integer),
    sa.column("decision_id", sa.Integer),
    sa.column("notice_id", sa.Integer),
    sa.column("state", sa.String),
    sa.column("decided_at", _time),
    sa.column("outcome_decision_id", sa.Integer),
)
LOGGED_DECISION_STATES = ("in_effect", "superseded", "expired")
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def existing_rows(session: Session, salt_bytes: int) -> list[LeafDraft]:
    """A leaf for every row the log records, in the order the changes happened."""
    timed: list[tuple[datetime, int, int, LeafDraft]] = []
    row: Any
    for row in session.execute(sa.select(RULEBOOKS)):
        timed.append((row.published_at, 0, row.version, leaves.rulebook_leaf(row)))
    for row in session.execute(sa.select(USERS).where(USERS.c.role != "member")):
        draft = leaves.role_leaf(row.id, row.username, row.role, row.created_at)
        timed.append((row.created_at, 1, row.id, draft))
    for row in session.execute(sa.select(LIST_ENTRIES)):
        salt = os.urandom(salt_bytes)
        timed.append(
            (row.created_at, 2, row.id, leaves.list_leaf(row, "add", salt, row.created_at))
        )
    query = sa.select(DECISIONS).where(DECISIONS.c.state.in_(LOGGED_DECISION_STATES))
    for row in session.execute(query):
        draft = leaves.decision_leaf(row, os.urandom(salt_bytes))
        timed.append((row.created_at, 3, row.id, draft))
    for row in session.execute(sa.select(APPEALS).where(APPEALS.c.state != "open")):
        timed.append((row.decided_at or EPOCH, 4, row.id, leaves.appeal_leaf(row)))
    timed.sort(key=lambda item: item[:3])
    return [draft for *_, draft in timed]

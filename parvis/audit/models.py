"""Tables of the provable log: leaves, the complete subtrees above them, the append state and
the signed tree heads. Only `audit.log` writes them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Index, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from parvis.storage.base import Base, UTCDateTime, utcnow

# Node ids pack (level, index) into one integer key: level << NODE_LEVEL_SHIFT | index.
NODE_LEVEL_SHIFT = 40


class LogLeaf(Base):
    """One log entry. `data` is the canonical JSON that is published and hashed; `salt` keys
    the commitments to non-public values in it (subjects, list values) and is never published."""

    __tablename__ = "log_leaves"
    __table_args__ = (Index("ix_log_leaves_ref", "ref"),)

    leaf_index: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    kind: Mapped[str] = mapped_column(String(24))
    # The row the leaf records, e.g. "decision:12", "rulebook:2", "account:7".
    ref: Mapped[str] = mapped_column(String(80))
    data: Mapped[str] = mapped_column(Text)
    leaf_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    salt: Mapped[bytes | None] = mapped_column(LargeBinary(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class LogNode(Base):
    """The hash of a complete, aligned subtree of level >= 1 (leaves are level 0)."""

    __tablename__ = "log_nodes"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    hash: Mapped[bytes] = mapped_column(LargeBinary(32))


class LogState(Base):
    """The single row every append locks: the tree size and its compact range (frontier)."""

    __tablename__ = "log_state"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    size: Mapped[int] = mapped_column(BigInteger)
    frontier: Mapped[bytes] = mapped_column(LargeBinary)


class TreeHead(Base):
    """A signed tree head: size, root hash and time, signed with the instance's Ed25519 key."""

    __tablename__ = "log_tree_heads"

    tree_size: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    root_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    timestamp_ms: Mapped[int] = mapped_column(BigInteger)
    signature: Mapped[bytes] = mapped_column(LargeBinary(64))
    key_id: Mapped[str] = mapped_column(String(64))

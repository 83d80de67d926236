"""The log's hot statements, run on the transaction's own DBAPI cursor: the four statements of
an append, and the one read behind every proof.

Appending is the hot path of every decision and proofs are the hot path of the public API, and
SQLAlchemy's per-statement work (building, cache keys, compiling, result set-up) costs several
times what SQLite or PostgreSQL spend executing these statements. So for those two databases
the SQL is written out here once, with each driver's parameter style; any other database goes
through SQLAlchemy Core.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import Connection, Table, and_, bindparam, case, insert, select, update

from parvis.audit.models import LogLeaf, LogNode, LogState

STATE_ID = 1
LEAF_COLUMNS = ("leaf_index", "kind", "ref", "data", "leaf_hash", "salt", "created_at")
_STATEMENTS = {
    "reserve": "UPDATE log_state SET size = size + {count} WHERE id = 1 RETURNING size, frontier",
    "leaf": "INSERT INTO log_leaves ({columns}) VALUES ({values})",
    "node": "INSERT INTO log_nodes (id, hash) VALUES ({id}, {hash})",
    "frontier": "UPDATE log_state SET frontier = {frontier} WHERE id = 1",
    # The state as this process last left it moves on to `size` and `frontier`; any other
    # state (another process appended, or the transaction that left it rolled back) gets
    # `count` more leaves reserved instead, as "reserve" would. Every SET expression reads the
    # row as it was; RETURNING gives it as it is now.
    "advance": "UPDATE log_state SET"
    " size = CASE WHEN size = {old_size} AND frontier = {old_frontier}"
    " THEN {size} ELSE size + {count} END,"
    " frontier = CASE WHEN size = {old_size} AND frontier = {old_frontier}"
    " THEN {frontier} ELSE frontier END"
    " WHERE id = 1 RETURNING size, frontier",
}
_PLACEHOLDER = {"sqlite": ":{}", "postgresql": "%({})s"}
# Proof reads: the IN lists hold integers computed by the log itself, written into the SQL.
_LEAF_HASHES = "SELECT 0, leaf_index, leaf_hash FROM log_leaves WHERE leaf_index IN ({})"
_NODE_HASHES = "SELECT 1, id, hash FROM log_nodes WHERE id IN ({})"


def _sql(dialect: str) -> dict[str, str]:
    mark = _PLACEHOLDER[dialect].format
    return {
        "reserve": _STATEMENTS["reserve"].format(count=mark("count")),
        "leaf": _STATEMENTS["leaf"].format(
            columns=", ".join(LEAF_COLUMNS), values=", ".join(mark(c) for c in LEAF_COLUMNS)
        ),
        "node": _STATEMENTS["node"].format(id=mark("id"), hash=mark("hash")),
        "frontier": _STATEMENTS["frontier"].format(frontier=mark("frontier")),
        "advance": _STATEMENTS["advance"].format(
            size=mark("size"),
            frontier=mark("frontier"),
            old_size=mark("old_size"),
            old_frontier=mark("old_frontier"),
            count=mark("count"),
        ),
    }


_DRIVER_SQL = {dialect: _sql(dialect) for dialect in _PLACEHOLDER}
_STATE = cast(Table, LogState.__table__)
_LEFT_AS_KNOWN = and_(
    _STATE.c.size == bindparam("old_size"), _STATE.c.frontier == bindparam("old_frontier")
)
_CORE = {
    "reserve": update(_STATE)
    .where(_STATE.c.id == STATE_ID)
    .values(size=_STATE.c.size + bindparam("count"))
    .returning(_STATE.c.size, _STATE.c.frontier),
    "leaf": insert(cast(Table, LogLeaf.__table__)),
    "node": insert(cast(Table, LogNode.__table__)),
    "frontier": update(_STATE)
    .where(_STATE.c.id == STATE_ID)
    .values(frontier=bindparam("frontier")),
    "advance": update(_STATE)
    .where(_STATE.c.id == STATE_ID)
    .values(
        size=case((_LEFT_AS_KNOWN, bindparam("size")), else_=_STATE.c.size + bindparam("count")),
        frontier=case((_LEFT_AS_KNOWN, bindparam("frontier")), else_=_STATE.c.frontier),
    )
    .returning(_STATE.c.size, _STATE.c.frontier),
}


class Writer:
    """Runs an append's statements in the transaction of `connection`."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self.dialect = connection.dialect.name
        self.sql = _DRIVER_SQL.get(self.dialect)
        self.cursor: Any = None
        if self.sql is not None:
            dbapi = connection.connection.driver_connection
            assert dbapi is not None
            self.cursor = dbapi.cursor()

    def close(self) -> None:
        """Release the cursor (the transaction stays open)."""
        if self.cursor is not None:
            self.cursor.close()

    def reserve(self, count: int) -> tuple[int, bytes] | None:
        """Add `count` to the size, taking the lock; the new size and the frontier before."""
        if self.sql is None:
            row = self.connection.execute(_CORE["reserve"], {"count": count}).first()
            return None if row is None else (int(row[0]), bytes(row[1]))
        self.cursor.execute(self.sql["reserve"], {"count": count})
        rows = self.cursor.fetchall()
        return (int(rows[0][0]), bytes(rows[0][1])) if rows else None

    def advance(
        self, before: tuple[int, bytes], after: tuple[int, bytes], count: int
    ) -> tuple[bool, tuple[int, bytes] | None]:
        """Move the state from `before` to `after` (size and frontier) if it is still `before`,
        taking the lock as `reserve` does: (True, None) when it was. When it was not, reserve
        `count` leaves instead, in the same statement, and return (False, what `reserve`
        returns): an appender that finds the state moved on (several workers taking turns)
        needs two statements, not three. (False, None): there is no state row."""
        params = {
            "old_size": before[0],
            "old_frontier": before[1],
            "size": after[0],
            "frontier": after[1],
            "count": count,
        }
        if self.sql is None:
            row = self.connection.execute(_CORE["advance"], params).first()
            now = None if row is None else (int(row[0]), bytes(row[1]))
        else:
            self.cursor.execute(self.sql["advance"], params)
            rows = self.cursor.fetchall()
            now = (int(rows[0][0]), bytes(rows[0][1])) if rows else None
        # The state is exactly `after` only if this statement moved it there: another state
        # equal to it would be the same tree (SHA-256), whose leaves' indexes are taken.
        if now == after:
            return True, None
        return False, now

    def insert_leaves(self, rows: Sequence[dict[str, Any]], created_at: datetime) -> None:
        """Insert leaf rows (all with the same creation time)."""
        if self.sql is None:
            self.connection.execute(_CORE["leaf"], [{**r, "created_at": created_at} for r in rows])
            return
        stamp: Any = created_at
        if self.dialect == "sqlite":  # stored as parvis.storage.base.UTCDateTime stores it
            stamp = created_at.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")
        self.cursor.executemany(self.sql["leaf"], [{**r, "created_at": stamp} for r in rows])

    def insert_nodes(self, rows: Sequence[dict[str, Any]]) -> None:
        """Insert the subtree rows an append completed."""
        if not rows:
            return
        if self.sql is None:
            self.connection.execute(_CORE["node"], list(rows))
        else:
            self.cursor.executemany(self.sql["node"], rows)

    def save_frontier(self, frontier: bytes) -> None:
        """Store the new frontier."""
        if self.sql is None:
            self.connection.execute(_CORE["frontier"], {"frontier": frontier})
        else:
            self.cursor.execute(self.sql["frontier"], {"frontier": frontier})


def read_hashes(
    connection: Connection, leaf_indexes: Sequence[int], node_ids: Sequence[int]
) -> tuple[list[tuple[int, bytes]], list[tuple[int, bytes]]]:
    """Leaf hashes by index and subtree hashes by node id, in one query where possible."""
    if connection.dialect.name not in _PLACEHOLDER:
        leaves_table = cast(Table, LogLeaf.__table__)
        nodes_table = cast(Table, LogNode.__table__)
        found_leaves = connection.execute(
            select(leaves_table.c.leaf_index, leaves_table.c.leaf_hash).where(
                leaves_table.c.leaf_index.in_(leaf_indexes)
            )
        ).all()
        found_nodes = connection.execute(
            select(nodes_table.c.id, nodes_table.c.hash).where(nodes_table.c.id.in_(node_ids))
        ).all()
        return (
            [(int(i), bytes(h)) for i, h in found_leaves],
            [(int(i), bytes(h)) for i, h in found_nodes],
        )
    parts = []
    if leaf_indexes:
        listed = ",".join(str(int(i)) for i in leaf_indexes)
        parts.append(_LEAF_HASHES.format(listed))
    if node_ids:
        listed = ",".join(str(int(i)) for i in node_ids)
        parts.append(_NODE_HASHES.format(listed))
    if not parts:
        return [], []
    dbapi = connection.connection.driver_connection
    assert dbapi is not None
    cursor = dbapi.cursor()
    try:
        cursor.execute(" UNION ALL ".join(parts))
        rows = cursor.fetchall()
    finally:
        cursor.close()
    return (
        [(int(i), bytes(h)) for kind, i, h in rows if kind == 0],
        [(int(i), bytes(h)) for kind, i, h in rows if kind == 1],
    )

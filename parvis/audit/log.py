"""The append-only log: leaves appended in the caller's transaction, proofs, signed heads.

Appends are serialised by one row (`log_state`): each append first increments its size, which
takes the row lock on PostgreSQL (a concurrent appender waits, then reads the size the first
one committed) and the write lock on SQLite, so leaf indexes are dense and unique (the primary
key on `leaf_index` backs that up). The row also holds the frontier (the compact range of the
tree), so an append computes the subtrees it completes without reading any other row, and
stores them (`audit.store` runs those statements); proofs then read at most 2·log2(n) stored
hashes, in two queries.

Tree heads are signed lazily: asking for the latest head signs one for the current size if
none exists yet (at most one per size). A decision is in the log as soon as its transaction
commits; the first head requested after that commits to it publicly. Witnesses poll the head,
so every size they see is signed and kept, and `verify` checks every stored head.
"""

from __future__ import annotations

import os
import time
import weakref
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import Engine, func, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from parvis.audit import leaves
from parvis.audit.heads import SignedHead, head_message
from parvis.audit.keys import fingerprint
from parvis.audit.leaves import LeafDraft
from parvis.audit.merkle import (
    Frontier,
    Node,
    NodeSource,
    ProofError,
    consistency_ranges,
    decompose,
    hashes_of,
    inclusion_ranges,
    leaf_hash,
)
from parvis.audit.models import NODE_LEVEL_SHIFT, LogLeaf, LogState, TreeHead
from parvis.audit.store import STATE_ID, Writer, read_hashes
from parvis.errors import InvalidInput, NotFound
from parvis.storage.base import utcnow

SALT_BYTES = 16
_INDEX_MASK = (1 << NODE_LEVEL_SHIFT) - 1

# Decisions in these states took effect at some point, so each has exactly one leaf.
LOGGED_DECISION_STATES = ("in_effect", "superseded", "expired")


def node_id(level: int, index: int) -> int:
    """The stored key of a subtree of level >= 1."""
    return level << NODE_LEVEL_SHIFT | index


def append(session: Session, draft: LeafDraft) -> int:
    """Append one leaf in the caller's transaction; returns its index."""
    return append_many(session, [draft])[0]


# Where this process last left each database's log (size, frontier): an append that finds it
# still there moves it on in one guarded statement (`Writer.advance`); any other (another
# process appended, or the transaction rolled back) reserves as usual.
_last_state: weakref.WeakKeyDictionary[Engine, tuple[int, bytes]] = weakref.WeakKeyDictionary()


def append_many(session: Session, drafts: Sequence[LeafDraft]) -> list[int]:
    """Append leaves in order, in the caller's transaction; returns their indexes."""
    if not drafts:
        return []
    connection = session.connection()
    writer = Writer(connection)
    try:
        built = None
        reserved = None
        known = _last_state.get(connection.engine)
        if known is not None:
            first = known[0]
            frontier = Frontier.from_bytes(*known)
            built = _rows(drafts, first, frontier)
            after = (frontier.size, frontier.to_bytes())
            advanced, reserved = writer.advance(known, after, len(drafts))
            if not advanced:  # moved on since: reserved instead (if it exists), built again
                built = None
        if built is None:
            if reserved is None:
                reserved = writer.reserve(len(drafts))
            if reserved is None:
                _create_state(session)
                reserved = writer.reserve(len(drafts))
                assert reserved is not None
            first = reserved[0] - len(drafts)
            frontier = Frontier.from_bytes(first, reserved[1])
            built = _rows(drafts, first, frontier)
            after = (frontier.size, frontier.to_bytes())
            writer.save_frontier(after[1])
        writer.insert_leaves(built[0], utcnow())
        writer.insert_nodes(built[1])
        _last_state[connection.engine] = after
    finally:
        writer.close()
    return list(range(first, first + len(drafts)))


def _rows(
    drafts: Sequence[LeafDraft], first: int, frontier: Frontier
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The leaf rows and the completed subtree rows of appending `drafts` at index `first` to
    `frontier` (which they advance)."""
    leaf_rows: list[dict[str, Any]] = []
    node_rows: list[dict[str, Any]] = []
    for offset, draft in enumerate(drafts):
        data = draft.data(first + offset)
        hashed = leaf_hash(data.encode("utf-8"))
        for (level, index), value in frontier.append(hashed):
            node_rows.append({"id": node_id(level, index), "hash": value})
        leaf_rows.append(
            {
                "leaf_index": first + offset,
                "kind": draft.kind,
                "ref": draft.ref,
                "data": data,
                "leaf_hash": hashed,
                "salt": draft.salt,
            }
        )
    return leaf_rows, node_rows


def _create_state(session: Session) -> None:
    """Create the state row (a fresh database, or one whose tables were emptied)."""
    size = session.scalar(select(func.coalesce(func.max(LogLeaf.leaf_index) + 1, 0))) or 0
    nodes = decompose(0, size)
    found = _fetch_nodes(session, nodes)
    frontier = Frontier(size, [found[node] for node in nodes])
    try:
        with session.begin_nested():
            session.execute(
                insert(LogState).values(id=STATE_ID, size=size, frontier=frontier.to_bytes())
            )
    except IntegrityError:
        pass  # a concurrent transaction created it; the caller's update now waits for it


def size(session: Session) -> int:
    """How many leaves the log holds."""
    value = session.scalar(select(LogState.size).where(LogState.id == STATE_ID))
    if value is None:  # no append yet on this database (or its state row was removed)
        value = session.scalar(select(func.coalesce(func.max(LogLeaf.leaf_index) + 1, 0)))
    return int(value or 0)


def _fetch_nodes(session: Session, nodes: Iterable[Node]) -> dict[Node, bytes]:
    wanted_leaves: list[int] = []
    wanted_nodes: list[int] = []
    for level, index in nodes:
        if level == 0:
            wanted_leaves.append(index)
        else:
            wanted_nodes.append(node_id(level, index))
    found_leaves, found_nodes = read_hashes(session.connection(), wanted_leaves, wanted_nodes)
    found: dict[Node, bytes] = {(0, index): value for index, value in found_leaves}
    for key, value in found_nodes:
        found[(key >> NODE_LEVEL_SHIFT, key & _INDEX_MASK)] = value
    return found


def _source(session: Session) -> NodeSource:
    def fetch(nodes: Iterable[Node]) -> Mapping[Node, bytes]:
        return _fetch_nodes(session, nodes)

    return fetch


def _check_size(session: Session, tree_size: int) -> None:
    current = size(session)
    if not 0 <= tree_size <= current:
        raise InvalidInput(f"tree_size must be between 0 and {current}.", "tree_size")


def inclusion_proof(session: Session, index: int, tree_size: int) -> list[bytes]:
    """The audit path of leaf `index` in the tree of `tree_size` leaves."""
    _check_size(session, tree_size)
    if not 0 <= index < tree_size:
        raise InvalidInput(f"Leaf {index} is not in a tree of {tree_size} leaves.", "leaf_index")
    return hashes_of(inclusion_ranges(index, tree_size), _source(session))


def consistency_proof(session: Session, first: int, second: int) -> list[bytes]:
    """The proof that the tree of `second` leaves extends the tree of `first` leaves."""
    _check_size(session, second)
    if not 0 <= first <= second:
        raise InvalidInput("first must be between 0 and second.", "first")
    try:
        return hashes_of(consistency_ranges(first, second), _source(session))
    except ProofError as exc:  # pragma: no cover - the sizes were checked above
        raise InvalidInput(str(exc)) from exc


def root_at(session: Session, tree_size: int) -> bytes:
    """The root hash of the tree of `tree_size` leaves (from stored subtrees, O(log n))."""
    _check_size(session, tree_size)
    nodes = decompose(0, tree_size)
    found = _fetch_nodes(session, nodes)
    return Frontier(tree_size, [found[node] for node in nodes]).root()


def get_leaf(session: Session, index: int) -> LogLeaf:
    """One leaf by index."""
    row = session.get(LogLeaf, index)
    if row is None:
        raise NotFound(f"No leaf {index} in the log.")
    return row


def leaf_range(session: Session, start: int, end: int) -> list[LogLeaf]:
    """Leaves [start, end) in order."""
    query = (
        select(LogLeaf)
        .where(LogLeaf.leaf_index >= start, LogLeaf.leaf_index < end)
        .order_by(LogLeaf.leaf_index)
    )
    return list(session.scalars(query))


def leaf_for(session: Session, ref: str) -> LogLeaf | None:
    """The (first) leaf recording a row, e.g. `decision:12`."""
    query = select(LogLeaf).where(LogLeaf.ref == ref).order_by(LogLeaf.leaf_index).limit(1)
    return session.scalar(query)


def _signed(head: TreeHead) -> SignedHead:
    return SignedHead(
        tree_size=int(head.tree_size),
        root_hash=bytes(head.root_hash),
        timestamp_ms=int(head.timestamp_ms),
        signature=bytes(head.signature),
        key_id=head.key_id,
    )


def latest_head(session: Session, key: Ed25519PrivateKey) -> SignedHead:
    """The signed head for the log as it stands, signing a new one if the log has grown.

    `key` is the instance's signing key (`audit.keys.signing_key`).
    """
    current = size(session)
    last = session.scalar(select(TreeHead).order_by(TreeHead.tree_size.desc()).limit(1))
    if last is not None and last.tree_size >= current:
        return _signed(last)
    root = root_at(session, current)
    stamp = int(time.time() * 1000)
    if last is not None:
        stamp = max(stamp, int(last.timestamp_ms))
    head = TreeHead(
        tree_size=current,
        root_hash=root,
        timestamp_ms=stamp,
        signature=key.sign(head_message(current, stamp, root)),
        key_id=fingerprint(key),
    )
    try:
        with session.begin_nested():
            session.add(head)
    except IntegrityError:
        head = session.get_one(TreeHead, current)  # signed concurrently by another request
    return _signed(head)


def head_at(session: Session, tree_size: int) -> SignedHead | None:
    """The stored signed head of exactly this size, if one was signed."""
    head = session.get(TreeHead, tree_size)
    return _signed(head) if head is not None else None


def stored_heads(session: Session, after: int = -1, limit: int = 100) -> list[SignedHead]:
    """Stored heads by increasing size, starting above `after`."""
    query = (
        select(TreeHead).where(TreeHead.tree_size > after).order_by(TreeHead.tree_size).limit(limit)
    )
    return [_signed(head) for head in session.scalars(query)]


# Hooks: each records one change in the transaction that makes it.


def record_decision(
    session: Session, decision: leaves.DecisionRow, *, canonical_statement: bool = False
) -> int:
    """Log a decision that takes effect (called by `moderation.decisions`;
    `canonical_statement`: its `statement_json` was just written by `leaves.canonical`'s rules,
    see `leaves.decision_leaf`)."""
    draft = leaves.decision_leaf(
        decision, os.urandom(SALT_BYTES), canonical_statement=canonical_statement
    )
    return append(session, draft)


def record_appeal(session: Session, appeal: leaves.AppealRow) -> int:
    """Log an appeal's outcome."""
    return append(session, leaves.appeal_leaf(appeal))


def record_rulebook(session: Session, row: leaves.RulebookRow) -> int:
    """Log a published rulebook version."""
    return append(session, leaves.rulebook_leaf(row))


def record_list_change(session: Session, entry: leaves.ListEntryRow, change: str) -> int:
    """Log a list entry added ("add") or removed ("remove"); a removal repeats the addition's
    commitment so the two can be matched."""
    salt = None
    if change == "remove":
        salt = session.scalar(
            select(LogLeaf.salt)
            .where(LogLeaf.ref == f"{leaves.LIST_CHANGE}:{entry.id}")
            .order_by(LogLeaf.leaf_index)
            .limit(1)
        )
    at = entry.created_at if change == "add" else utcnow()
    draft = leaves.list_leaf(entry, change, bytes(salt) if salt else os.urandom(SALT_BYTES), at)
    return append(session, draft)


def record_role(session: Session, account_id: int, username: str, role: str) -> int:
    """Log an account's role (given at creation when not "member", or changed later)."""
    return append(session, leaves.role_leaf(account_id, username, role, utcnow()))


def backfill(session: Session) -> int:
    """Log what existed before the log did, oldest first (run once, by the migration that
    creates the log). Reads named columns only, so later schema changes do not break it."""
    from parvis.audit import backfill as sources

    drafts = sources.existing_rows(session, SALT_BYTES)
    append_many(session, drafts)
    return len(drafts)

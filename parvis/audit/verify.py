"""`parvis audit verify`: recompute the log and check it against its signed heads and, with the
database, against the rows it records.

The same tree check serves three sources: the database (which also checks stored subtrees,
the append state and that every decision, appeal, rulebook version, list entry and role
matches its leaf), an exported log file, and a remote instance's public endpoints.
Problems are reported by leaf, lowest first, so the first line names the first bad leaf.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from parvis.audit.heads import HeadError, SignedHead, b64, unb64
from parvis.audit.log import node_id
from parvis.audit.merkle import EMPTY_ROOT, Frontier, leaf_hash
from parvis.audit.models import NODE_LEVEL_SHIFT, LogLeaf, LogNode, LogState, TreeHead
from parvis.audit.outcome import Outcome
from parvis.audit.rows import RowCheck
from parvis.audit.store import STATE_ID

CHUNK = 1000


class TreeCheck:
    """Rebuilds the tree from leaves given in index order and checks signed heads against it."""

    def __init__(
        self, outcome: Outcome, head_sizes: Iterable[int], keep: Iterable[int] = ()
    ) -> None:
        self.outcome = outcome
        self.keep = set(keep)
        self.leaf_hashes: dict[int, bytes] = {}  # recomputed hashes of the leaves in `keep`
        self.frontier = Frontier()  # from the leaves' data: what heads are checked against
        self.stored = Frontier()  # from the stored leaf hashes: what proofs are built from
        self.wanted = set(head_sizes)
        self.roots: dict[int, bytes] = {0: EMPTY_ROOT}
        self.broken_at: int | None = None  # first index where leaves are missing
        self.completed: list[tuple[int, bytes]] = []  # (node id, hash) of recomputed subtrees
        self.bad_nodes: set[int] = set()

    def add(self, index: int, data: str, stored_hash: bytes | None = None) -> dict[str, Any]:
        """Take the next leaf; returns its parsed fields ({} when unreadable)."""
        expected = self.frontier.size if self.broken_at is None else None
        if expected is not None and index != expected:
            if index > expected:
                missing = f"{expected}" if index == expected + 1 else f"{expected}..{index - 1}"
                self.outcome.add(expected, f"missing: leaf {missing} is not in the log (deleted?)")
            else:
                self.outcome.add(index, "appears twice, or leaves are out of order")
            self.broken_at = expected
        hashed = leaf_hash(data.encode("utf-8"))
        if index in self.keep:
            self.leaf_hashes[index] = hashed
        if stored_hash is not None and stored_hash != hashed:
            self.outcome.add(index, "its data was edited (it no longer hashes to its stored hash)")
        try:
            fields = json.loads(data)
            if not isinstance(fields, dict):
                raise ValueError("not an object")
        except ValueError:
            self.outcome.add(index, "its data is not a JSON object")
            fields = {}
        if fields and fields.get("leaf_index") != index:
            self.outcome.add(
                index,
                f"holds the entry made as leaf {fields.get('leaf_index')}: "
                "leaves were reordered or moved",
            )
        self.outcome.leaves += 1
        if self.broken_at is None:
            self.frontier.append(hashed)
            for (level, node_index), value in self.stored.append(stored_hash or hashed):
                self.completed.append((node_id(level, node_index), value))
            if self.frontier.size in self.wanted:
                self.roots[self.frontier.size] = self.frontier.root()
        return fields

    def check_heads(self, heads: Sequence[SignedHead], public_key: bytes | None) -> None:
        """Every head must be signed by the key and match the leaves it covers."""
        count = self.outcome.leaves
        last_good, last_stamp = 0, -1
        for head in sorted(heads, key=lambda h: h.tree_size):
            self.outcome.heads += 1
            if public_key is not None:
                try:
                    head.verify(public_key)
                except HeadError as exc:
                    self.outcome.add(None, str(exc))
            if head.timestamp_ms < last_stamp:
                self.outcome.add(
                    None, f"the head of size {head.tree_size} is dated before a smaller one"
                )
            last_stamp = head.timestamp_ms
            if head.tree_size > count:
                self.outcome.add_range(
                    count,
                    f"truncated: the signed head of size {head.tree_size} covers leaves "
                    f"{count}..{head.tree_size - 1}, which are no longer in the log",
                )
                continue
            root = self.roots.get(head.tree_size)
            if root is None:
                continue  # leaves before it are missing; already reported
            if root != head.root_hash:
                self.outcome.add_range(
                    last_good,
                    f"the leaves no longer match the signed head of size {head.tree_size}: "
                    f"a leaf from {last_good} to {head.tree_size - 1} was changed",
                )
            else:
                last_good = head.tree_size


# The database


def verify_database(session: Session, public_key: bytes) -> Outcome:
    """Check the log in this database: leaves, subtrees, state, heads and recorded rows."""
    outcome = Outcome("database")
    heads = [
        SignedHead(
            int(h.tree_size), bytes(h.root_hash), int(h.timestamp_ms), bytes(h.signature), h.key_id
        )
        for h in session.scalars(select(TreeHead))
    ]
    check = TreeCheck(outcome, [h.tree_size for h in heads])
    rows = RowCheck(session, outcome)
    for chunk in _leaf_chunks(session):
        parsed = [
            (row.leaf_index, row, check.add(int(row.leaf_index), row.data, bytes(row.leaf_hash)))
            for row in chunk
        ]
        rows.check(parsed)
        _check_nodes(session, check, outcome)
    check.check_heads(heads, public_key)
    _check_state(session, check, outcome)
    rows.finish()
    return outcome


def _leaf_chunks(session: Session) -> Iterator[Sequence[Any]]:
    last = -1
    columns = (LogLeaf.leaf_index, LogLeaf.kind, LogLeaf.ref, LogLeaf.data, LogLeaf.leaf_hash)
    while True:
        query = (
            select(*columns, LogLeaf.salt)
            .where(LogLeaf.leaf_index > last)
            .order_by(LogLeaf.leaf_index)
            .limit(CHUNK)
        )
        chunk = session.execute(query).all()
        if not chunk:
            return
        yield chunk
        last = int(chunk[-1].leaf_index)


def _check_nodes(session: Session, check: TreeCheck, outcome: Outcome) -> None:
    """Stored subtree hashes (what proofs are made of) must equal those recomputed from the
    stored leaf hashes. Only the smallest wrong subtree of a branch is reported."""
    completed, check.completed = check.completed, []
    for start in range(0, len(completed), CHUNK):
        part = dict(completed[start : start + CHUNK])
        stored = dict(
            session.execute(select(LogNode.id, LogNode.hash).where(LogNode.id.in_(part))).all()
        )
        for key, value in part.items():
            if bytes(stored.get(key, b"")) == value:
                continue
            level, index = key >> NODE_LEVEL_SHIFT, key & ((1 << NODE_LEVEL_SHIFT) - 1)
            children = {node_id(level - 1, 2 * index), node_id(level - 1, 2 * index + 1)}
            check.bad_nodes.add(key)
            if children & check.bad_nodes:
                continue
            first = index << level
            outcome.add_range(
                first,
                f"the stored hash of leaves {first}..{first + (1 << level) - 1} "
                "differs from their stored leaf hashes (proofs would be wrong)",
            )


def _check_state(session: Session, check: TreeCheck, outcome: Outcome) -> None:
    state = session.get(LogState, STATE_ID)
    if state is None:
        if outcome.leaves:
            outcome.add(None, "the log's state row is missing")
        return
    if int(state.size) != outcome.leaves:
        outcome.add(
            min(int(state.size), outcome.leaves),
            f"the log says it holds {state.size} leaves but {outcome.leaves} are stored",
        )
    elif check.broken_at is None and bytes(state.frontier) != check.stored.to_bytes():
        outcome.add(None, "the log's stored frontier differs from the leaves")


# Exported files


def export_lines(session: Session, public_key: bytes, source: str) -> Iterator[str]:
    """The whole log as JSON lines: a header with the key, every signed head, every leaf."""
    yield json.dumps(
        {"format": "parvis-log", "version": 1, "source": source, "public_key": b64(public_key)}
    )
    for head in session.scalars(select(TreeHead).order_by(TreeHead.tree_size)):
        signed = SignedHead(
            int(head.tree_size),
            bytes(head.root_hash),
            int(head.timestamp_ms),
            bytes(head.signature),
            head.key_id,
        )
        yield json.dumps({"head": signed.to_json()})
    for chunk in _leaf_chunks(session):
        for row in chunk:
            yield json.dumps({"leaf_index": int(row.leaf_index), "data": row.data})


def verify_lines(lines: Iterable[str], source: str, pinned_key: bytes | None = None) -> Outcome:
    """Check an exported log: leaves rebuild every head in it, signed by its key (or the pinned
    one, when the caller knows the instance's key from elsewhere)."""
    outcome = Outcome(source)
    heads: list[SignedHead] = []
    public_key = pinned_key
    pending: list[tuple[int, str]] = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except ValueError:
            outcome.add(None, f"line {number} is not JSON")
            continue
        if not isinstance(item, dict):
            outcome.add(None, f"line {number} is not a JSON object")
        elif "format" in item:
            try:
                published: bytes | None = unb64(item.get("public_key"), "public_key", 32)
            except HeadError as exc:
                outcome.add(None, f"line {number}: {exc}")
                published = None
            if pinned_key is not None and published != pinned_key:
                outcome.add(None, "the file's public key is not the key you gave")
            public_key = public_key or published
        elif "head" in item:
            try:
                heads.append(SignedHead.from_json(item["head"]))
            except HeadError as exc:
                outcome.add(None, f"line {number}: {exc}")
        elif isinstance(item.get("leaf_index"), int) and isinstance(item.get("data"), str):
            pending.append((item["leaf_index"], item["data"]))
        else:
            outcome.add(None, f"line {number} is neither a header, a head nor a leaf")
    if public_key is None:
        outcome.add(None, "no public key: the file has no header and none was given")
    check = TreeCheck(outcome, [h.tree_size for h in heads])
    for index, data in pending:
        check.add(index, data)
    check.check_heads(heads, public_key)
    return outcome

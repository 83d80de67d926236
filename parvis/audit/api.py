"""Public JSON endpoints of the provable log, under /api/parvis/v1/log. No sign-in: the log
holds only public data, and anyone may check it."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from parvis.audit import keys, log
from parvis.audit.heads import b64, key_id
from parvis.audit.leaves import decision_ref
from parvis.audit.models import LogLeaf
from parvis.errors import InvalidInput, NotFound
from parvis.runtime import Runtime, get_runtime

router = APIRouter(prefix="/api/parvis/v1/log", tags=["log"])
MAX_LEAVES = 1000
Index = Annotated[int, Query(ge=0, le=2**62)]


def leaf_json(leaf: LogLeaf) -> dict[str, Any]:
    """A leaf as published: the exact hashed text (`leaf_input`), its hash and its fields."""
    return {
        "leaf_index": int(leaf.leaf_index),
        "kind": leaf.kind,
        "leaf_input": leaf.data,
        "leaf_hash": b64(bytes(leaf.leaf_hash)),
        "data": json.loads(leaf.data),
    }


@router.get("/key")
def public_key(runtime: Runtime = Depends(get_runtime)) -> dict[str, str]:
    """The Ed25519 public key that signs this instance's tree heads (raw 32 bytes, base64)."""
    raw = keys.public_key_bytes(keys.signing_key(runtime.settings))
    return {"algorithm": "Ed25519", "public_key": b64(raw), "key_id": key_id(raw)}


@router.get("/head")
def latest_head(runtime: Runtime = Depends(get_runtime)) -> dict[str, Any]:
    """The latest signed tree head (signed now if the log has grown since the last one)."""
    key = keys.signing_key(runtime.settings)
    with runtime.db.session() as session:
        return log.latest_head(session, key).to_json()


@router.get("/heads")
def heads(
    after: Annotated[int, Query(ge=-1)] = -1,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    runtime: Runtime = Depends(get_runtime),
) -> dict[str, Any]:
    """Every stored signed head of size greater than `after`, smallest first."""
    with runtime.db.session() as session:
        found = log.stored_heads(session, after, limit)
    return {"heads": [head.to_json() for head in found]}


@router.get("/leaves/{leaf_index}")
def leaf(leaf_index: int, runtime: Runtime = Depends(get_runtime)) -> dict[str, Any]:
    """One leaf by index."""
    with runtime.db.session() as session:
        return leaf_json(log.get_leaf(session, leaf_index))


@router.get("/leaves")
def leaves(
    start: Index = 0,
    end: Index | None = None,
    runtime: Runtime = Depends(get_runtime),
) -> dict[str, Any]:
    """Leaves `start` to `end` (exclusive), at most 1000 per request."""
    stop = start + MAX_LEAVES if end is None else min(end, start + MAX_LEAVES)
    if stop < start:
        raise InvalidInput("end must not be before start.", "end")
    with runtime.db.session() as session:
        found = log.leaf_range(session, start, stop)
    return {"leaves": [leaf_json(row) for row in found]}


@router.get("/proof/inclusion")
def inclusion(
    leaf_index: Index | None = None,
    decision: str | None = None,
    tree_size: Index | None = None,
    runtime: Runtime = Depends(get_runtime),
) -> dict[str, Any]:
    """The audit path of a leaf, given by index or by decision (its id or its DSA `puid`),
    in the tree of `tree_size` leaves (by default the latest signed head, returned too)."""
    key = keys.signing_key(runtime.settings)
    with runtime.db.session() as session:
        if decision is not None:
            found = log.leaf_for(session, decision_ref(_decision_id(decision)))
            if found is None:
                raise NotFound(f"Decision {decision} is not in the log (it never took effect).")
            leaf_index = int(found.leaf_index)
        if leaf_index is None:
            raise InvalidInput("Give leaf_index or decision.", "leaf_index")
        head = log.latest_head(session, key)
        size = head.tree_size if tree_size is None else tree_size
        path = log.inclusion_proof(session, leaf_index, size)
        row = log.get_leaf(session, leaf_index)
        signed = head if size == head.tree_size else log.head_at(session, size)
        return {
            "leaf_index": leaf_index,
            "tree_size": size,
            "leaf_hash": b64(bytes(row.leaf_hash)),
            "audit_path": [b64(node) for node in path],
            "head": signed.to_json() if signed else None,
        }


@router.get("/proof/consistency")
def consistency(
    first: Index,
    second: Index | None = None,
    runtime: Runtime = Depends(get_runtime),
) -> dict[str, Any]:
    """The proof that the tree of `second` leaves (default: the latest signed head) extends the
    tree of `first` leaves."""
    key = keys.signing_key(runtime.settings)
    with runtime.db.session() as session:
        head = log.latest_head(session, key)
        size = head.tree_size if second is None else second
        proof = log.consistency_proof(session, first, size)
        signed = head if size == head.tree_size else log.head_at(session, size)
        return {
            "first": first,
            "second": size,
            "consistency": [b64(node) for node in proof],
            "head": signed.to_json() if signed else None,
        }


def _decision_id(text: str) -> int:
    value = text.strip().removeprefix("parvis-decision-")
    if not value.isdigit():
        raise InvalidInput("decision is a decision id or its puid (parvis-decision-N).", "decision")
    return int(value)

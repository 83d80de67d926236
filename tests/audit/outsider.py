"""Checking the provable log as an outsider does: nothing but the public endpoints and the
published key. Scenario tests and the demo test use these to prove decisions are in the log."""

from __future__ import annotations

import base64
from typing import Any

from starlette.testclient import TestClient

from parvis.audit.heads import SignedHead
from parvis.audit.merkle import leaf_hash, verify_consistency, verify_inclusion

LOG = "/api/parvis/v1/log"


def _get(client: TestClient, path: str, **params: str | int) -> Any:
    response = client.get(f"{LOG}{path}", params=params)
    assert response.status_code == 200, response.text
    return response.json()


def published_key(client: TestClient) -> bytes:
    """The instance's Ed25519 public key as it publishes it."""
    return base64.b64decode(_get(client, "/key")["public_key"])


def signed_head(client: TestClient) -> SignedHead:
    """The latest signed tree head, its signature checked against the published key."""
    head = SignedHead.from_json(_get(client, "/head"))
    head.verify(published_key(client))
    return head


def proved_decision(client: TestClient, decision: str, head: SignedHead) -> dict[str, Any]:
    """The leaf of a decision (its id or puid), proved to be in the tree `head` signs; returns
    the leaf's published fields."""
    proof = _get(client, "/proof/inclusion", decision=decision, tree_size=head.tree_size)
    leaf = _get(client, f"/leaves/{proof['leaf_index']}")
    own_hash = leaf_hash(leaf["leaf_input"].encode("utf-8"))
    path = [base64.b64decode(node) for node in proof["audit_path"]]
    verify_inclusion(own_hash, proof["leaf_index"], head.tree_size, path, head.root_hash)
    fields: dict[str, Any] = leaf["data"]
    assert fields["leaf_index"] == proof["leaf_index"]
    return fields


def proved_consistent(client: TestClient, old: SignedHead, new: SignedHead) -> None:
    """Check that the tree `new` signs extends the one `old` signs (nothing rewritten)."""
    answer = _get(client, "/proof/consistency", first=old.tree_size, second=new.tree_size)
    proof = [base64.b64decode(node) for node in answer["consistency"]]
    verify_consistency(old.tree_size, new.tree_size, proof, old.root_hash, new.root_hash)

"""The public log endpoints and the /log page: anyone can fetch heads, leaves and proofs and
check them with nothing but the published key."""

from __future__ import annotations

import base64

from starlette.testclient import TestClient

from parvis.audit.heads import SignedHead
from parvis.audit.merkle import leaf_hash, verify_consistency, verify_inclusion
from tests.audit.conftest import Decide

LOG = "/api/parvis/v1/log"


def unb64(text: str) -> bytes:
    return base64.b64decode(text)


def test_the_key_and_a_verifiable_head_are_public(client: TestClient, decide_post: Decide) -> None:
    decide_post()
    key = client.get(f"{LOG}/key").json()
    assert key["algorithm"] == "Ed25519"
    assert len(unb64(key["public_key"])) == 32
    head = SignedHead.from_json(client.get(f"{LOG}/head").json())
    head.verify(unb64(key["public_key"]))
    assert head.tree_size == 2  # the moderator's role, then the decision
    assert client.get(f"{LOG}/heads").json()["heads"] == [head.to_json()]


def test_a_decision_is_proved_in_the_log_by_id_or_puid(
    client: TestClient, decide_post: Decide
) -> None:
    first = decide_post()
    decide_post()
    decide_post()
    head = SignedHead.from_json(client.get(f"{LOG}/head").json())
    for asked in (str(first.id), first.puid):
        proof = client.get(f"{LOG}/proof/inclusion", params={"decision": asked}).json()
        leaf = client.get(f"{LOG}/leaves/{proof['leaf_index']}").json()
        assert leaf["data"]["puid"] == first.puid
        own_hash = leaf_hash(leaf["leaf_input"].encode())
        assert unb64(leaf["leaf_hash"]) == own_hash
        assert proof["head"] == head.to_json()
        path = [unb64(node) for node in proof["audit_path"]]
        verify_inclusion(own_hash, proof["leaf_index"], head.tree_size, path, head.root_hash)


def test_consistency_between_two_heads(client: TestClient, decide_post: Decide) -> None:
    decide_post()
    old = SignedHead.from_json(client.get(f"{LOG}/head").json())
    decide_post()
    decide_post()
    new = SignedHead.from_json(client.get(f"{LOG}/head").json())
    answer = client.get(
        f"{LOG}/proof/consistency", params={"first": old.tree_size, "second": new.tree_size}
    ).json()
    proof = [unb64(node) for node in answer["consistency"]]
    verify_consistency(old.tree_size, new.tree_size, proof, old.root_hash, new.root_hash)
    leaves = client.get(f"{LOG}/leaves", params={"start": 0}).json()["leaves"]
    assert [leaf["leaf_index"] for leaf in leaves] == list(range(new.tree_size))


def test_bad_requests_get_clear_json_errors(client: TestClient, decide_post: Decide) -> None:
    decide_post(propose=True)
    cases = [
        (f"{LOG}/leaves/99", 404),
        (f"{LOG}/proof/inclusion?leaf_index=99", 422),
        (f"{LOG}/proof/inclusion", 422),
        (f"{LOG}/proof/inclusion?decision=parvis-decision-1", 404),  # only proposed
        (f"{LOG}/proof/inclusion?decision=nonsense", 422),
        (f"{LOG}/proof/consistency?first=5&second=2", 422),
        (f"{LOG}/proof/consistency?first=-1", 422),
        (f"{LOG}/leaves?start=abc", 422),
    ]
    for path, status in cases:
        response = client.get(path)
        assert response.status_code == status, path
        assert isinstance(response.json()["error"], str), path


def test_the_log_page_lists_entries_and_how_to_check(
    client: TestClient, decide_post: Decide
) -> None:
    decision = decide_post()
    page = client.get("/log")
    assert page.status_code == 200
    assert "Decision 1: remove under rule harassment (rulebook v1)" in page.text
    assert f'href="/statements/{decision.id}"' in page.text
    assert "@mod became moderator" in page.text
    assert "parvis audit verify --url" in page.text
    assert '<a href="/log">Moderation log</a>' in client.get("/rules").text  # in every footer

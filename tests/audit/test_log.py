"""Appending leaves in the same transaction as what they record, proofs from the database,
lazily signed heads."""

from __future__ import annotations

import json
import threading
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from parvis.accounts import services as accounts
from parvis.accounts.models import Role, User
from parvis.audit import keys, log
from parvis.audit.leaves import LeafDraft, commitment
from parvis.audit.merkle import leaf_hash, root_of, verify_consistency, verify_inclusion
from parvis.audit.models import LogLeaf, LogNode, TreeHead
from parvis.audit.store import Writer
from parvis.audit.verify import verify_database
from parvis.config import Settings
from parvis.errors import InvalidInput
from parvis.moderation import appeals, decisions, lists, publication
from parvis.moderation.models import Action, AppealState, Decision, DecisionState
from parvis.moderation.rulebook import default_rulebook_text
from parvis.runtime import Runtime
from parvis.storage.base import utcnow
from tests.audit.conftest import Decide
from tests.conftest import MakeUser


def _leaves(runtime: Runtime) -> list[LogLeaf]:
    with runtime.db.session() as session:
        return list(session.scalars(select(LogLeaf).order_by(LogLeaf.leaf_index)))


def _fields(runtime: Runtime) -> list[dict[str, object]]:
    return [json.loads(leaf.data) for leaf in _leaves(runtime)]


def test_appends_get_dense_indexes_and_store_every_complete_subtree(runtime: Runtime) -> None:
    with runtime.db.session() as session:
        first = log.append_many(
            session, [LeafDraft("role", f"role:{i}", {"n": i}) for i in range(5)]
        )
    with runtime.db.session() as session:
        second = [log.append(session, LeafDraft("role", f"role:{i}", {"n": i})) for i in (5, 6)]
        assert log.size(session) == 7
        assert session.scalar(select(func.count()).select_from(LogNode)) == 3 + 1
    assert first == [0, 1, 2, 3, 4]
    assert second == [5, 6]
    stored = _leaves(runtime)
    assert [leaf.leaf_index for leaf in stored] == list(range(7))
    for leaf in stored:
        assert leaf.leaf_hash == leaf_hash(leaf.data.encode())
        assert json.loads(leaf.data)["leaf_index"] == leaf.leaf_index


def test_a_rolled_back_transaction_leaves_no_leaf_and_no_gap(runtime: Runtime) -> None:
    def failing_change() -> None:
        with runtime.db.session() as session:
            log.append(session, LeafDraft("role", "role:1", {"n": 1}))
            raise RuntimeError("the decision failed")

    with pytest.raises(RuntimeError):
        failing_change()
    with runtime.db.session() as session:
        assert log.append(session, LeafDraft("role", "role:2", {"n": 2})) == 0


def test_proofs_from_the_database_verify_for_every_size(runtime: Runtime) -> None:
    with runtime.db.session() as session:
        log.append_many(session, [LeafDraft("role", f"role:{i}", {"n": i}) for i in range(21)])
    hashes = [bytes(leaf.leaf_hash) for leaf in _leaves(runtime)]
    with runtime.db.session() as session:
        for size in range(1, 22):
            root = root_of(hashes[:size])
            assert log.root_at(session, size) == root
            for index in range(size):
                path = log.inclusion_proof(session, index, size)
                verify_inclusion(hashes[index], index, size, path, root)
            for old in range(size + 1):
                proof = log.consistency_proof(session, old, size)
                verify_consistency(old, size, proof, root_of(hashes[:old]), root)
        with pytest.raises(InvalidInput):
            log.inclusion_proof(session, 5, 30)
        with pytest.raises(InvalidInput):
            log.consistency_proof(session, 9, 4)


def test_heads_are_signed_once_per_size_when_asked(runtime: Runtime, settings: Settings) -> None:
    key = keys.signing_key(settings)
    public = keys.public_key_bytes(key)
    with runtime.db.session() as session:
        empty = log.latest_head(session, key)
    assert empty.tree_size == 0
    empty.verify(public)
    with runtime.db.session() as session:
        log.append_many(session, [LeafDraft("role", f"role:{i}", {"n": i}) for i in range(3)])
    with runtime.db.session() as session:
        head = log.latest_head(session, key)
    with runtime.db.session() as session:
        again = log.latest_head(session, key)
        assert session.scalar(select(func.count()).select_from(TreeHead)) == 2
    assert head == again
    assert head.tree_size == 3
    assert head.root_hash == root_of([bytes(leaf.leaf_hash) for leaf in _leaves(runtime)])
    head.verify(public)
    assert head.timestamp_ms >= empty.timestamp_ms


def test_a_decision_in_force_is_logged_with_its_statement_and_no_personal_data(
    runtime: Runtime, decide_post: Decide
) -> None:
    decision = decide_post()
    logged = _fields(runtime)[-1]
    assert logged["kind"] == "decision"
    assert logged["decision_id"] == decision.id
    assert logged["puid"] == decision.puid
    assert logged["statement"] == json.loads(decision.statement_json)
    assert logged["rule_id"] == "harassment"
    assert logged["action"] == "remove"
    leaf = _leaves(runtime)[-1]
    text = leaf.data
    # The post is named only by a commitment that the stored (unpublished) salt opens.
    assert "subject_key" not in logged
    assert logged["subject"] == commitment(bytes(leaf.salt or b""), f"post:{decision.subject_key}")
    assert "decided_by" not in text
    assert "affected_user" not in text
    assert "@example.org" not in text
    assert "author" not in text


def test_proposals_are_logged_only_when_confirmed_and_never_when_declined(
    runtime: Runtime, decide_post: Decide, moderator: User
) -> None:
    before = len(_leaves(runtime))
    proposed = decide_post(propose=True)
    declined = decide_post(propose=True)
    assert len(_leaves(runtime)) == before
    with runtime.db.session() as session:
        decisions.confirm(session, proposed.id, session.get_one(User, moderator.id))
        decisions.decline(session, declined.id, session.get_one(User, moderator.id))
    logged = _fields(runtime)
    assert len(logged) == before + 1
    assert logged[-1]["decision_id"] == proposed.id
    assert logged[-1]["automated_decision"] == "partially"


def test_expiry_and_appeal_outcomes_are_logged(
    runtime: Runtime, decide_post: Decide, make_user: MakeUser
) -> None:
    other = make_user("other", role=Role.MODERATOR)
    with runtime.db.session() as session:
        publication.ensure_default(session)  # the appeal's outcome cites the rule it words
    decision = decide_post(Action.DEMOTE)
    with runtime.db.session() as session:
        row = session.get_one(Decision, decision.id)
        row.ends_at = utcnow() - timedelta(minutes=1)
    with runtime.db.session() as session:
        (restore,) = decisions.expire_due(session)
    removed = decide_post(Action.REMOVE)
    with runtime.db.session() as session:
        author = session.get_one(User, removed.affected_user_id)
        appeal = appeals.file_appeal(session, author, removed.id, "It was a quote, not an insult.")
    with runtime.db.session() as session:
        outcome = appeals.decide_appeal(
            session,
            appeal.id,
            session.get_one(User, other.id),
            outcome=AppealState.REVERSED,
            facts="Read in context the post quotes someone else.",
        )
    kinds = [(f["kind"], f.get("appeal_id") or f.get("decision_id")) for f in _fields(runtime)]
    assert ("decision", restore.id) in kinds
    assert kinds[-2:] == [("decision", outcome.id), ("appeal", appeal.id)]
    assert _fields(runtime)[-1]["outcome"] == "reversed"
    with runtime.db.session() as session:
        assert session.get_one(Decision, removed.id).state == DecisionState.SUPERSEDED.value


def test_rulebook_list_and_role_changes_are_logged(
    runtime: Runtime, make_user: MakeUser, moderator: User
) -> None:
    member = make_user("plain")
    with runtime.db.session() as session:
        publication.ensure_default(session)
        accounts.set_role(session, session.get_one(User, member.id), Role.MODERATOR)
        entry, _ = lists.add_entry(
            session,
            session.get_one(User, moderator.id),
            kind="url",
            value="https://leaks.example/dossier.pdf",
            rule_id="hacked-materials",
        )
        lists.remove_entry(session, session.get_one(User, moderator.id), entry.id)
    logged = _fields(runtime)
    assert [f["kind"] for f in logged] == ["role", "rulebook", "role", "list", "list"]
    assert logged[0] == {**logged[0], "username": "mod", "role": "moderator"}
    assert logged[1]["content_hash"] == publication_hash()
    assert logged[2]["username"] == "plain"
    assert logged[2]["role"] == "moderator"
    added, removed = logged[3], logged[4]
    assert (added["change"], removed["change"]) == ("add", "remove")
    assert added["value"] == removed["value"]  # the same commitment, opened by neither
    assert "leaks.example" not in json.dumps(logged)


def publication_hash() -> str:
    import hashlib

    return hashlib.sha256(default_rulebook_text().encode()).hexdigest()


def test_a_member_created_with_a_role_is_logged_but_plain_members_are_not(
    runtime: Runtime, make_user: MakeUser
) -> None:
    make_user("someone")
    make_user("boss", role=Role.ADMIN)
    assert [(f["username"], f["role"]) for f in _fields(runtime)] == [("boss", "admin")]


def _role_leaf(account_id: int) -> LeafDraft:
    return LeafDraft("role", f"role:{account_id}", {"kind": "role", "account_id": account_id})


def _state_moves(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Record the statements each append moves the log's state with: "advance" (one, when
    the state is where this process left it; otherwise it reserves in the same statement and
    "save_frontier" follows), "reserve" (the lock and read, then "save_frontier")."""
    seen: list[str] = []
    for name in ("advance", "reserve", "save_frontier"):
        original = getattr(Writer, name)

        def spy(self: Writer, *args: Any, _name: str = name, _original: Any = original) -> Any:
            seen.append(_name)
            return _original(self, *args)

        monkeypatch.setattr(Writer, name, spy)
    return seen


def test_an_append_where_this_process_left_the_log_moves_the_state_in_one_statement(
    runtime: Runtime, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    with runtime.db.session() as session:
        log.append(session, _role_leaf(1))
    seen = _state_moves(monkeypatch)
    with runtime.db.session() as session:
        assert log.append(session, _role_leaf(2)) == 1
    assert seen == ["advance"]
    with runtime.db.session() as session:
        outcome = verify_database(session, keys.public_key_bytes(keys.signing_key(settings)))
    assert outcome.ok, outcome.sorted_problems()


def test_appends_by_another_process_or_a_rollback_in_between_keep_the_log_whole(
    runtime: Runtime, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    other = Runtime.build(settings)  # another process's engine: its own idea of the state
    try:
        with runtime.db.session() as session:
            log.append(session, _role_leaf(1))
        with other.db.session() as session:
            assert log.append(session, _role_leaf(2)) == 1

        def undone() -> None:
            with runtime.db.session() as session:  # taken at 2, then rolled back
                log.append(session, _role_leaf(0))
                raise RuntimeError("the decision failed")

        with pytest.raises(RuntimeError):
            undone()
        with other.db.session() as session:
            assert log.append(session, _role_leaf(3)) == 2
        seen = _state_moves(monkeypatch)
        with runtime.db.session() as session:  # what it last left is gone: it reserves
            assert log.append(session, _role_leaf(4)) == 3
        assert seen == ["advance", "save_frontier"]  # two statements on the state, not three
    finally:
        other.db.dispose()
    assert [json.loads(leaf.data)["account_id"] for leaf in _leaves(runtime)] == [1, 2, 3, 4]
    with runtime.db.session() as session:
        outcome = verify_database(session, keys.public_key_bytes(keys.signing_key(settings)))
    assert outcome.ok, outcome.sorted_problems()


def test_concurrent_appends_get_dense_unique_indexes(runtime: Runtime, settings: Settings) -> None:
    errors: list[BaseException] = []

    def worker(number: int) -> None:
        try:
            for item in range(15):
                with runtime.db.session() as session:
                    fields = {"kind": "role", "account_id": 1000 + number, "item": item}
                    draft = LeafDraft("role", f"role:{1000 + number}", fields)
                    log.append(session, draft)
        except BaseException as exc:  # collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors
    stored = _leaves(runtime)
    assert [leaf.leaf_index for leaf in stored] == list(range(60))
    with runtime.db.session() as session:
        outcome = verify_database(session, keys.public_key_bytes(keys.signing_key(settings)))
    assert outcome.ok, outcome.sorted_problems()

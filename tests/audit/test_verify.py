"""`verify` recomputes the log: any deleted, edited, reordered or truncated decision, statement,
leaf or head is found, and the first problem names the first bad leaf."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from sqlalchemy import text

from parvis.accounts.models import Role, User
from parvis.audit import keys, log
from parvis.audit.outcome import Outcome
from parvis.audit.verify import export_lines, verify_database, verify_lines
from parvis.config import Settings
from parvis.moderation import publication
from parvis.moderation.models import Decision
from parvis.runtime import Runtime
from tests.audit.conftest import Decide
from tests.conftest import MakeUser

Built = dict[str, int]


@pytest.fixture
def built(runtime: Runtime, settings: Settings, decide_post: Decide, moderator: User) -> Built:
    """A log of a role, the rulebook and five decisions, with a head signed after each."""
    key = keys.signing_key(settings)
    with runtime.db.session() as session:
        publication.ensure_default(session)
    ids = []
    for _ in range(5):
        ids.append(decide_post().id)
        with runtime.db.session() as session:
            log.latest_head(session, key)
    with runtime.db.session() as session:
        refs = {
            leaf.ref: int(leaf.leaf_index) for leaf in log.leaf_range(session, 0, log.size(session))
        }
    return (
        {f"d{n}": refs[f"decision:{i}"] for n, i in enumerate(ids)}
        | {f"id{n}": i for n, i in enumerate(ids)}
        | {"size": len(refs)}
    )


def check(runtime: Runtime, settings: Settings) -> Outcome:
    with runtime.db.session() as session:
        return verify_database(session, keys.public_key_bytes(keys.signing_key(settings)))


def sql(runtime: Runtime, statement: str, **params: object) -> None:
    with runtime.db.session() as session:
        session.execute(text(statement), params)


def first(outcome: Outcome) -> tuple[int | None, str]:
    assert not outcome.ok
    problem = outcome.sorted_problems()[0]
    return problem.leaf, problem.message


def test_an_untouched_log_verifies(runtime: Runtime, settings: Settings, built: Built) -> None:
    outcome = check(runtime, settings)
    assert outcome.ok, outcome.sorted_problems()
    assert outcome.leaves == built["size"] == 7
    assert outcome.heads == 5
    assert outcome.rows == 7  # five decisions, the rulebook, the moderator's role


def test_deleting_a_decision_row_names_its_leaf(
    runtime: Runtime, settings: Settings, built: Built
) -> None:
    sql(runtime, "DELETE FROM post_restrictions WHERE decision_id = :id", id=built["id2"])
    sql(runtime, "DELETE FROM decisions WHERE id = :id", id=built["id2"])
    assert first(check(runtime, settings)) == (
        built["d2"],
        f"decision {built['id2']} was deleted from the database",
    )


def test_editing_a_statement_of_reasons_names_its_leaf(
    runtime: Runtime, settings: Settings, built: Built
) -> None:
    with runtime.db.session() as session:
        decision = session.get_one(Decision, built["id1"])
        statement = json.loads(decision.statement_json)
        statement["decision_facts"] = "Something milder."
        decision.statement_json = json.dumps(statement, sort_keys=True)
    leaf, message = first(check(runtime, settings))
    assert leaf == built["d1"]
    assert "no longer matches its leaf (statement changed)" in message


def test_hiding_a_decision_as_declined_is_caught(
    runtime: Runtime, settings: Settings, built: Built
) -> None:
    sql(runtime, "UPDATE decisions SET state = 'declined' WHERE id = :id", id=built["id3"])
    leaf, message = first(check(runtime, settings))
    assert leaf == built["d3"]
    assert "now marked declined" in message


def test_editing_a_leaf_names_it(runtime: Runtime, settings: Settings, built: Built) -> None:
    sql(
        runtime,
        "UPDATE log_leaves SET data = REPLACE(data, 'remove', 'label') WHERE leaf_index = :i",
        i=built["d1"],
    )
    leaf, message = first(check(runtime, settings))
    assert leaf == built["d1"]
    assert "edited" in message


def test_rewriting_a_leaf_and_its_hash_is_still_caught_at_that_leaf(
    runtime: Runtime, settings: Settings, built: Built
) -> None:
    from parvis.audit.merkle import leaf_hash

    with runtime.db.session() as session:
        row = log.get_leaf(session, built["d2"])
        row.data = row.data.replace('"remove"', '"label"')
        row.leaf_hash = leaf_hash(row.data.encode())
    outcome = check(runtime, settings)
    assert first(outcome)[0] == built["d2"]
    messages = " | ".join(str(p) for p in outcome.problems)
    assert "no longer matches its leaf (action changed)" in messages
    assert "signed head" in messages


def test_deleting_a_leaf_names_it(runtime: Runtime, settings: Settings, built: Built) -> None:
    sql(runtime, "DELETE FROM log_leaves WHERE leaf_index = :i", i=built["d3"])
    leaf, message = first(check(runtime, settings))
    assert leaf == built["d3"]
    assert "missing" in message


def test_reordering_leaves_names_the_first_moved_one(
    runtime: Runtime, settings: Settings, built: Built
) -> None:
    a, b = built["d1"], built["d3"]
    sql(runtime, "UPDATE log_leaves SET leaf_index = -1 WHERE leaf_index = :a", a=a)
    sql(runtime, "UPDATE log_leaves SET leaf_index = :a WHERE leaf_index = :b", a=a, b=b)
    sql(runtime, "UPDATE log_leaves SET leaf_index = :b WHERE leaf_index = -1", b=b)
    leaf, message = first(check(runtime, settings))
    assert leaf == a
    assert f"holds the entry made as leaf {b}" in message


def test_truncating_the_log_is_caught_by_the_signed_heads(
    runtime: Runtime, settings: Settings, built: Built
) -> None:
    size = built["size"]
    sql(runtime, "DELETE FROM log_leaves WHERE leaf_index >= :n", n=size - 2)
    sql(runtime, "UPDATE log_state SET size = :n", n=size - 2)
    outcome = check(runtime, settings)
    leaf, message = first(outcome)
    assert leaf == size - 2
    assert "truncated" in message


def test_a_forged_head_signature_is_caught(
    runtime: Runtime, settings: Settings, built: Built
) -> None:
    with runtime.db.session() as session:
        head = log.latest_head(session, keys.signing_key(settings))
    forged = bytes([head.signature[0] ^ 1]) + head.signature[1:]
    sql(
        runtime,
        "UPDATE log_tree_heads SET signature = :s WHERE tree_size = :n",
        s=forged,
        n=head.tree_size,
    )
    assert "signature" in first(check(runtime, settings))[1]


def test_a_tampered_subtree_hash_is_caught(
    runtime: Runtime, settings: Settings, built: Built
) -> None:
    sql(
        runtime,
        "UPDATE log_nodes SET hash = :h WHERE id = (SELECT MIN(id) FROM log_nodes)",
        h=b"x" * 32,
    )
    leaf, message = first(check(runtime, settings))
    assert leaf == 0
    assert "proofs would be wrong" in message


def test_unlogged_role_changes_and_list_entries_are_caught(
    runtime: Runtime, settings: Settings, built: Built, make_user: MakeUser
) -> None:
    member = make_user("quiet")
    sql(runtime, "UPDATE users SET role = 'admin' WHERE id = :id", id=member.id)
    sql(runtime, "UPDATE users SET role = 'member' WHERE username = 'mod'")
    messages = [str(p) for p in check(runtime, settings).sorted_problems()]
    assert any("@quiet is admin but no role change was logged" in m for m in messages)
    assert any("@mod is member but the log last made them moderator" in m for m in messages)


def test_a_decision_written_around_the_log_is_caught(
    runtime: Runtime, settings: Settings, built: Built
) -> None:
    with runtime.db.session() as session:
        original = session.get_one(Decision, built["id0"])
        copy = Decision(
            **{
                c.name: getattr(original, c.name)
                for c in Decision.__table__.columns
                if c.name != "id"
            }
        )
        session.add(copy)
        session.flush()
        new_id = copy.id
    messages = [str(p) for p in check(runtime, settings).problems]
    assert f"decision {new_id} (in_effect) has no leaf in the log" in messages


# Exported files


@pytest.fixture
def exported(runtime: Runtime, settings: Settings, built: Built, public_key: bytes) -> list[str]:
    with runtime.db.session() as session:
        return list(export_lines(session, public_key, "test"))


def _leaf_lines(lines: list[str]) -> tuple[list[str], list[str]]:
    head = [line for line in lines if '"leaf_index"' not in line]
    return head, [line for line in lines if '"leaf_index"' in line]


def test_an_exported_log_verifies_offline(exported: list[str], public_key: bytes) -> None:
    outcome = verify_lines(exported, "file", public_key)
    assert outcome.ok, outcome.sorted_problems()
    assert (outcome.leaves, outcome.heads) == (7, 5)


Tamper = Callable[[list[str]], list[str]]


def _edit(lines: list[str], index: int) -> list[str]:
    item = json.loads(lines[index])
    item["data"] = item["data"].replace('"remove"', '"label"')
    return [*lines[:index], json.dumps(item), *lines[index + 1 :]]


@pytest.mark.parametrize(
    ("name", "tamper", "expected_leaf", "words"),
    [
        ("delete", lambda ls: [*ls[:4], *ls[5:]], 4, "missing"),
        ("edit", lambda ls: _edit(ls, 4), 4, "no longer match the signed head of size 5"),
        ("reorder", lambda ls: [*ls[:3], ls[4], ls[3], *ls[5:]], 3, "missing"),
        ("truncate", lambda ls: ls[:5], 5, "truncated"),
    ],
)
def test_a_tampered_export_fails_naming_the_first_bad_leaf(
    exported: list[str],
    public_key: bytes,
    name: str,
    tamper: Tamper,
    expected_leaf: int,
    words: str,
) -> None:
    header, leaves = _leaf_lines(exported)
    outcome = verify_lines([*header, *tamper(leaves)], name, public_key)
    leaf, message = first(outcome)
    assert leaf == expected_leaf, outcome.sorted_problems()
    assert words in message


def test_an_export_signed_by_another_key_is_refused(exported: list[str]) -> None:
    outcome = verify_lines(exported, "file", b"\x01" * 32)
    assert not outcome.ok
    assert any("not the key you gave" in p.message for p in outcome.problems)


def test_roles_from_the_demo_roles_verify(
    runtime: Runtime, settings: Settings, make_user: MakeUser
) -> None:
    make_user("chief", role=Role.ADMIN)
    assert check(runtime, settings).ok


def test_editing_a_published_rulebook_names_its_leaf(
    runtime: Runtime, settings: Settings, built: Built
) -> None:
    with runtime.db.session() as session:
        rulebook_leaf = next(
            int(leaf.leaf_index)
            for leaf in log.leaf_range(session, 0, built["size"])
            if leaf.kind == "rulebook"
        )
    sql(
        runtime,
        "UPDATE rulebook_versions SET content = REPLACE(content, 'strikes = 1', 'strikes = 0')",
    )
    leaf, message = first(check(runtime, settings))
    assert leaf == rulebook_leaf
    assert message == "the text of rulebook version 1 was edited"


def test_editing_an_appeal_outcome_names_its_leaf(
    runtime: Runtime, settings: Settings, built: Built, make_user: MakeUser
) -> None:
    from parvis.moderation import appeals
    from parvis.moderation.models import AppealState

    other = make_user("other_mod", role=Role.MODERATOR)
    with runtime.db.session() as session:
        decision = session.get_one(Decision, built["id4"])
        author = session.get_one(User, decision.affected_user_id)
        appeal = appeals.file_appeal(session, author, decision.id, "It was a quotation.")
        appeals.decide_appeal(
            session,
            appeal.id,
            session.get_one(User, other.id),
            outcome=AppealState.UPHELD,
            facts="The insult was direct.",
        )
        appeal_id = appeal.id
    with runtime.db.session() as session:
        logged = log.leaf_for(session, f"appeal:{appeal_id}")
        assert logged is not None
        appeal_leaf = int(logged.leaf_index)
    assert check(runtime, settings).ok
    sql(runtime, "UPDATE appeals SET state = 'reversed' WHERE id = :id", id=appeal_id)
    leaf, message = first(check(runtime, settings))
    assert (leaf, message) == (appeal_leaf, f"appeal {appeal_id} no longer matches its leaf")

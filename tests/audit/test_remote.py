"""Checking a running instance over HTTP: `verify --url` and the witness, which catches an
instance that rewrites its history."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import delete, select
from typer.testing import CliRunner

from parvis.audit import log
from parvis.audit.leaves import LeafDraft
from parvis.audit.models import LogLeaf, LogNode, LogState, TreeHead
from parvis.audit.remote import verify_remote
from parvis.audit.watch import Alarm, observe
from parvis.cli import app
from parvis.runtime import Runtime
from tests.audit.conftest import Decide

runner = CliRunner()


def test_verify_url_checks_a_live_instance(live_server: str, decide_post: Decide) -> None:
    for _ in range(4):
        decide_post()
    outcome = verify_remote(live_server, sample=100)
    assert outcome.ok, outcome.sorted_problems()
    assert outcome.leaves == 5
    result = runner.invoke(app, ["audit", "verify", "--url", live_server])
    assert result.exit_code == 0, result.output
    assert result.output.strip().endswith("5 leaves, 1 signed heads: OK")


def test_verify_url_fails_on_an_edited_leaf(
    live_server: str, decide_post: Decide, runtime: Runtime
) -> None:
    decide_post()
    decide_post()
    with runtime.db.session() as session:
        leaf = session.get_one(LogLeaf, 1)
        leaf.data = leaf.data.replace('"remove"', '"label"')
    result = runner.invoke(app, ["audit", "verify", "--url", live_server])
    assert result.exit_code == 1
    assert result.output.startswith("FAIL leaf 1: its data was edited")


def _rewrite_history(runtime: Runtime, index: int) -> None:
    """What a dishonest operator would do: change a leaf, rebuild the whole tree and its
    stored heads consistently, and sign afresh (they hold the key)."""
    with runtime.db.session() as session:
        rows = list(session.scalars(select(LogLeaf).order_by(LogLeaf.leaf_index)))
        drafts = []
        for row in rows:
            fields = json.loads(row.data)
            fields.pop("leaf_index")
            if row.leaf_index == index:
                fields["action"] = "label"
            drafts.append(LeafDraft(row.kind, row.ref, fields, row.salt))
        for model in (LogLeaf, LogNode, LogState, TreeHead):
            session.execute(delete(model))
    with runtime.db.session() as session:
        log.append_many(session, drafts)


def test_the_witness_accepts_growth_and_catches_rewritten_history(
    live_server: str, decide_post: Decide, runtime: Runtime, tmp_path: Path
) -> None:
    state = tmp_path / "witness.json"
    decide_post()
    assert "first head" in observe(live_server, state)
    decide_post()
    assert "grew from 2 to 3 leaves, consistently" in observe(live_server, state)
    assert "still 3 leaves" in observe(live_server, state)
    _rewrite_history(runtime, index=1)
    decide_post()
    with pytest.raises(Alarm, match="history rewritten"):
        observe(live_server, state)
    saved = json.loads(state.read_text())
    assert saved["heads"][-1]["tree_size"] == 3  # the last good head is kept
    assert saved["alarms"][0]["head"]["tree_size"] == 4  # and the contradicting one, as evidence
    result = runner.invoke(app, ["audit", "watch", live_server, "--state", str(state), "--once"])
    assert result.exit_code == 1
    assert "ALARM" in result.output
    assert "history rewritten" in result.output


def test_the_witness_catches_a_fork_and_a_rollback(
    live_server: str, decide_post: Decide, runtime: Runtime, tmp_path: Path
) -> None:
    state = tmp_path / "witness.json"
    decide_post()
    decide_post()
    result = runner.invoke(app, ["audit", "watch", live_server, "--state", str(state), "--once"])
    assert result.exit_code == 0, result.output
    _rewrite_history(runtime, index=2)
    with pytest.raises(Alarm, match="forked: two different roots signed for size 3"):
        observe(live_server, state)
    with runtime.db.session() as session:
        for model in (LogNode, LogState, TreeHead):
            session.execute(delete(model))
        session.execute(delete(LogLeaf).where(LogLeaf.leaf_index >= 1))
    with runtime.db.session() as session:
        log.append_many(session, [])
    with pytest.raises(Alarm, match="rolled back: the log now has 1 leaves"):
        observe(live_server, state)

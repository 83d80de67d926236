"""`parvis audit verify|export|head` from the command line: exit status 0 only when the log
checks, one line per problem naming the leaf."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from parvis.cli import app
from parvis.config import Settings
from parvis.runtime import Runtime
from tests.audit.conftest import Decide

runner = CliRunner()


@pytest.fixture
def env(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    """Point the command line at the test's database and data folder."""
    monkeypatch.setenv("PARVIS_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("PARVIS_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("PARVIS_SECRET_KEY", "test-secret-key-not-for-production")


def test_verify_passes_then_fails_naming_the_edited_decision(
    env: None, runtime: Runtime, decide_post: Decide
) -> None:
    decision = decide_post()
    result = runner.invoke(app, ["audit", "verify"])
    assert result.exit_code == 0, result.output
    assert "database: 2 leaves" in result.output
    assert ": OK" in result.output
    with runtime.db.session() as session:
        session.execute(
            text("UPDATE decisions SET rule_id = 'spam' WHERE id = :id"), {"id": decision.id}
        )
    result = runner.invoke(app, ["audit", "verify"])
    assert result.exit_code == 1
    first_line = result.output.splitlines()[0]
    assert first_line == (
        f"FAIL leaf 1: decision {decision.id} no longer matches its leaf (rule_id changed)"
    )


def test_export_then_verify_the_file_and_catch_a_missing_leaf(
    env: None, decide_post: Decide, tmp_path: Path
) -> None:
    for _ in range(3):
        decide_post()
    target = tmp_path / "log.jsonl"
    result = runner.invoke(app, ["audit", "export", str(target)])
    assert result.exit_code == 0, result.output
    assert runner.invoke(app, ["audit", "verify", "--file", str(target)]).exit_code == 0
    lines = target.read_text().splitlines()
    target.write_text("\n".join(line for line in lines if '"leaf_index": 2,' not in line))
    result = runner.invoke(app, ["audit", "verify", "--file", str(target)])
    assert result.exit_code == 1
    assert result.output.startswith("FAIL leaf 2: missing")


def test_head_prints_a_signed_head(env: None, decide_post: Decide) -> None:
    decide_post()
    result = runner.invoke(app, ["audit", "head"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["tree_size"] == 2


def test_bad_arguments_are_one_line_errors(env: None, tmp_path: Path) -> None:
    missing = runner.invoke(app, ["audit", "verify", "--file", str(tmp_path / "nope.jsonl")])
    assert missing.exit_code == 2
    assert missing.output.startswith("error: cannot read")
    bad_key = runner.invoke(app, ["audit", "verify", "--key", "not base64!"])
    assert bad_key.exit_code == 2
    assert "error: --key" in bad_key.output
    unreachable = runner.invoke(app, ["audit", "verify", "--url", "http://127.0.0.1:9"])
    assert unreachable.exit_code == 2
    assert "error: cannot reach" in unreachable.output

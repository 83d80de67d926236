"""The command line: users, admins, demo data and clear one-line errors."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from parvis.accounts.services import find_by_login
from parvis.cli import app
from parvis.config import Settings
from parvis.runtime import Runtime
from parvis.social import feeds
from parvis.social.visibility import load_viewer

runner = CliRunner()


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("PARVIS_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("PARVIS_ARGON2_MEMORY_KIB", "64")
    monkeypatch.setenv("PARVIS_ARGON2_TIME_COST", "1")
    monkeypatch.delenv("PARVIS_DATABASE_URL", raising=False)
    return tmp_path


def test_admin_create_makes_a_verified_admin(data_dir: Path) -> None:
    result = runner.invoke(
        app, ["admin", "create", "root_ana", "--email", "ana@example.org", "--password", "x" * 3]
    )
    assert result.exit_code == 1
    assert "Password too short" in result.output
    result = runner.invoke(
        app,
        ["admin", "create", "root_ana", "--email", "ana@example.org",
         "--password", "violet tractor anthem 1987"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "created admin @root_ana" in result.output
    duplicate = runner.invoke(
        app,
        ["users", "create", "ROOT_ANA", "--email", "b@example.org",
         "--password", "violet tractor anthem 1987"],
    )  # fmt: skip
    assert duplicate.exit_code == 1
    assert "already taken" in duplicate.output


def test_users_create_rejects_unknown_role(data_dir: Path) -> None:
    result = runner.invoke(
        app,
        ["users", "create", "bob", "--email", "b@example.org", "--password", "p", "--role", "king"],
    )
    assert result.exit_code != 0
    assert "king" in result.output


def test_demo_loads_once_and_gives_a_populated_home(data_dir: Path) -> None:
    result = runner.invoke(app, ["demo"])
    assert result.exit_code == 0, result.output
    assert "sign in as" in result.output
    again = runner.invoke(app, ["demo"])
    assert again.exit_code == 1
    assert "already has members" in again.output
    runtime = Runtime.build(Settings(data_dir=data_dir))
    with runtime.db.session() as session:
        tom = find_by_login(session, "tom")
        assert tom is not None
        assert len(feeds.home(session, load_viewer(session, tom.id), feeds.PageQuery())) >= 10
        big = find_by_login(session, "bigvoice")
        assert big is not None
        assert big.followers_count >= 150
    runtime.db.dispose()


def test_db_upgrade_reports_success(data_dir: Path) -> None:
    result = runner.invoke(app, ["db", "upgrade"])
    assert result.exit_code == 0
    assert (data_dir / "parvis.db").exists()


@pytest.fixture
def uvicorn_run(monkeypatch: pytest.MonkeyPatch) -> dict[str, object]:
    """What `parvis serve` passes to `uvicorn.run` (which is not run)."""
    import uvicorn

    seen: dict[str, object] = {}
    monkeypatch.setattr(uvicorn, "run", lambda app, **options: seen.update(options, app=app))
    return seen


def test_serve_runs_uvicorn_with_the_shields_limits_and_a_deep_backlog(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch, uvicorn_run: dict[str, object]
) -> None:
    seen = uvicorn_run
    monkeypatch.setenv("PARVIS_SERVE_BACKLOG", "8192")
    result = runner.invoke(app, ["serve", "--port", "8123"])
    assert result.exit_code == 0, result.output
    assert "http://127.0.0.1:8123/" in result.output
    assert seen["app"] == "parvis.app:create_app"
    assert seen["backlog"] == 8192
    assert seen["http"] == "parvis.shield.protocol:GuardedHttpToolsProtocol"
    assert seen["proxy_headers"] is False


def test_serve_with_several_workers_shares_the_live_write_budget_between_them(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch, uvicorn_run: dict[str, object]
) -> None:
    seen = uvicorn_run
    # Noted first, so that what `serve` puts in the environment is taken out after the test.
    monkeypatch.setenv("PARVIS_LIVE_MAX_WRITES_PER_SECOND", "1")
    monkeypatch.delenv("PARVIS_LIVE_MAX_WRITES_PER_SECOND")
    result = runner.invoke(app, ["serve", "--workers", "4"])
    assert result.exit_code == 0, result.output
    assert seen["workers"] == 4
    assert "100,000 socket writes/s shared by 4 workers (25,000 each)" in result.output
    # Each worker reads its settings from this environment.
    assert Settings().live_max_writes_per_second == 25_000.0


def test_a_live_write_budget_the_operator_set_is_left_as_it_is(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from parvis.cli import live_budget_per_worker

    assert live_budget_per_worker(Settings(), 1) is None
    assert live_budget_per_worker(Settings(), 2) == 50_000.0
    monkeypatch.setenv("PARVIS_LIVE_MAX_WRITES_PER_SECOND", "80000")
    assert live_budget_per_worker(Settings(), 2) is None

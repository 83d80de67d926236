"""Publishing rulebook versions: admins only, numbered upwards, never changed."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import event
from starlette.testclient import TestClient
from typer.testing import CliRunner

from parvis.accounts.models import Role, User
from parvis.cli import app as cli
from parvis.config import Settings
from parvis.errors import Conflict, InvalidInput, PermissionDenied
from parvis.moderation import publication
from parvis.moderation.rulebook import default_rulebook_text
from parvis.runtime import Runtime
from tests.conftest import MakeUser

VERSION_2 = (
    default_rulebook_text()
    .replace("version = 1", "version = 2")
    .replace(
        "Do not target a person with repeated abuse", "Do not target anyone with repeated abuse"
    )
)


def test_versions_are_published_in_order_by_admins(runtime: Runtime, make_user: MakeUser) -> None:
    admin = make_user("boss", role=Role.ADMIN)
    member = make_user("member")
    with runtime.db.session() as session:
        publication.ensure_default(session)
        publication.ensure_default(session)  # idempotent
        assert [v.version for v in publication.versions(session)] == [1]
        with pytest.raises(PermissionDenied):
            publication.publish(session, VERSION_2, session.get_one(User, member.id))
        with pytest.raises(Conflict, match="next version must be 2"):
            publication.publish(session, default_rulebook_text(), session.get_one(User, admin.id))
        with pytest.raises(InvalidInput, match="not valid"):
            publication.publish(session, "version = 2", session.get_one(User, admin.id))
        row = publication.publish(session, VERSION_2, session.get_one(User, admin.id))
        assert row.published_by_id == admin.id
    with runtime.db.session() as session:
        assert publication.get_version(session).version == 2
        assert publication.get_version(session, 1).content == default_rulebook_text()


def test_rules_in_force_are_remembered_per_transaction_and_forgotten_on_publish(
    runtime: Runtime, make_user: MakeUser
) -> None:
    admin = make_user("boss", role=Role.ADMIN)
    with runtime.db.session() as session:
        publication.ensure_default(session)
        assert publication.rules(session)[0] == 1
        publication.publish(session, VERSION_2, session.get_one(User, admin.id))
        # The same unit of work sees the version it has just published...
        number, rulebook = publication.rules(session)
        assert number == 2
        assert "anyone" in rulebook.rule("harassment").text
        # ...and an older version by its number still gives that version's own text.
        assert "a person" in publication.rules(session, 1)[1].rule("harassment").text
    with runtime.db.session() as session:
        assert publication.rules(session)[0] == 2


def test_rules_held_by_screening_are_answered_without_a_query(runtime: Runtime) -> None:
    with runtime.db.session() as session:
        publication.ensure_default(session)
    statements: list[str] = []

    def count(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        statements.append(statement)

    with runtime.db.session() as session:
        version, rulebook = publication.rules(session)
    event.listen(runtime.db.engine, "before_cursor_execute", count)
    try:
        with runtime.db.session() as session:
            publication.hold_in_force(session, version, rulebook)
            assert publication.rules(session) == (version, rulebook)
            assert publication.rules(session, version)[1] is rulebook
            held = [s for s in statements if "rulebook_versions" in s]
        with runtime.db.session() as session:
            assert publication.rules(session)[0] == version  # the next transaction asks again
    finally:
        event.remove(runtime.db.engine, "before_cursor_execute", count)
    assert held == []
    assert any("rulebook_versions" in s for s in statements)


def test_rules_pages_show_current_version_and_diff(runtime: Runtime, client: TestClient) -> None:
    with runtime.db.session() as session:
        publication.ensure_default(session)
        publication.publish(session, VERSION_2, None)
    page = client.get("/rules").text
    assert "Version 2" in page
    assert "(in force)" in page
    assert "Do not target anyone" in page
    assert "Doxxing" in page
    assert "Do not target a person" in client.get("/rules/1").text
    diff = client.get("/rules/diff?old=1&new=2").text
    assert '<span class="removed">-' in diff
    assert '<span class="added">+' in diff
    assert client.get("/rules/9").status_code == 404
    assert client.get("/rules/diff?old=1&new=1").status_code == 422


def test_cli_check_reports_lines_and_exit_status(tmp_path: object) -> None:
    from pathlib import Path

    folder = Path(str(tmp_path))
    good = folder / "good.toml"
    good.write_text(default_rulebook_text())
    bad = folder / "bad.toml"
    bad.write_text(default_rulebook_text().replace('action = "block_url"', 'action = "ban"'))
    runner = CliRunner()
    ok = runner.invoke(cli, ["rules", "check", str(good)])
    assert ok.exit_code == 0
    assert "valid rulebook version 1 with 10 rules" in ok.output
    failed = runner.invoke(cli, ["rules", "check", str(bad)])
    assert failed.exit_code == 1
    assert f"{bad}:" in failed.output
    assert "'action' must be one of" in failed.output
    missing = runner.invoke(cli, ["rules", "check", str(folder / "nope.toml")])
    assert missing.exit_code == 2


def test_admin_publishes_from_the_web_with_line_numbered_errors(
    runtime: Runtime, client: TestClient, make_user: MakeUser
) -> None:
    from tests.web.conftest import csrf, login

    with runtime.db.session() as session:
        publication.ensure_default(session)
    make_user("member")
    make_user("boss", role=Role.ADMIN)
    login(client, "member")
    assert client.get("/rules/publish").status_code == 403
    login(client, "boss")
    form = client.get("/rules/publish").text
    assert "version = 2" in form
    bad = client.post(
        "/rules/publish",
        data={
            "text": VERSION_2.replace('action = "remove"', 'action = "ban"', 1),
            "csrf_token": csrf(client, "/rules/publish"),
        },
    )
    assert bad.status_code == 422
    assert "line " in bad.text
    assert "&#39;action&#39; must be one of" in bad.text
    done = client.post(
        "/rules/publish",
        data={"text": VERSION_2, "csrf_token": csrf(client, "/rules/publish")},
        follow_redirects=False,
    )
    assert done.headers["location"] == "/rules/2"
    assert "(in force)" in client.get("/rules/2").text


def test_cli_publish_appends_a_version_and_refuses_to_change_one(
    runtime: Runtime,
    settings: Settings,
    make_user: MakeUser,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PARVIS_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("PARVIS_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("PARVIS_SECRET_KEY", "test-secret-key-not-for-production")
    boss = make_user("boss", role=Role.ADMIN)
    (tmp_path / "v2.toml").write_text(VERSION_2)
    runner = CliRunner()
    done = runner.invoke(cli, ["rules", "publish", str(tmp_path / "v2.toml"), "--by", "boss"])
    assert done.exit_code == 0, done.output
    assert done.output.startswith("published rulebook version 2 (")
    again = runner.invoke(cli, ["rules", "publish", str(tmp_path / "v2.toml"), "--by", "boss"])
    assert again.exit_code == 1
    assert "the next version must be 3" in again.output
    with runtime.db.session() as session:
        assert publication.get_version(session, 1).content == default_rulebook_text()
        stored = publication.get_version(session, 2)
        assert (stored.content, stored.published_by_id) == (VERSION_2, boss.id)

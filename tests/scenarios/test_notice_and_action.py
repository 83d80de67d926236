"""Scenario 5, notice and action under the DSA, through the public interfaces: an admin
designates a trusted flagger on the desk; a notifier reports a post as illegal hate speech
through the form (explanation, exact URL, name, e-mail, good faith) and is acknowledged at once;
the trusted flagger reports another post the same day through the API and is reviewed first;
the moderator's decisions reach the authors as statements of reasons and the notifiers as
outcomes; the month's transparency report (`parvis report`) counts both notices by source,
category, action and median time to decision; and `parvis reasons export` validates the
statements against the Transparency Database's rules."""

from __future__ import annotations

import csv
import io
import json
import re

import pytest
from starlette.testclient import TestClient
from typer.testing import CliRunner

from parvis.accounts.models import Role
from parvis.cli import app as cli
from parvis.config import Settings
from parvis.moderation import dsa, publication
from parvis.runtime import Runtime
from parvis.storage.base import utcnow
from tests.api.conftest import TokenFor, post_status
from tests.conftest import MakeUser, outbox_messages
from tests.web.conftest import csrf, form_post, login

HATE = "STATEMENT_CATEGORY_ILLEGAL_OR_HARMFUL_SPEECH"


def _mails(settings: Settings, to: str, subject: str) -> list[str]:
    return [m for m in outbox_messages(settings) if to in m and subject in m]


def _report_cells(output: str) -> dict[tuple[str, str, str], str]:
    """`parvis report --format csv` as {(table, row, column): value}."""
    return {
        (row["table"] or row["row"], row["row"], row["column"]): row["value"]
        for row in csv.DictReader(io.StringIO(output))
    }


def test_notice_and_action(
    client: TestClient,
    runtime: Runtime,
    settings: Settings,
    make_user: MakeUser,
    token_for: TokenFor,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with runtime.db.session() as session:
        publication.ensure_default(session)
    flagger_token = token_for("ngo_watch")
    author_token = token_for("author")
    make_user("boss", role=Role.ADMIN)
    make_user("mod_one", role=Role.MODERATOR)

    # An admin designates the NGO's account as a trusted flagger, on the desk.
    login(client, "boss")
    designated = form_post(
        client,
        "/moderation/flaggers",
        page="/moderation",
        data={"name": "NGO Watch", "username": "ngo_watch"},
    )
    assert designated.status_code == 303, designated.text
    assert 'NGO Watch — <a href="/@ngo_watch">@ngo_watch</a>' in client.get("/moderation").text
    client.cookies.clear()

    reported = post_status(client, author_token, "They are vermin and must be driven out of town.")
    flagged = post_status(client, author_token, "Burn their places of worship, all of them.")

    # A notifier reports the first post through the form, with every part the law asks for.
    location = f"http://testserver/@author/{reported['id']}"
    form = client.get(f"/report?url=/@author/{reported['id']}")
    assert form.status_code == 200
    acknowledged = client.post(
        "/report",
        data={
            "location": location,
            "category": HATE,
            "explanation": "Dehumanises a group and calls for driving it out: hate speech.",
            "name": "Nora Notifier",
            "email": "nora@example.org",
            "good_faith": "yes",
            "csrf_token": csrf(client, "/report"),
        },
    )
    assert acknowledged.status_code == 200
    received = re.search(r"Notice #(\d+) received", acknowledged.text)
    assert received
    ordinary = int(received.group(1))
    (ack,) = _mails(settings, "nora@example.org", f"We received your notice #{ordinary}")
    assert location in ack

    # The trusted flagger reports the second post the same day, through the API.
    report = client.post(
        "/api/v1/reports",
        data={
            "account_id": reported["account"]["id"],
            "status_ids[]": flagged["id"],
            "dsa_category": HATE,
            "comment": "Calls for arson against places of worship: incitement to violence.",
        },
        headers=flagger_token,
    )
    assert report.status_code == 200, report.text
    assert _mails(settings, "ngo_watch@example.org", "We received your notice")

    # The moderator's queue puts the trusted flagger first although it came later.
    login(client, "mod_one")
    queue = [
        int(n)
        for n in re.findall(r"<strong>Notice #(\d+)</strong>", client.get("/moderation").text)
    ]
    assert len(queue) == 2
    assert queue[1] == ordinary
    trusted = queue[0]
    assert trusted > ordinary
    for notice_id, facts in (
        (trusted, "The post calls for arson against places of worship of a religious group."),
        (ordinary, "The post dehumanises a group and calls for expelling it from the town."),
    ):
        decided = form_post(
            client,
            f"/moderation/notices/{notice_id}/decide",
            page="/moderation",
            data={"rule": "illegal-hate-speech", "action": "remove", "facts": facts},
        )
        assert decided.status_code == 303, decided.text
    assert "No open notices" in client.get("/moderation").text

    # The author gets a statement of reasons for each; each notifier gets the outcome. Two
    # removals under a rule with two strikes each also reach the escalation threshold.
    mails = _mails(settings, "author@example.org", "Moderation decision")
    statements = [m for m in mails if "Illegal hate speech (rule 'illegal-hate-speech'" in m]
    assert len(statements) == 2
    (escalated,) = [m for m in mails if "Repeated violations (rule 'escalation'" in m]
    assert "your account was suspended until" in escalated
    assert _mails(settings, "nora@example.org", f"Outcome of your notice #{ordinary}")
    assert _mails(settings, "ngo_watch@example.org", f"Outcome of your notice #{trusted}")
    notifications = client.get("/api/v1/notifications", headers=author_token).json()
    assert [n["type"] for n in notifications].count("moderation_warning") == 3
    sources = set()
    for status in (reported, flagged):
        assert client.get(f"/api/v1/statuses/{status['id']}").status_code == 404
    for mail in statements:
        path = re.search(r"http://testserver(/statements/(\d+))", mail)
        assert path
        machine = client.get(f"/api/parvis/v1/statements/{path.group(2)}").json()
        assert machine["decision_ground"] == "DECISION_GROUND_ILLEGAL_CONTENT"
        sources.add(machine["source_type"])
    assert sources == {"SOURCE_ARTICLE_16", "SOURCE_TRUSTED_FLAGGER"}

    # The month's transparency report counts both notices.
    monkeypatch.setenv("PARVIS_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("PARVIS_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("PARVIS_SECRET_KEY", "test-secret-key-not-for-production")
    today = utcnow().date()
    month = ["--from", today.replace(day=1).isoformat(), "--to", today.isoformat()]
    runner = CliRunner()
    result = runner.invoke(cli, ["report", *month, "--format", "csv"])
    assert result.exit_code == 0, result.output
    cells = _report_cells(result.stdout)
    assert cells[("notices_received", "notices_received", "")] == "2"
    assert cells[("notices_trusted", "notices_trusted", "")] == "1"
    assert cells[("notices_actioned", "notices_actioned", "")] == "2"
    assert cells[("notices_by_source", "Art. 16 notice", "Received")] == "1"
    assert cells[("notices_by_source", "Trusted flagger (Art. 22)", "Received")] == "1"
    category = "Illegal or harmful speech"
    assert cells[("notices_by_category", category, "Received")] == "2"
    assert cells[("notices_by_category", category, "From trusted flaggers")] == "1"
    assert cells[("notices_by_category", category, "Actions on legal ground")] == "2"
    assert cells[("decisions_by_source", "Art. 16 notice", "Decisions")] == "1"
    assert cells[("decisions_by_source", "Trusted flagger (Art. 22)", "Decisions")] == "1"
    assert cells[("decisions_by_restriction", "Visibility: removal", "Decisions")] == "2"
    median = float(
        cells[("notice_median_hours_to_decision", "notice_median_hours_to_decision", "")]
    )
    assert 0 <= median < 1

    # The statements of reasons export, validated against the database's rules.
    exported = runner.invoke(cli, ["reasons", "export", *month])
    assert exported.exit_code == 0, exported.output
    lines = [json.loads(line) for line in exported.stdout.splitlines()]
    assert len(lines) == 3  # both removals and the suspension
    assert all(dsa.validate_statement(statement) == [] for statement in lines)
    assert {s["source_type"] for s in lines} == {*sources, "SOURCE_VOLUNTARY"}
    assert "3 statements exported, 0 invalid" in exported.stderr

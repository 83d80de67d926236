"""Scenario 2, same content, same outcome, through the API, the moderators' desk and the command
line: an account with a million followers and one with ten post the same listed link and the
same doxxing text; both get the same decisions under the same rulebook version. When a moderator
acts on one and not the other, the consistency report lists the pair. An owner has no way to
simply delete a member's post: acting takes a decision citing a rule, and it shows in the
transparency report like every other."""

from __future__ import annotations

import json
import re

import pytest
from sqlalchemy import select, update
from starlette.testclient import TestClient
from typer.testing import CliRunner

from parvis.accounts.models import Role, User
from parvis.cli import app as cli
from parvis.config import Settings
from parvis.moderation import publication
from parvis.moderation.models import Decision
from parvis.runtime import Runtime
from tests.api.conftest import Headers, TokenFor, post_status
from tests.conftest import MakeUser
from tests.web.conftest import form_post, login

LINK = "https://leaks.example/dossier/part-1"
DOXX = "Found him: John Roe, SSN 536-90-4399, lives at 1600 Pennsylvania Avenue."


def _decisions_about(runtime: Runtime, post_id: str) -> list[tuple[str, int, str, str, str]]:
    with runtime.db.session() as session:
        return [
            (d.rule_id, d.rulebook_version, d.action, d.automated_decision, d.state)
            for d in session.scalars(
                select(Decision).where(
                    Decision.subject_type == "post", Decision.subject_key == post_id
                )
            )
        ]


def _big_and_small_voices_after_a_listing(
    client: TestClient, runtime: Runtime, token_for: TokenFor, make_user: MakeUser
) -> tuple[Headers, Headers, Headers]:
    """The default rulebook in force; @bigvoice (a million followers) and @smallvoice (ten);
    an admin; and a moderator who has listed leaks.example as hacked materials. Returns the
    tokens of the big voice, the small one and the admin (the client is left signed out)."""
    with runtime.db.session() as session:
        publication.ensure_default(session)
    big, small = token_for("bigvoice"), token_for("smallvoice")
    admin = token_for("owner", role=Role.ADMIN)
    with runtime.db.session() as session:
        for name, followers in (("bigvoice", 1_000_000), ("smallvoice", 10)):
            session.execute(
                update(User).where(User.username == name).values(followers_count=followers)
            )
    make_user("mod_one", role=Role.MODERATOR)
    login(client, "mod_one")
    listed = form_post(
        client,
        "/moderation/lists",
        page="/moderation",
        data={"kind": "domain", "value": "leaks.example", "rule": "hacked-materials"},
    )
    assert listed.status_code == 303
    client.cookies.clear()
    return big, small, admin


def test_same_content_gets_the_same_decision_whoever_posts_it(
    client: TestClient, runtime: Runtime, token_for: TokenFor, make_user: MakeUser
) -> None:
    big, small, admin = _big_and_small_voices_after_a_listing(client, runtime, token_for, make_user)

    linked = [post_status(client, who, f"Worth reading: {LINK}")["id"] for who in (big, small)]
    outcomes = [_decisions_about(runtime, post_id) for post_id in linked]
    assert (
        outcomes[0] == outcomes[1] == [("hacked-materials", 1, "interstitial", "fully", "proposed")]
    )

    doxxed = [post_status(client, who, DOXX)["id"] for who in (big, small)]
    outcomes = [_decisions_about(runtime, post_id) for post_id in doxxed]
    assert outcomes[0] == outcomes[1] == [("doxxing", 1, "remove", "fully", "in_effect")]
    for post_id in doxxed:
        assert client.get(f"/api/v1/statuses/{post_id}", headers=admin).status_code == 404

    # No "just remove it": the owner's own delete works only on the owner's posts.
    refused = client.delete(f"/api/v1/statuses/{linked[1]}", headers=admin)
    assert refused.status_code in (403, 404)
    assert "error" in refused.json()
    assert client.get(f"/api/v1/statuses/{linked[1]}", headers=small).status_code == 200


def _proposal_for(client: TestClient, post_id: str) -> str:
    desk = client.get("/moderation").text
    for number, key in re.findall(
        r"<strong>Proposal (\d+)</strong>: [^<]* on post <code>(\d+)</code>", desk
    ):
        if key == post_id:
            return str(number)
    raise AssertionError(f"no proposal about post {post_id}")


def test_different_treatment_is_listed_and_the_owner_acts_only_by_decision(
    client: TestClient,
    runtime: Runtime,
    settings: Settings,
    token_for: TokenFor,
    make_user: MakeUser,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    big, small, owner = _big_and_small_voices_after_a_listing(client, runtime, token_for, make_user)
    big_post, small_post = (
        post_status(client, who, f"Worth reading: {LINK}")["id"] for who in (big, small)
    )

    # The moderator confirms the warning on the small account's post and declines the other.
    login(client, "mod_one")
    for post_id, answer in ((small_post, "confirm"), (big_post, "decline")):
        reviewed = form_post(
            client,
            f"/moderation/proposals/{_proposal_for(client, post_id)}",
            page="/moderation",
            data={"answer": answer},
        )
        assert reviewed.status_code == 303
    page = client.get("/moderation/consistency").text
    assert f'href="/@bigvoice/{big_post}"' in page
    assert f'href="/@smallvoice/{small_post}"' in page

    monkeypatch.setenv("PARVIS_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("PARVIS_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("PARVIS_SECRET_KEY", "test-secret-key-not-for-production")
    runner = CliRunner()
    result = runner.invoke(cli, ["report", "consistency", "--format", "json"])
    assert result.exit_code == 0, result.output
    (pair,) = json.loads(result.stdout)["pairs"]
    assert pair["basis"] == "same URL"
    treated = {t["author"]: t for t in (pair["first"], pair["second"])}
    assert (treated["bigvoice"]["action"], treated["bigvoice"]["actioned"]) == ("declined", False)
    assert (treated["smallvoice"]["action"], treated["smallvoice"]["actioned"]) == (
        "interstitial",
        True,
    )
    assert treated["smallvoice"]["rule_id"] == "hacked-materials"

    # The owner cannot just remove the big account's post, on the web or the API ...
    client.cookies.clear()
    assert client.delete(f"/api/v1/statuses/{big_post}", headers=owner).status_code in (403, 404)
    login(client, "owner")
    refused = form_post(client, f"/posts/{big_post}/delete", page=f"/@bigvoice/{big_post}")
    assert refused.status_code in (403, 404)
    assert client.get(f"/api/v1/statuses/{big_post}", headers=small).status_code == 200

    # ... the only way is a decision citing a rule, which the transparency report counts.
    author = client.get(f"/api/v1/statuses/{big_post}", headers=small).json()["account"]
    noticed = client.post(
        "/api/v1/reports",
        data={
            "account_id": author["id"],
            "status_ids[]": big_post,
            "rule_ids[]": "hacked-materials",
            "comment": "Links the listed dossier like the post that got a warning.",
        },
        headers=owner,
    )
    assert noticed.status_code == 200, noticed.text
    notice_id = re.search(r"<strong>Notice #(\d+)</strong>", client.get("/moderation").text)
    assert notice_id
    decided = form_post(
        client,
        f"/moderation/notices/{notice_id.group(1)}/decide",
        page="/moderation",
        data={
            "rule": "hacked-materials",
            "action": "interstitial",
            "facts": "The post links the listed dossier, like the post that got a warning.",
        },
    )
    assert decided.status_code == 303, decided.text
    report = client.get("/transparency/report.json").json()
    decisions = next(section for section in report["sections"] if section["id"] == "decisions")
    by_rule = next(t for t in decisions["tables"] if t["id"] == "decisions_by_rule")
    rows = {row[0]: row for row in by_rule["rows"]}
    assert by_rule["columns"][3] == "Decisions"
    assert rows["hacked-materials"][3] == 2  # the owner's decision counts like the other one
    after = runner.invoke(cli, ["report", "consistency", "--format", "json"])
    assert json.loads(after.stdout)["pairs"] == []  # now treated alike

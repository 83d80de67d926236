"""Scenario 2, same content, same outcome, through the API and the moderators' desk: an account
with a million followers and one with ten post the same listed link and the same doxxing text;
both get the same decisions under the same rulebook version, and an admin has no way to simply
delete a member's post."""

from __future__ import annotations

from sqlalchemy import select, update
from starlette.testclient import TestClient

from parvis.accounts.models import Role, User
from parvis.moderation import publication
from parvis.moderation.models import Decision
from parvis.runtime import Runtime
from tests.api.conftest import TokenFor, post_status
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


def test_same_content_gets_the_same_decision_whoever_posts_it(
    client: TestClient, runtime: Runtime, token_for: TokenFor, make_user: MakeUser
) -> None:
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

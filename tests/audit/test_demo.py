"""The demo data carries scenario 1's decisions, so a newcomer finds a populated log whose heads,
proofs and rows all check."""

from __future__ import annotations

from sqlalchemy import select
from starlette.testclient import TestClient

from parvis.audit import keys
from parvis.audit.verify import verify_database
from parvis.config import Settings
from parvis.demo import load_demo
from parvis.moderation.models import Appeal, Decision
from parvis.runtime import Runtime
from tests.audit.outsider import proved_decision, signed_head


def test_the_demo_log_holds_scenario_one_and_verifies(
    runtime: Runtime, settings: Settings, client: TestClient
) -> None:
    load_demo(runtime)
    with runtime.db.session() as session:
        dossier = list(
            session.scalars(
                select(Decision).where(Decision.rule_id == "hacked-materials").order_by(Decision.id)
            )
        )
        appeal = session.scalars(select(Appeal)).one()
        puids = [d.puid for d in dossier]
        actions = [(d.subject_type, d.action) for d in dossier]
        upheld = appeal.outcome_decision_id
    assert actions == [
        ("url", "block_url"),
        ("post", "interstitial"),
        ("post", "interstitial"),
        ("post", "interstitial"),  # the journalist's appeal, upheld: a new decision
    ]
    assert upheld == dossier[-1].id
    assert appeal.state == "upheld"

    head = signed_head(client)
    for puid, (_subject, action) in zip(puids, actions, strict=True):
        leaf = proved_decision(client, puid, head)
        assert (leaf["rule_id"], leaf["action"]) == ("hacked-materials", action)
    page = client.get("/log").text
    for decision_id in (dossier[0].id, upheld):
        assert f'<a href="/statements/{decision_id}">Decision {decision_id}: ' in page
    assert "block url under rule hacked-materials (rulebook v1)" in page
    with runtime.db.session() as session:
        outcome = verify_database(session, keys.public_key_bytes(keys.signing_key(settings)))
    assert outcome.ok, outcome.sorted_problems()
    assert outcome.leaves == head.tree_size

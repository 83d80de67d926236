"""The statement of reasons page: public, with the rule's public text, the facts, how it was
detected and decided, every DSA field of the machine form, and the appeal form (with its
deadline) for the member it affects only; the e-mail carries the same."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from html import unescape

from sqlalchemy import select
from starlette.testclient import TestClient

from parvis.accounts.models import Role, User
from parvis.config import Settings
from parvis.moderation import dsa, notices, publication
from parvis.moderation.appeals import appeal_deadline
from parvis.moderation.decisions import DecisionRequest
from parvis.moderation.models import Action, Automation, Decision, Source, SubjectType
from parvis.moderation.services import take_decision
from parvis.runtime import Runtime
from tests.conftest import MakeUser, outbox_messages
from tests.web.conftest import form_post, login, make_post

HARASSMENT_TEXT = "Do not target a person with repeated abuse, threats or unwanted contact."


def _decide(runtime: Runtime, post_id: int, moderator: User, days: int = 0) -> Decision:
    with runtime.db.session() as session:
        publication.ensure_default(session)
        row = publication.get_version(session)
        return take_decision(
            session,
            runtime.services,
            DecisionRequest(
                subject_type=SubjectType.POST,
                subject_key=str(post_id),
                action=Action.INTERSTITIAL,
                rule=publication.parsed(row).rule("harassment").info(row.version),
                facts="The post mocks a named member after being asked to stop.",
                source=Source.NOTICE,
                automated_detection=False,
                automated_decision=Automation.NOT_AUTOMATED,
                decided_by_id=moderator.id,
                duration=timedelta(days=days) if days else None,
            ),
        )


def test_the_statement_shows_the_rule_the_facts_and_every_dsa_field(
    client: TestClient, runtime: Runtime, make_user: MakeUser
) -> None:
    author = make_user("author")
    moderator = make_user("mod", role=Role.MODERATOR)
    decision = _decide(runtime, make_post(runtime, author, "you again").id, moderator, days=14)
    statement = json.loads(decision.statement_json)
    assert dsa.validate_statement(statement) == []
    page = unescape(client.get(f"/statements/{decision.id}").text)
    assert "Harassment" in page
    assert HARASSMENT_TEXT in page
    assert 'href="/rules/1#harassment"' in page
    assert "The post mocks a named member after being asked to stop." in page
    assert "the post was placed behind a warning, until" in page.lower()
    assert "by a person or a notice" in page
    for field, value in statement.items():
        shown = ", ".join(value) if isinstance(value, list) else str(value)
        assert f'<dd id="dsa-{field}">{shown}</dd>' in page, field
    for field in ("decision_visibility_other", "end_date_visibility_restriction", "puid"):
        assert f'id="dsa-{field}"' in page
    deadline = appeal_deadline(decision)
    assert f"until {deadline:%Y-%m-%d %H:%M} UTC (six months)" in page
    assert 'action="/statements/' not in page  # strangers see no appeal form


def test_only_the_affected_member_gets_the_appeal_form(
    client: TestClient, runtime: Runtime, make_user: MakeUser, settings: Settings
) -> None:
    author = make_user("author")
    make_user("stranger")
    moderator = make_user("mod", role=Role.MODERATOR)
    decision = _decide(runtime, make_post(runtime, author, "you again").id, moderator)
    login(client, "stranger")
    path = f"/statements/{decision.id}"
    assert f'action="{path}/appeal"' not in client.get(path).text
    refused = form_post(client, f"{path}/appeal", {"reason": "Not even mine."}, page=path)
    assert refused.status_code == 403
    login(client, "author")
    page = client.get(path).text
    assert f'action="{path}/appeal"' in page
    assert f"You can appeal until {appeal_deadline(decision):%Y-%m-%d}" in page
    sent = form_post(client, f"{path}/appeal", {"reason": "Too short"}, page=path)
    assert sent.status_code == 422
    assert "10 to 5000 characters" in sent.text
    sent = form_post(
        client, f"{path}/appeal", {"reason": "We are friends; it was a joke."}, page=path
    )
    assert sent.status_code == 303
    assert re.search(r"Your appeal #\d+ is open", client.get(path).text)


def test_the_email_carries_the_rule_text_the_facts_and_how_to_appeal(
    runtime: Runtime, make_user: MakeUser, settings: Settings
) -> None:
    author = make_user("author")
    moderator = make_user("mod", role=Role.MODERATOR)
    decision = _decide(runtime, make_post(runtime, author, "you again").id, moderator, days=14)
    mail = outbox_messages(settings)[-1]
    assert "To: author@example.org" in mail
    assert decision.ends_at is not None
    assert (
        f"Decision {decision.id}: your post is now shown behind a warning until "
        f"{decision.ends_at:%Y-%m-%d %H:%M} UTC." in mail
    )
    assert "The rule: Harassment (rule 'harassment', rulebook version 1)" in mail
    assert HARASSMENT_TEXT in mail
    assert "http://testserver/rules/1#harassment" in mail
    assert "Facts and circumstances: The post mocks a named member" in mail
    assert "How it was detected: by a person or a notice." in mail
    assert "How it was decided: by a moderator." in mail
    assert f"http://testserver/statements/{decision.id}" in mail
    assert f"before {appeal_deadline(decision):%Y-%m-%d} (six months)" in mail


def test_the_desk_refuses_facts_that_hold_personal_data(
    client: TestClient, runtime: Runtime, make_user: MakeUser
) -> None:
    author = make_user("author")
    notifier = make_user("nora")
    make_user("mod", role=Role.MODERATOR)
    post = make_post(runtime, author, "something nasty")
    with runtime.db.session() as session:
        publication.ensure_default(session)
        notice = notices.submit_notice(
            session,
            runtime.services,
            location=f"/@author/{post.id}",
            category="STATEMENT_CATEGORY_CYBER_VIOLENCE",
            explanation="This post harasses me by name, please look at it.",
            good_faith=True,
            notifier=session.get_one(User, notifier.id),
        )
    login(client, "mod")
    refused = form_post(
        client,
        f"/moderation/notices/{notice.id}/decide",
        page="/moderation",
        data={
            "rule": "harassment",
            "action": "remove",
            "facts": "The post harasses Nora, reachable at nora@example.org or +33 6 12 34 56 78.",
        },
    )
    assert refused.status_code == 422
    text = unescape(refused.text)
    assert "must not contain personal data" in text
    assert "an e-mail address, a phone number" in text
    with runtime.db.session() as session:
        assert session.scalars(select(Decision)).all() == []

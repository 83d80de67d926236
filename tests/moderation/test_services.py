"""A decision reaches the member it affects: notification, e-mail, statement page, appeal form."""

from __future__ import annotations

import re

from starlette.testclient import TestClient

from parvis.accounts.models import Role, User
from parvis.moderation.decisions import DecisionRequest
from parvis.moderation.models import Action, Appeal, Automation, Source, SubjectType
from parvis.moderation.services import take_decision
from parvis.runtime import Runtime
from parvis.social import graph, notifications
from parvis.social.visibility import load_viewer
from tests.conftest import MakeUser, outbox_messages
from tests.moderation.conftest import HARASSMENT, RemoveOnNotice
from tests.web.conftest import csrf, login


def test_affected_member_is_told_in_app_and_by_email(
    runtime: Runtime, make_user: MakeUser, post_by: object, remove_on_notice: RemoveOnNotice
) -> None:
    author = make_user("author")
    post_id = post_by(author, "words")  # type: ignore[operator]
    decision_id = remove_on_notice(post_id)
    message = outbox_messages(runtime.settings)[-1]
    assert "author@example.org" in message
    assert "rule 'harassment'" in message
    assert f"/statements/{decision_id}" in message
    with runtime.db.session() as session:
        viewer = load_viewer(session, author.id)
        rows = notifications.list_notifications(session, viewer)
        assert [(r.kind, r.decision_id) for r in rows] == [("moderation", decision_id)]


def test_blocking_the_moderator_does_not_hide_the_decision(
    runtime: Runtime, make_user: MakeUser, post_by: object
) -> None:
    author = make_user("author")
    moderator = make_user("mod", role=Role.MODERATOR)
    post_id = post_by(author, "words")  # type: ignore[operator]
    with runtime.db.session() as session:
        take_decision(
            session,
            runtime.services,
            DecisionRequest(
                subject_type=SubjectType.POST,
                subject_key=str(post_id),
                action=Action.LABEL,
                rule=HARASSMENT,
                facts="Harsh wording.",
                source=Source.OWN_INITIATIVE,
                automated_detection=False,
                automated_decision=Automation.NOT_AUTOMATED,
                decided_by_id=moderator.id,
            ),
        )
    with runtime.db.session() as session:
        graph.block(session, session.get_one(User, author.id), session.get_one(User, moderator.id))
    with runtime.db.session() as session:
        viewer = load_viewer(session, author.id)
        assert notifications.unread_count(session, viewer) == 1
        assert [r.kind for r in notifications.list_notifications(session, viewer)] == ["moderation"]


def test_statement_page_is_public_and_appeal_is_for_the_author(
    runtime: Runtime,
    client: TestClient,
    make_user: MakeUser,
    post_by: object,
    remove_on_notice: RemoveOnNotice,
) -> None:
    author = make_user("author")
    make_user("stranger")
    post_id = post_by(author, "words")  # type: ignore[operator]
    decision_id = remove_on_notice(post_id)
    public = client.get(f"/statements/{decision_id}")
    assert public.status_code == 200
    assert "harassment" in public.text
    assert "DECISION_VISIBILITY_CONTENT_REMOVED" in public.text
    assert "Send appeal" not in public.text
    login(client, "stranger")
    refused = client.post(
        f"/statements/{decision_id}/appeal",
        data={"reason": "not mine but unfair", "csrf_token": csrf(client, "/")},
    )
    assert refused.status_code == 403
    login(client, "author")
    page = client.get(f"/statements/{decision_id}").text
    assert "Send appeal" in page
    short = client.post(
        f"/statements/{decision_id}/appeal", data={"reason": "no", "csrf_token": csrf(client, "/")}
    )
    assert short.status_code == 422
    assert "10 to 5000" in short.text
    done = client.post(
        f"/statements/{decision_id}/appeal",
        data={"reason": "I was quoting the insult to report it.", "csrf_token": csrf(client, "/")},
        follow_redirects=False,
    )
    assert done.status_code == 303
    assert re.search(r"Your appeal #\d+ is open", client.get(f"/statements/{decision_id}").text)
    with runtime.db.session() as session:
        assert session.query(Appeal).count() == 1
    assert "read the statement of reasons" in client.get("/notifications").text
    assert client.get("/statements/999").status_code == 404

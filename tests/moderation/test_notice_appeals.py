"""A notifier appeals "no action"; another moderator acts on the notice by a decision."""

from __future__ import annotations

import re

from starlette.testclient import TestClient

from parvis.accounts.models import Role
from parvis.config import Settings
from parvis.moderation import publication
from parvis.runtime import Runtime
from tests.conftest import MakeUser, outbox_messages
from tests.web.conftest import form_post, login


def test_notifier_appeals_no_action_and_a_second_moderator_acts(
    client: TestClient, runtime: Runtime, make_user: MakeUser, settings: Settings
) -> None:
    with runtime.db.session() as session:
        publication.ensure_default(session)
    make_user("author")
    make_user("nora")
    make_user("mod_one", role=Role.MODERATOR)
    make_user("mod_two", role=Role.MODERATOR)
    login(client, "author")
    form_post(client, "/compose", {"body": "targeted abuse of a neighbour"})
    path = re.search(r'href="(/@author/\d+)"', client.get("/@author").text)
    assert path
    login(client, "nora")
    sent = form_post(
        client,
        "/report",
        page="/report",
        data={
            "location": path.group(1),
            "category": "STATEMENT_CATEGORY_CYBER_VIOLENCE",
            "explanation": "This post keeps targeting my neighbour by name.",
            "good_faith": "yes",
        },
    )
    notice_id = re.search(r"Notice #(\d+) received", sent.text)
    assert notice_id
    login(client, "mod_one")
    form_post(
        client,
        f"/moderation/notices/{notice_id.group(1)}/dismiss",
        page="/moderation",
        data={"outcome": "no_action", "explanation": "Rude, but not targeted harassment."},
    )
    assert f"/notices/{notice_id.group(1)}" in outbox_messages(settings)[-1]

    login(client, "nora")
    page = client.get(f"/notices/{notice_id.group(1)}").text
    assert "no action" in page
    assert "Send appeal" in page
    appealed = form_post(
        client,
        f"/notices/{notice_id.group(1)}/appeal",
        page=f"/notices/{notice_id.group(1)}",
        data={"reason": "It names my neighbour and repeats every day."},
    )
    assert appealed.status_code == 303
    login(client, "author")
    assert (
        client.get(f"/notices/{notice_id.group(1)}").status_code == 404
    )  # not the author's to see

    login(client, "mod_one")
    appeal_id = re.search(
        r"<strong>Appeal #(\d+)</strong> by the notifier", client.get("/moderation").text
    )
    assert appeal_id
    own = form_post(
        client,
        f"/moderation/notice-appeals/{appeal_id.group(1)}",
        page="/moderation",
        data={"outcome": "keep", "facts": "Still fine."},
    )
    assert own.status_code == 403
    login(client, "mod_two")
    acted = form_post(
        client,
        f"/moderation/notice-appeals/{appeal_id.group(1)}",
        page="/moderation",
        data={
            "outcome": "act",
            "rule": "harassment",
            "action": "remove",
            "facts": "Repeated posts naming the same private person.",
        },
    )
    assert acted.status_code == 303
    assert client.get(path.group(1)).status_code == 404
    assert "We now act on your notice" in outbox_messages(settings)[-1]
    login(client, "nora")
    assert "Your appeal" in client.get(f"/notices/{notice_id.group(1)}").text

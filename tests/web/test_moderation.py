"""Scenario 5 through the web: notices (trusted flaggers first), a decision citing a rule, the
statement to the author and the outcome to the notifier, then an appeal decided by another
moderator that restores the post."""

from __future__ import annotations

import re

from sqlalchemy import select
from starlette.testclient import TestClient

from parvis.accounts.models import Role
from parvis.config import Settings
from parvis.moderation import publication
from parvis.moderation.models import Decision, TrustedFlagger
from parvis.moderation.rulebook import default_rulebook_text
from parvis.runtime import Runtime
from tests.conftest import MakeUser, outbox_messages
from tests.web.conftest import csrf, form_post, login


def _notice(client: TestClient, location: str, name: str, email: str) -> None:
    response = client.post(
        "/report",
        data={
            "location": location,
            "category": "STATEMENT_CATEGORY_ILLEGAL_OR_HARMFUL_SPEECH",
            "explanation": "Incites hatred against a religious group; a crime under national law.",
            "name": name,
            "email": email,
            "good_faith": "yes",
            "csrf_token": csrf(client, "/report"),
        },
    )
    assert response.status_code == 200, response.text


def test_notice_to_decision_to_appeal(
    client: TestClient, runtime: Runtime, make_user: MakeUser, settings: Settings
) -> None:
    with runtime.db.session() as session:
        publication.ensure_default(session)
    make_user("author")
    ngo = make_user("ngo_watch")
    make_user("mod_one", role=Role.MODERATOR)
    make_user("mod_two", role=Role.MODERATOR)
    with runtime.db.session() as session:
        session.add(TrustedFlagger(name="NGO Watch", user_id=ngo.id))
    login(client, "author")
    assert client.get("/moderation").status_code == 403
    form_post(client, "/compose", {"body": "an awful hateful post"})
    post_path = re.search(r'href="(/@author/\d+)"', client.get("/@author").text)
    assert post_path
    path = post_path.group(1)

    client.cookies.clear()
    _notice(client, path, "Nora Notifier", "nora@example.org")
    login(client, "ngo_watch")
    _notice(client, path, "NGO Watch", "ngo@example.org")

    login(client, "mod_one")
    desk = client.get("/moderation").text
    first, second = (int(n) for n in re.findall(r"<strong>Notice #(\d+)</strong>", desk))
    assert desk.index("trusted flagger") < desk.index(f"Notice #{second}")  # trusted first
    decided = form_post(
        client,
        f"/moderation/notices/{first}/decide",
        page="/moderation",
        data={
            "rule": "illegal-hate-speech",
            "action": "remove",
            "duration_days": "0",
            "facts": "The post calls for hatred against a religious group.",
        },
    )
    assert decided.status_code == 303, decided.text
    closed = form_post(
        client,
        f"/moderation/notices/{second}/dismiss",
        page="/moderation",
        data={
            "outcome": "no_action",
            "explanation": "Already removed under notice of another notifier.",
        },
    )
    assert closed.status_code == 303
    assert "No open notices" in client.get("/moderation").text

    removed = client.get(path)
    assert removed.status_code == 404
    assert "illegal-hate-speech" in removed.text
    mails = outbox_messages(settings)
    assert any(
        "ngo@example.org" in m and "Outcome of your notice" in m and "acted on it" in m
        for m in mails
    )
    assert any("nora@example.org" in m and "Outcome of your notice" in m for m in mails)
    to_author = next(m for m in mails if "author@example.org" in m and "Moderation decision" in m)
    statement = re.search(r"http://testserver(/statements/\d+)", to_author)
    assert statement

    login(client, "author")
    page = client.get(statement.group(1)).text
    assert "SOURCE_TRUSTED_FLAGGER" in page or "SOURCE_ARTICLE_16" in page
    appealed = form_post(
        client,
        f"{statement.group(1)}/appeal",
        page=statement.group(1),
        data={"reason": "I was quoting the slogan in order to condemn it."},
    )
    assert appealed.status_code == 303

    login(client, "mod_one")
    appeal_id = re.search(r"<strong>Appeal #(\d+)</strong>", client.get("/moderation").text)
    assert appeal_id
    refused = form_post(
        client,
        f"/moderation/appeals/{appeal_id.group(1)}",
        page="/moderation",
        data={"outcome": "reversed", "facts": "x"},
    )
    assert refused.status_code == 403
    with runtime.db.session() as session:  # a later rulebook does not change what is judged
        publication.publish(
            session,
            default_rulebook_text()
            .replace("version = 1", "version = 2", 1)
            .replace("warnings_count = false", "warnings_count = true"),
            None,
        )
    login(client, "mod_two")
    reversed_ = form_post(
        client,
        f"/moderation/appeals/{appeal_id.group(1)}",
        page="/moderation",
        data={"outcome": "reversed", "facts": "The post quoted the slogan to condemn it."},
    )
    assert reversed_.status_code == 303
    assert client.get(path).status_code == 200
    with runtime.db.session() as session:
        outcome = session.scalars(select(Decision).order_by(Decision.id.desc())).first()
        assert outcome is not None
        assert outcome.action == "restore"
        assert (outcome.rule_id, outcome.rulebook_version) == ("illegal-hate-speech", 1)
    assert (
        sum(
            "author@example.org" in m and "Moderation decision" in m
            for m in outbox_messages(settings)
        )
        == 2
    )


def test_desk_lists_a_url_and_confirms_the_proposals(
    client: TestClient, runtime: Runtime, make_user: MakeUser
) -> None:
    with runtime.db.session() as session:
        publication.ensure_default(session)
    make_user("member")
    make_user("mod_one", role=Role.MODERATOR)
    login(client, "member")
    form_post(client, "/compose", {"body": "dossier: https://leaks.example/file.pdf"})
    login(client, "mod_one")
    added = form_post(
        client,
        "/moderation/lists",
        page="/moderation",
        data={
            "kind": "url",
            "value": "https://leaks.example/file.pdf",
            "rule": "hacked-materials",
            "note": "Listed after the leak",
        },
    )
    assert added.status_code == 303
    desk = client.get("/moderation").text
    ids = re.findall(r"<strong>Proposal (\d+)</strong>", desk)
    assert len(ids) == 2
    assert '<mark class="signal" title="listed_url">https://leaks.example/file.pdf</mark>' in desk
    for decision_id in ids:
        assert (
            form_post(
                client,
                f"/moderation/proposals/{decision_id}",
                page="/moderation",
                data={"answer": "confirm"},
            ).status_code
            == 303
        )
    assert "No proposals waiting" in client.get("/moderation").text
    login(client, "member")
    refused = form_post(client, "/compose", {"body": "again https://leaks.example/file.pdf"})
    assert refused.status_code == 403
    assert "cannot be shared here" in refused.text
    assert 'class="interstitial"' in client.get("/public").text


def test_desk_watches_a_word_and_new_posts_with_it_wait_for_review(
    client: TestClient, runtime: Runtime, make_user: MakeUser
) -> None:
    with runtime.db.session() as session:
        publication.ensure_default(session)
    make_user("member")
    make_user("mod_one", role=Role.MODERATOR)
    login(client, "mod_one")
    added = form_post(
        client,
        "/moderation/lists",
        page="/moderation",
        data={"kind": "word", "value": "Vermin", "rule": "harassment", "note": "slur"},
    )
    assert added.status_code == 303
    assert "watched-words · word</code> vermin" in client.get("/moderation").text
    bad = form_post(
        client,
        "/moderation/lists",
        page="/moderation",
        data={"kind": "word", "value": "x", "rule": "harassment"},
    )
    assert bad.status_code == 422
    assert "2 to 100 characters" in bad.text
    login(client, "member")
    assert form_post(client, "/compose", {"body": "you vermin"}).status_code == 303
    assert "you vermin" in client.get("/public").text  # nothing applied by a word alone
    login(client, "mod_one")
    desk = client.get("/moderation").text
    assert len(re.findall(r"<strong>Proposal (\d+)</strong>", desk)) == 1
    entry = re.search(r'action="/moderation/lists/(\d+)/remove"', desk)
    assert entry
    removed = form_post(client, f"/moderation/lists/{entry.group(1)}/remove", page="/moderation")
    assert removed.status_code == 303
    assert "watched-words · word" not in client.get("/moderation").text


def test_desk_reviews_an_automated_removal_and_a_reversal_restores_the_post(
    client: TestClient, runtime: Runtime, settings: Settings, make_user: MakeUser
) -> None:
    with runtime.db.session() as session:
        publication.ensure_default(session)
    make_user("author")
    make_user("mod_one", role=Role.MODERATOR)
    login(client, "author")
    doxxing = "Kelly Howard SSN 589-18-6326 lives at 2996 Drub Avenue"
    statement_page = form_post(client, "/compose", {"body": doxxing}).headers["location"]
    decision_id = statement_page.rsplit("/", 1)[1]
    assert "applied automatically, awaiting a moderator" in client.get(statement_page).text
    login(client, "mod_one")
    desk = client.get("/moderation").text
    assert "Automated decisions awaiting review (1)" in desk
    assert f'action="/moderation/automated/{decision_id}"' in desk
    assert '<mark class="signal" title="national_id">' in desk  # the evidence, highlighted
    refused = form_post(
        client,
        f"/moderation/automated/{decision_id}",
        {"answer": "reverse", "facts": ""},
        page="/moderation",
    )
    assert refused.status_code == 422
    assert "facts" in refused.text
    reversed_ = form_post(
        client,
        f"/moderation/automated/{decision_id}",
        {"answer": "reverse", "facts": "The identifier and address belong to a novel's hero."},
        page="/moderation",
    )
    assert reversed_.status_code == 303
    assert "Automated decisions awaiting review (0)" in client.get("/moderation").text
    assert "awaiting a moderator" not in client.get(statement_page).text  # now superseded
    assert doxxing in client.get("/public").text  # restored at once
    # The author is told by a statement of reasons of the moderator's own decision.
    messages = [m for m in outbox_messages(settings) if "author@example.org" in m]
    assert any("an earlier restriction was lifted" in m for m in messages)

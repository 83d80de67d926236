"""The consistency report on a constructed data set: pairs of the same content treated
differently (URL, document, near-identical text), what is not a pair, and group rates with
the Fisher test and Benjamini-Hochberg flags; the moderators' page and the command."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta

import pytest
from scipy.stats import fisher_exact
from sqlalchemy import update
from starlette.testclient import TestClient
from typer.testing import CliRunner

from parvis.accounts.models import User
from parvis.cli import app
from parvis.moderation import appeals, decisions, publication
from parvis.moderation.models import Action, AppealState
from parvis.moderation.rulebook import default_rulebook_text
from parvis.social import media, posts
from parvis.social.posts import PostDraft
from parvis.storage.base import utcnow
from parvis.transparency import groups, similarity
from parvis.transparency.consistency import ConsistencyResult, build_consistency
from parvis.transparency.period import Period
from tests.conftest import MakeUser
from tests.pdfs import make_pdf
from tests.transparency.conftest import World
from tests.web.conftest import login

runner = CliRunner()
LINK = "https://leaks.example/dossier/part-1"
TEXT = (
    "The mayor of our town is a fraud and a liar who should resign before the council "
    "meets again on Thursday evening"
)


def _today() -> Period:
    today = utcnow().date()
    return Period(today, today)


def _result(world: World) -> ConsistencyResult:
    with world.runtime.db.session() as session:
        return build_consistency(session, _today())


def _followers(world: World, user: User, count: int) -> None:
    with world.runtime.db.session() as session:
        session.execute(update(User).where(User.id == user.id).values(followers_count=count))


def _with_document(world: World, author: User, body: str, data: bytes, name: str) -> int:
    with world.runtime.db.session() as session:
        me = session.get_one(User, author.id)
        upload = media.store_upload(session, world.runtime.settings, me, filename=name, data=data)
        draft = PostDraft(body=body, attachment_ids=[upload.id])
        return posts.create_post(session, world.runtime.settings, me, draft).id


def test_same_content_treated_differently_is_listed_with_both_decisions(world: World) -> None:
    _followers(world, world.alice, 1_000_000)
    big = world.post(world.alice, f"Worth reading: {LINK}")
    small = world.post(world.bob, f"Everyone should read {LINK.replace('leaks', 'LEAKS')}")
    acted = world.decide(small, "hacked-materials", Action.INTERSTITIAL)
    document = make_pdf([["Minutes of the closed meeting", "Item 4: budget"]])
    first_doc = _with_document(world, world.alice, "the minutes", document, "minutes.pdf")
    second_doc = _with_document(world, world.bob, "found this", document, "renamed.pdf")
    removed = world.decide(first_doc, "hacked-materials", Action.REMOVE)
    labelled = world.decide(second_doc, "hacked-materials", Action.LABEL)
    original = world.post(world.alice, TEXT)
    copy = world.post(world.bob, TEXT.replace("Thursday", "Friday") + "!")
    text_decision = world.decide(copy, "harassment")

    result = _result(world)
    found = {(pair.basis, pair.first.post_id, pair.second.post_id): pair for pair in result.pairs}
    url_pair = found[("same URL", big, small)]
    assert url_pair.first.described == "no decision"
    assert url_pair.second.decision_id == acted.id
    assert url_pair.second.statement_url == f"/statements/{acted.id}"
    assert url_pair.first.post_url == f"/@alice/{big}"
    doc_pair = found[("same document", first_doc, second_doc)]
    assert (doc_pair.first.decision_id, doc_pair.second.decision_id) == (removed.id, labelled.id)
    text_pair = found[("near-identical text", original, copy)]
    assert text_pair.second.decision_id == text_decision.id
    assert "three-word sequences shared" in text_pair.detail
    assert len(result.pairs) == 3


def test_same_treatment_pending_review_and_other_versions_are_not_pairs(world: World) -> None:
    both = [world.post(author, f"Look: {LINK}") for author in (world.alice, world.bob)]
    for post_id in both:
        world.decide(post_id, "hacked-materials", Action.INTERSTITIAL)
    pending = world.post(world.alice, TEXT)
    untouched = world.post(world.bob, TEXT)
    world.decide(pending, "harassment", propose=True)  # awaiting review: no treatment yet
    old = world.post(world.alice, "https://other.example/page is the source")
    world.decide(old, "hacked-materials", Action.LABEL)
    with world.runtime.db.session() as session:
        text = default_rulebook_text().replace("version = 1", "version = 2", 1)
        publication.publish(session, text, None)
    new = world.post(world.bob, "https://other.example/page is the source")
    world.decide(new, "hacked-materials", Action.REMOVE)  # under version 2: rules may differ
    assert untouched
    assert _result(world).pairs == []


def test_a_declined_proposal_and_a_confirmed_one_make_a_pair(world: World) -> None:
    first = world.post(world.alice, f"Worth reading: {LINK}")
    second = world.post(world.bob, f"Worth reading: {LINK}")
    proposals = [
        world.decide(p, "hacked-materials", Action.INTERSTITIAL, propose=True)
        for p in (first, second)
    ]
    with world.runtime.db.session() as session:
        moderator = session.get_one(User, world.mod.id)
        decisions.confirm(session, proposals[0].id, moderator)
        decisions.decline(session, proposals[1].id, moderator)
    (pair,) = _result(world).pairs
    assert pair.first.actioned
    assert not pair.second.actioned
    assert pair.second.described == "proposal under hacked-materials declined (v1)"


def test_big_accounts_spared_is_flagged_as_unlikely_by_chance(
    world: World, make_user: MakeUser
) -> None:
    celebrity = make_user("celebrity")
    _followers(world, celebrity, 250_000)
    spared = [world.post(celebrity, f"hot take {n}") for n in range(10)]
    punished = [world.post(world.bob, f"hot take {n}") for n in range(10)]
    proposals = [world.decide(post_id, "harassment", propose=True) for post_id in spared]
    with world.runtime.db.session() as session:
        moderator = session.get_one(User, world.mod.id)
        for proposal in proposals:
            decisions.decline(session, proposal.id, moderator)
    for post_id in punished:
        world.decide(post_id, "harassment")
    result = _result(world)
    by_followers = next(
        c for c in result.comparisons if (c.measure, c.dimension) == ("Action rate", "followers")
    )
    rows = {row.label: row for row in by_followers.rows}
    big = rows["100,000 followers or more"]
    assert (big.items, big.outcomes, big.rate, big.rest_rate) == (10, 0, 0.0, 100.0)
    assert big.p_value is not None
    assert big.p_value < 1e-4
    assert big.flagged
    assert ("Action rate", "100,000 followers or more") in {
        (c.measure, row.label) for c, row in result.flagged
    }


def test_small_differences_are_not_flagged() -> None:
    cases = [groups.Case({"followers": "a"}, n < 3) for n in range(6)] + [
        groups.Case({"followers": "b"}, n < 2) for n in range(6)
    ]
    bands = (("a", 0), ("b", 1))
    comparison = groups.compare("Action rate", "followers", bands, cases)
    groups.adjust([comparison])
    assert [row.flagged for row in comparison.rows] == [False, False]
    assert all(row.adjusted is not None and row.adjusted >= row.p_value for row in comparison.rows)  # type: ignore[operator]


def test_near_identical_means_most_three_word_sequences_shared() -> None:
    pairs = similarity.near_identical(
        [
            (1, TEXT),
            (2, TEXT + " indeed"),
            (3, "A completely different post about gardening in May"),
        ]
    )
    assert [(a, b) for a, b, _score in pairs] == [(1, 2)]
    assert similarity.shingles("too short") == set()


def test_consistency_page_is_for_moderators_only(
    world: World, client: TestClient, cli_env: Callable[[], None]
) -> None:
    first = world.post(world.alice, f"Worth reading: {LINK}")
    world.post(world.bob, f"Worth reading: {LINK}")
    world.decide(first, "hacked-materials", Action.INTERSTITIAL)
    assert client.get("/moderation/consistency").status_code == 401
    login(client, "alice")
    assert client.get("/moderation/consistency").status_code == 403
    login(client, "mod_one")
    page = client.get("/moderation/consistency")
    assert page.status_code == 200
    assert f'href="/@alice/{first}"' in page.text
    assert "Fisher exact test" in page.text
    bad = client.get("/moderation/consistency?from=soon")
    assert bad.status_code == 422
    assert "from must be a date" in bad.text
    cli_env()
    result = runner.invoke(app, ["report", "consistency", "--format", "json"])
    assert result.exit_code == 0, result.output
    (pair,) = json.loads(result.stdout)["pairs"]
    assert pair["first"]["post_url"].endswith(f"/@alice/{first}")
    assert pair["first"]["actioned"] is True
    markdown = runner.invoke(app, ["report", "consistency"])
    assert "same URL" in markdown.stdout


def test_appeal_reversals_by_account_age_are_compared_with_the_stated_test(
    world: World, make_user: MakeUser
) -> None:
    """Twelve appeals of a four-year-old account all reversed, twelve of a new account all
    upheld: the reversal rate by account age differs beyond chance (two-sided Fisher exact test
    on the 2x2 table, Benjamini-Hochberg adjusted), while the action rates, alike, do not."""
    veteran, newcomer = make_user("veteran"), make_user("newcomer")
    with world.runtime.db.session() as session:
        session.execute(
            update(User)
            .where(User.id == veteran.id)
            .values(created_at=utcnow() - timedelta(days=4 * 365))
        )
    for author, outcome in ((veteran, AppealState.REVERSED), (newcomer, AppealState.UPHELD)):
        for n in range(12):
            decision = world.decide(world.post(author, f"post {n}"), "hacked-materials")
            with world.runtime.db.session() as session:
                appeal = appeals.file_appeal(
                    session, session.get_one(User, author.id), decision.id, "Please look again."
                )
                appeals.decide_appeal(
                    session,
                    appeal.id,
                    session.get_one(User, world.mod2.id),
                    outcome=outcome,
                    facts="Looked at again on appeal.",
                )
    result = _result(world)
    found = {
        (c.measure, c.dimension): {row.label: row for row in c.rows} for c in result.comparisons
    }
    by_age = found[("Appeal reversal rate", "age")]
    old, new = by_age["account over 3 years old"], by_age["account under 30 days old"]
    assert (old.items, old.outcomes, old.rate) == (12, 12, 100.0)
    assert (new.items, new.outcomes, new.rate) == (12, 0, 0.0)
    assert old.p_value == pytest.approx(fisher_exact([[12, 0], [0, 12]]).pvalue)
    assert old.adjusted is not None
    assert old.p_value is not None
    assert old.adjusted >= old.p_value
    assert old.flagged
    assert new.flagged
    actions = found[("Action rate", "age")]
    assert {row.rate for row in actions.values()} == {100.0}
    assert not any(row.flagged for row in actions.values())
    assert ("Appeal reversal rate", "account over 3 years old") in {
        (c.measure, row.label) for c, row in result.flagged
    }

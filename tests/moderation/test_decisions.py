"""The decision path: validated, with a valid statement of reasons, effects in force, superseded
and expired by later decisions."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import select

from parvis.accounts.models import Role, User
from parvis.errors import InvalidInput, NotFound, PermissionDenied
from parvis.moderation import decisions, dsa
from parvis.moderation.decisions import DecisionRequest
from parvis.moderation.models import (
    AccountRestriction,
    Action,
    Automation,
    BlockedLink,
    Decision,
    DecisionState,
    PostRestriction,
    Source,
    SubjectType,
)
from parvis.moderation.reasons import RuleInfo
from parvis.runtime import Runtime
from parvis.social import posts
from parvis.social.posts import PostDraft
from parvis.storage.base import utcnow
from tests.conftest import MakeUser

DOXXING = RuleInfo(
    id="doxxing",
    version=1,
    title="Doxxing",
    text="Do not publish someone's identifiers together with their home address.",
    ground="terms",
    legal_reference="",
    terms_clause="Terms of service, clause 4 (private information)",
    category="STATEMENT_CATEGORY_DATA_PROTECTION_AND_PRIVACY_VIOLATIONS",
)
HATE = RuleInfo(
    id="illegal-hate-speech",
    version=1,
    title="Illegal hate speech",
    text="Public incitement to violence or hatred against a group is illegal.",
    ground="illegal",
    legal_reference="Council Framework Decision 2008/913/JHA, art. 1",
    terms_clause="",
    category="STATEMENT_CATEGORY_ILLEGAL_OR_HARMFUL_SPEECH",
    keywords=("KEYWORD_HATE_SPEECH",),
)


def _post(runtime: Runtime, author: User) -> int:
    with runtime.db.session() as session:
        me = session.get_one(User, author.id)
        return posts.create_post(session, runtime.settings, me, PostDraft(body="text")).id


def _request(post_id: int, **changes: object) -> DecisionRequest:
    values: dict[str, object] = {
        "subject_type": SubjectType.POST,
        "subject_key": str(post_id),
        "action": Action.REMOVE,
        "rule": DOXXING,
        "facts": "The post contained a valid national identifier and a street address.",
        "source": Source.OWN_INITIATIVE,
        "automated_detection": True,
        "automated_decision": Automation.FULLY,
    }
    values.update(changes)
    return DecisionRequest(**values)  # type: ignore[arg-type]


def test_automatic_removal_writes_decision_statement_and_effect(
    runtime: Runtime, make_user: MakeUser
) -> None:
    author = make_user("author")
    post_id = _post(runtime, author)
    with runtime.db.session() as session:
        decision = decisions.decide(session, _request(post_id))
    with runtime.db.session() as session:
        stored = session.get_one(Decision, decision.id)
        statement = json.loads(stored.statement_json)
        restriction = session.get_one(PostRestriction, post_id)
    assert stored.affected_user_id == author.id
    assert restriction.action == "remove"
    assert dsa.validate_statement(statement) == []
    assert statement["decision_visibility"] == ["DECISION_VISIBILITY_CONTENT_REMOVED"]
    assert statement["puid"] == f"parvis-decision-{decision.id}"
    assert statement["decision_ground"] == "DECISION_GROUND_INCOMPATIBLE_CONTENT"
    assert "author" not in stored.statement_json  # no personal data


def test_illegal_ground_statement_carries_legal_reference(
    runtime: Runtime, make_user: MakeUser
) -> None:
    moderator = make_user("mod", role=Role.MODERATOR)
    post_id = _post(runtime, make_user("author"))
    request = _request(
        post_id,
        rule=HATE,
        action=Action.INTERSTITIAL,
        source=Source.NOTICE,
        automated_detection=False,
        automated_decision=Automation.NOT_AUTOMATED,
        decided_by_id=moderator.id,
        territorial_scope=["DE", "FR"],
    )
    with runtime.db.session() as session:
        statement = json.loads(decisions.decide(session, request).statement_json)
    assert statement["illegal_content_legal_ground"].startswith("Council Framework Decision")
    assert statement["decision_visibility"] == ["DECISION_VISIBILITY_OTHER"]
    assert statement["source_type"] == "SOURCE_ARTICLE_16"
    assert statement["territorial_scope"] == ["DE", "FR"]
    assert statement["category_specification"] == ["KEYWORD_HATE_SPEECH"]


@pytest.mark.parametrize(
    ("changes", "error", "fragment"),
    [
        ({"facts": "  "}, InvalidInput, "facts"),
        ({"action": Action.SUSPEND}, InvalidInput, "cannot apply to a post"),
        ({"automated_decision": Automation.NOT_AUTOMATED}, InvalidInput, "who decided"),
        ({"territorial_scope": ["US"]}, InvalidInput, "Unknown territories"),
        ({"subject_key": "999999"}, NotFound, "No such post"),
    ],
)
def test_bad_requests_are_refused_and_change_nothing(
    runtime: Runtime,
    make_user: MakeUser,
    changes: dict[str, object],
    error: type[Exception],
    fragment: str,
) -> None:
    post_id = _post(runtime, make_user("author"))
    with runtime.db.session() as session, pytest.raises(error, match=fragment):
        decisions.decide(session, _request(post_id, **changes))
    with runtime.db.session() as session:
        assert session.scalars(select(Decision)).all() == []
        assert session.scalars(select(PostRestriction)).all() == []


def test_reversal_supersedes_and_lifts_the_effect(runtime: Runtime, make_user: MakeUser) -> None:
    moderator = make_user("mod", role=Role.MODERATOR)
    post_id = _post(runtime, make_user("author"))
    with runtime.db.session() as session:
        first = decisions.decide(session, _request(post_id))
    with runtime.db.session() as session:
        reversal = decisions.decide(
            session,
            _request(
                post_id,
                action=Action.RESTORE,
                automated_detection=False,
                automated_decision=Automation.NOT_AUTOMATED,
                decided_by_id=moderator.id,
                supersedes_id=first.id,
                facts="On appeal the identifier turned out to be fictional.",
            ),
        )
    with runtime.db.session() as session:
        assert session.get_one(Decision, first.id).state == DecisionState.SUPERSEDED.value
        assert session.get(PostRestriction, post_id) is None
        assert session.get_one(Decision, reversal.id).statement_json == ""


def test_proposals_wait_for_a_moderator(runtime: Runtime, make_user: MakeUser) -> None:
    member = make_user("member")
    moderator = make_user("mod", role=Role.MODERATOR)
    post_id = _post(runtime, make_user("author"))
    with runtime.db.session() as session:
        proposal = decisions.decide(session, _request(post_id, propose=True))
    with runtime.db.session() as session:
        assert session.get(PostRestriction, post_id) is None
        with pytest.raises(PermissionDenied):
            decisions.confirm(session, proposal.id, session.get_one(User, member.id))
        confirmed = decisions.confirm(session, proposal.id, session.get_one(User, moderator.id))
        assert confirmed.automated_decision == "partially"
        assert json.loads(confirmed.statement_json)["automated_decision"] == (
            "AUTOMATED_DECISION_PARTIALLY"
        )
    with runtime.db.session() as session:
        assert session.get_one(PostRestriction, post_id).action == "remove"
        with pytest.raises(InvalidInput, match="not awaiting review"):
            decisions.decline(session, proposal.id, session.get_one(User, moderator.id))


def test_temporary_suspension_expires_by_a_recorded_decision(
    runtime: Runtime, make_user: MakeUser
) -> None:
    author = make_user("author")
    request = _request(
        0,
        subject_type=SubjectType.ACCOUNT,
        subject_key=str(author.id),
        action=Action.SUSPEND,
        duration=timedelta(days=7),
    )
    with runtime.db.session() as session:
        suspension = decisions.decide(session, request)
        statement = json.loads(suspension.statement_json)
        assert statement["decision_account"] == "DECISION_ACCOUNT_SUSPENDED"
        assert statement["end_date_account_restriction"] is not None
    with runtime.db.session() as session:
        assert decisions.expire_due(session) == []
        assert session.get(AccountRestriction, author.id) is not None
        ended = decisions.expire_due(session, utcnow() + timedelta(days=8))
        assert [d.action for d in ended] == ["restore"]
        assert session.get(AccountRestriction, author.id) is None
    with runtime.db.session() as session:
        assert [d.action for d in decisions.history(session, affected_user_id=author.id)] == [
            "restore",
            "suspend",
        ]


def test_blocking_a_url_and_restricting_features(runtime: Runtime, make_user: MakeUser) -> None:
    author = make_user("author")
    url = "https://leaks.example/dossier.pdf"
    with runtime.db.session() as session:
        decisions.decide(
            session,
            _request(0, subject_type=SubjectType.URL, subject_key=url, action=Action.BLOCK_URL),
        )
        with pytest.raises(InvalidInput, match="features"):
            decisions.decide(
                session,
                _request(
                    0,
                    subject_type=SubjectType.ACCOUNT,
                    subject_key=str(author.id),
                    action=Action.RESTRICT_ACCOUNT,
                ),
            )
    with runtime.db.session() as session:
        assert session.get(BlockedLink, f"url:{url}") is not None

"""Strikes add up over the rulebook's window and expire after it; the threshold suspends the
account by a decision citing the escalation rule, with its statement and log leaf; a reversed
decision carries no strike; plain warnings count only when the rulebook says so."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta

import pytest
from sqlalchemy import select

from parvis.accounts.models import Role, User
from parvis.audit.models import LogLeaf
from parvis.moderation import appeals, dsa, publication
from parvis.moderation.decisions import DecisionRequest
from parvis.moderation.models import (
    AccountRestriction,
    Action,
    AppealState,
    Automation,
    Decision,
    DecisionState,
    Source,
    SubjectType,
)
from parvis.moderation.rulebook import default_rulebook_text
from parvis.moderation.services import take_decision
from parvis.moderation.strikes import strikes
from parvis.runtime import Runtime
from tests.conftest import MakeUser, outbox_messages


def _harassment(
    runtime: Runtime, subject: SubjectType, key: int, action: Action, moderator: User
) -> Decision:
    """A moderator's decision under the harassment rule (one strike), delivered as on the desk."""
    with runtime.db.session() as session:
        publication.ensure_default(session)
        row = publication.get_version(session)
        rule = publication.parsed(row).rule("harassment").info(row.version)
        return take_decision(
            session,
            runtime.services,
            DecisionRequest(
                subject_type=subject,
                subject_key=str(key),
                action=action,
                rule=rule,
                facts="Repeated insults.",
                source=Source.NOTICE,
                automated_detection=False,
                automated_decision=Automation.NOT_AUTOMATED,
                decided_by_id=moderator.id,
            ),
        )


def _remove(runtime: Runtime, post_id: int, moderator: User) -> Decision:
    return _harassment(runtime, SubjectType.POST, post_id, Action.REMOVE, moderator)


def _warn(runtime: Runtime, member: User, moderator: User) -> Decision:
    """A plain warning: a decision citing a rule that restricts nothing (Mastodon's "warn")."""
    return _harassment(runtime, SubjectType.ACCOUNT, member.id, Action.NO_ACTION, moderator)


def _appeal(
    runtime: Runtime,
    decision: Decision,
    moderator: User,
    outcome: AppealState,
    facts: str,
    new_action: Action | None = None,
) -> Decision:
    """The affected member appeals; another moderator decides with this outcome."""
    with runtime.db.session() as session:
        assert decision.affected_user_id is not None
        appeal = appeals.file_appeal(
            session,
            session.get_one(User, decision.affected_user_id),
            decision.id,
            "I was quoting someone.",
        )
        return appeals.decide_appeal(
            session,
            appeal.id,
            session.get_one(User, moderator.id),
            outcome=outcome,
            facts=facts,
            new_action=new_action,
        )


def test_third_strike_suspends_by_an_escalation_decision(
    runtime: Runtime, make_user: MakeUser, post_by: Callable[[User, str], int]
) -> None:
    author = make_user("author")
    moderator = make_user("mod", role=Role.MODERATOR)
    posts = [post_by(author, f"insult {n}") for n in range(3)]
    _remove(runtime, posts[0], moderator)
    _remove(runtime, posts[1], moderator)
    with runtime.db.session() as session:
        assert strikes(session, author.id, 90) == 2
        assert session.get(AccountRestriction, author.id) is None
    _remove(runtime, posts[2], moderator)
    with runtime.db.session() as session:
        suspension = session.scalars(select(Decision).where(Decision.rule_id == "escalation")).one()
        assert (suspension.action, suspension.subject_key) == ("suspend", str(author.id))
        assert suspension.ends_at is not None
        assert "3 strikes within 90 days" in suspension.facts
        assert session.get_one(AccountRestriction, author.id).action == "suspend"


def test_strikes_expire_after_the_window(
    runtime: Runtime, make_user: MakeUser, post_by: Callable[[User, str], int]
) -> None:
    author = make_user("author")
    moderator = make_user("mod", role=Role.MODERATOR)
    old = [_remove(runtime, post_by(author, f"insult {n}"), moderator) for n in range(2)]
    with runtime.db.session() as session:
        for decision in old:
            stored = session.get_one(Decision, decision.id)
            stored.starts_at = stored.starts_at - timedelta(days=91)
    with runtime.db.session() as session:
        assert strikes(session, author.id, 90) == 0
    _remove(runtime, post_by(author, "insult 3"), moderator)
    with runtime.db.session() as session:
        assert strikes(session, author.id, 90) == 1
        assert session.get(AccountRestriction, author.id) is None  # two strikes expired


def test_a_reversed_decision_carries_no_strike(
    runtime: Runtime, make_user: MakeUser, post_by: Callable[[User, str], int]
) -> None:
    author = make_user("author")
    moderator = make_user("mod", role=Role.MODERATOR)
    other = make_user("other_mod", role=Role.MODERATOR)
    first = _remove(runtime, post_by(author, "insult 1"), moderator)
    _appeal(runtime, first, other, AppealState.REVERSED, "The post quoted an insult to condemn it.")
    _remove(runtime, post_by(author, "insult 2"), moderator)
    _remove(runtime, post_by(author, "insult 3"), moderator)
    with runtime.db.session() as session:
        assert strikes(session, author.id, 90) == 2
        assert session.get(AccountRestriction, author.id) is None


@pytest.mark.parametrize(
    ("outcome", "new_action"),
    [(AppealState.UPHELD, None), (AppealState.MODIFIED, Action.INTERSTITIAL)],
)
def test_an_appeal_outcome_keeps_the_strike_dated_from_the_first_decision(
    outcome: AppealState,
    new_action: Action | None,
    runtime: Runtime,
    make_user: MakeUser,
    post_by: Callable[[User, str], int],
) -> None:
    """Appealing must not lengthen a strike: upheld (or softened) 80 days after the removal,
    the strike still leaves the 90-day window ten days later, not 90."""
    author = make_user("author")
    moderator = make_user("mod", role=Role.MODERATOR)
    other = make_user("other_mod", role=Role.MODERATOR)
    first = _remove(runtime, post_by(author, "insult 1"), moderator)
    with runtime.db.session() as session:
        stored = session.get_one(Decision, first.id)
        stored.starts_at = stored.starts_at - timedelta(days=80)
    _appeal(runtime, first, other, outcome, "The insult was direct.", new_action)
    with runtime.db.session() as session:
        assert strikes(session, author.id, 90) == 1  # day 80: still in the window
        assert strikes(session, author.id, 75) == 0  # the outcome's own date does not count


def test_the_escalation_is_a_decision_with_its_statement_in_the_log(
    runtime: Runtime, make_user: MakeUser, post_by: Callable[[User, str], int]
) -> None:
    author = make_user("author")
    moderator = make_user("mod", role=Role.MODERATOR)
    for n in range(3):
        _remove(runtime, post_by(author, f"insult {n}"), moderator)
    with runtime.db.session() as session:
        suspension = session.scalars(select(Decision).where(Decision.rule_id == "escalation")).one()
        statement = json.loads(suspension.statement_json)
        assert dsa.validate_statement(statement) == []
        assert statement["decision_account"] == "DECISION_ACCOUNT_SUSPENDED"
        assert statement["automated_decision"] == "AUTOMATED_DECISION_FULLY"
        assert statement["end_date_account_restriction"] is not None
        leaf = session.scalar(select(LogLeaf).where(LogLeaf.ref == f"decision:{suspension.id}"))
        assert leaf is not None
    mail = outbox_messages(runtime.settings)[-1]
    assert "Repeated violations (rule 'escalation', rulebook version 1)" in mail
    assert "your account was suspended until" in mail


@pytest.mark.parametrize(("counted", "suspended"), [(False, False), (True, True)])
def test_plain_warnings_count_only_when_the_rulebook_says_so(
    counted: bool,
    suspended: bool,
    runtime: Runtime,
    make_user: MakeUser,
    post_by: Callable[[User, str], int],
) -> None:
    text = default_rulebook_text().replace(
        "warnings_count = false", f"warnings_count = {str(counted).lower()}"
    )
    with runtime.db.session() as session:
        publication.publish(session, text, None)
        assert publication.parsed(publication.get_version(session)).warnings_count is counted
    author = make_user("author")
    moderator = make_user("mod", role=Role.MODERATOR)
    _warn(runtime, author, moderator)
    _warn(runtime, author, moderator)
    with runtime.db.session() as session:
        assert strikes(session, author.id, 90, warnings_count=counted) == (2 if counted else 0)
    _remove(runtime, post_by(author, "insult"), moderator)  # the third strike, if warnings count
    with runtime.db.session() as session:
        restriction = session.get(AccountRestriction, author.id)
        assert (restriction is not None and restriction.action == "suspend") is suspended


def test_the_count_sees_decisions_changed_earlier_in_the_same_transaction(
    runtime: Runtime, make_user: MakeUser, post_by: Callable[[User, str], int]
) -> None:
    author = make_user("author")
    moderator = make_user("mod", role=Role.MODERATOR)
    first = _remove(runtime, post_by(author, "insult 1"), moderator)
    _remove(runtime, post_by(author, "insult 2"), moderator)
    with runtime.db.session() as session:
        # Superseded in this transaction, not yet written: it must no longer count (the count
        # runs on the driver, so it has to write such changes first).
        session.get_one(Decision, first.id).state = DecisionState.SUPERSEDED.value
        assert strikes(session, author.id, 90) == 1
        session.rollback()
        assert strikes(session, author.id, 90) == 2

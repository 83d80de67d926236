"""Strikes add up over the rulebook's window; the threshold suspends the account by a decision
citing the escalation rule; a reversed decision carries no strike."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import select

from parvis.accounts.models import Role, User
from parvis.moderation import publication
from parvis.moderation.decisions import DecisionRequest
from parvis.moderation.models import (
    AccountRestriction,
    Action,
    Automation,
    Decision,
    Source,
    SubjectType,
)
from parvis.moderation.services import take_decision
from parvis.moderation.strikes import strikes
from parvis.runtime import Runtime
from tests.conftest import MakeUser


def _remove(runtime: Runtime, post_id: int, moderator: User) -> Decision:
    with runtime.db.session() as session:
        publication.ensure_default(session)
        row = publication.get_version(session)
        rule = publication.parsed(row).rule("harassment").info(row.version)
        return take_decision(
            session,
            runtime.services,
            DecisionRequest(
                subject_type=SubjectType.POST,
                subject_key=str(post_id),
                action=Action.REMOVE,
                rule=rule,
                facts="Repeated insults.",
                source=Source.NOTICE,
                automated_detection=False,
                automated_decision=Automation.NOT_AUTOMATED,
                decided_by_id=moderator.id,
            ),
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

"""Internal complaints (DSA Art. 20): the affected member appeals within six months; someone
other than the original decider decides; every outcome is itself a decision."""

from __future__ import annotations

import calendar
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from parvis.accounts.models import User
from parvis.audit import log as audit_log
from parvis.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from parvis.moderation import decisions, publication
from parvis.moderation.models import (
    Action,
    Appeal,
    AppealState,
    Decision,
    DecisionState,
)
from parvis.storage.base import utcnow

APPEAL_MONTHS = 6


def six_months_after(moment: datetime) -> datetime:
    """The same moment six calendar months later; a day the month lacks (31 August + six
    months) falls on that month's last day (28 or 29 February)."""
    month = moment.month - 1 + APPEAL_MONTHS
    year, month = moment.year + month // 12, month % 12 + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


def appeal_deadline(decision: Decision) -> datetime:
    """The last moment to appeal: six calendar months after the statement of reasons reached
    the member, which is when the decision took effect (a proposal's statement is sent when a
    moderator confirms it, not when it was proposed)."""
    return six_months_after(decision.starts_at)


def file_appeal(session: Session, appellant: User, decision_id: int, reason: str) -> Appeal:
    """Appeal a decision that affected the appellant, within six months of it."""
    decision = session.get(Decision, decision_id)
    if decision is None or decision.state == DecisionState.PROPOSED.value:
        raise NotFound("No such decision.")
    if decision.affected_user_id != appellant.id:
        raise PermissionDenied("Only the member a decision affected can appeal it.")
    if utcnow() > appeal_deadline(decision):
        raise InvalidInput(
            "The six months for appealing this decision have passed "
            f"(the deadline was {appeal_deadline(decision):%Y-%m-%d %H:%M} UTC)."
        )
    if decision.state not in (DecisionState.IN_EFFECT.value, DecisionState.EXPIRED.value):
        raise InvalidInput("This decision was already replaced by a later one.")
    if not 10 <= len(reason.strip()) <= 5000:
        raise InvalidInput("Explain why the decision is wrong (10 to 5000 characters).", "reason")
    open_appeal = session.scalar(
        select(Appeal).where(
            Appeal.decision_id == decision.id, Appeal.state == AppealState.OPEN.value
        )
    )
    if open_appeal is not None:
        raise Conflict(f"Appeal #{open_appeal.id} against this decision is already open.")
    appeal = Appeal(decision_id=decision.id, appellant_id=appellant.id, reason=reason.strip())
    session.add(appeal)
    session.flush()
    return appeal


def decide_appeal(
    session: Session,
    appeal_id: int,
    moderator: User,
    *,
    outcome: AppealState,
    facts: str,
    new_action: Action | None = None,
) -> Decision:
    """Uphold, reverse or modify the appealed decision, by a moderator who did not take it.

    Reversal restores the content or account at once. The outcome is recorded as a new decision
    that supersedes the original, with its own statement of reasons; it cites the original's
    rule as the rulebook version it was taken under worded it (`publication.cited_rule`),
    whatever was published since.
    """
    if not moderator.is_moderator:
        raise PermissionDenied("Only moderators decide appeals.")
    appeal = session.get(Appeal, appeal_id)
    if appeal is None or appeal.decision_id is None:
        raise NotFound("No such appeal.")
    if appeal.state != AppealState.OPEN.value:
        raise InvalidInput(f"Appeal #{appeal.id} was already decided ({appeal.state}).")
    original = session.get_one(Decision, appeal.decision_id)
    if original.decided_by_id == moderator.id:
        raise PermissionDenied(
            "You took the appealed decision; another moderator must decide the appeal."
        )
    if outcome == AppealState.OPEN:
        raise InvalidInput("Choose an outcome: upheld, reversed or modified.", "outcome")
    if outcome == AppealState.REVERSED:
        action = Action.RESTORE
    elif outcome == AppealState.UPHELD:
        action = Action(original.action)
    else:
        if new_action is None or new_action == Action(original.action):
            raise InvalidInput("A modified decision needs a different action.", "action")
        action = new_action
    outcome_decision = decisions.decide(
        session,
        decisions.superseding(
            original,
            action=action,
            rule=publication.cited_rule(session, original),
            facts=facts,
            decided_by_id=moderator.id,
        ),
    )
    appeal.state = outcome.value
    appeal.decided_at = utcnow()
    appeal.decided_by_id = moderator.id
    appeal.outcome_decision_id = outcome_decision.id
    audit_log.record_appeal(session, appeal)
    return outcome_decision

"""Human review of fully automated decisions.

A rule a machine may apply alone (doxxing, flooding, an escalation after strikes) acts at once,
"pending review": its statement of reasons says so. Until a moderator has looked, the decision
waits on the desk. The moderator upholds or reverses it, and either way the outcome is a new
decision that supersedes the automated one, taken by a person (`Automation.NOT_AUTOMATED`),
with its own statement of reasons to the member and its own leaf in the log: the member learns
that a person has now looked, and a reversal restores the post, link or account at once.
"""

from __future__ import annotations

from sqlalchemy import case, select
from sqlalchemy.orm import Session

from parvis.accounts.models import User
from parvis.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from parvis.moderation import decisions, publication
from parvis.moderation.models import (
    Action,
    Appeal,
    AppealState,
    Automation,
    Decision,
    DecisionState,
)

MAX_LISTED = 100
_NOT_RESTRICTING = (Action.RESTORE.value, Action.NO_ACTION.value)


# The ladder, narrowest first: the desk lists the strongest restrictions first (a wrongful
# suspension costs the member more than a wrongful label), then the oldest.
_STEP = case({action.value: step for step, action in enumerate(Action)}, value=Decision.action)


def awaiting_review(session: Session, limit: int = MAX_LISTED) -> list[Decision]:
    """Fully automated restrictions still in force that no person has reviewed, strongest
    first, then oldest (a review, an appeal's outcome or the end of the restriction supersedes
    them). One the member has appealed waits with the appeals instead: its appeal is its
    review."""
    appealed = select(Appeal.id).where(
        Appeal.decision_id == Decision.id, Appeal.state == AppealState.OPEN.value
    )
    return list(
        session.scalars(
            select(Decision)
            .where(
                Decision.state == DecisionState.IN_EFFECT.value,
                Decision.automated_decision == Automation.FULLY.value,
                Decision.action.not_in(_NOT_RESTRICTING),
                ~appealed.exists(),
            )
            .order_by(_STEP.desc(), Decision.id)
            .limit(limit)
        )
    )


def awaits_review(decision: Decision) -> bool:
    """Whether this is an automated restriction no person has reviewed yet (the conditions of
    `awaiting_review` on one decision, an open appeal aside: the page shows that itself)."""
    return (
        decision.state == DecisionState.IN_EFFECT.value
        and decision.automated_decision == Automation.FULLY.value
        and decision.action not in _NOT_RESTRICTING
    )


def review(
    session: Session, moderator: User, decision_id: int, *, uphold: bool, facts: str
) -> Decision:
    """Uphold or reverse an automated decision; returns the moderator's decision that
    supersedes it, citing the same rule of the same rulebook version (published versions never
    change, so it is there); the caller delivers its statement of reasons."""
    if not moderator.is_moderator:
        raise PermissionDenied("Only moderators review automated decisions.")
    # Locked on PostgreSQL: a second moderator reviewing at the same moment waits, then finds
    # it superseded (SQLite's write transactions already take turns).
    original = session.get(Decision, decision_id, with_for_update=True)
    if original is None:
        raise NotFound("No such decision.")
    if original.automated_decision != Automation.FULLY.value:
        raise InvalidInput(
            f"Decision {original.id} was taken by a person; a later decision or an appeal "
            "changes it, not a review."
        )
    if not awaits_review(original):
        raise InvalidInput(f"Decision {original.id} is no longer awaiting review.")
    appeal = session.scalar(
        select(Appeal.id).where(
            Appeal.decision_id == original.id, Appeal.state == AppealState.OPEN.value
        )
    )
    if appeal is not None:
        raise Conflict(
            f"The member has appealed this decision (appeal #{appeal}): decide the appeal, "
            "which reviews it."
        )
    return decisions.decide(
        session,
        decisions.superseding(
            original,
            action=Action(original.action) if uphold else Action.RESTORE,
            rule=publication.cited_rule(session, original),
            facts=facts,
            decided_by_id=moderator.id,
        ),
    )

"""Handling notices on the desk beyond resolving them: who is working on a notice (assignment,
so two moderators do not take the same one) and reopening a resolved notice."""

from __future__ import annotations

from sqlalchemy.orm import Session

from parvis.accounts.models import User
from parvis.errors import InvalidInput, NotFound, PermissionDenied
from parvis.moderation import publication
from parvis.moderation.models import Notice, NoticeAssignment, NoticeState


def _notice(session: Session, moderator: User, notice_id: int) -> Notice:
    if not moderator.is_moderator:
        raise PermissionDenied("Only moderators handle notices.")
    notice = session.get(Notice, notice_id)
    if notice is None:
        raise NotFound("No such notice.")
    return notice


def assign(session: Session, moderator: User, notice_id: int) -> NoticeAssignment:
    """Take a notice: the moderator becomes its handler (replacing any earlier one)."""
    notice = _notice(session, moderator, notice_id)
    row = session.get(NoticeAssignment, notice.id)
    if row is None:
        row = NoticeAssignment(notice_id=notice.id, moderator_id=moderator.id)
        session.add(row)
    else:
        row.moderator_id = moderator.id
    session.flush()
    return row


def unassign(session: Session, moderator: User, notice_id: int) -> None:
    """Release a notice so another moderator can take it (idempotent)."""
    notice = _notice(session, moderator, notice_id)
    row = session.get(NoticeAssignment, notice.id)
    if row is not None:
        session.delete(row)
        session.flush()


def assignee_id(session: Session, notice_id: int) -> int | None:
    """The moderator handling a notice, if any."""
    row = session.get(NoticeAssignment, notice_id)
    return row.moderator_id if row else None


def reopen(session: Session, moderator: User, notice_id: int) -> Notice:
    """Put a resolved notice back in the queue (idempotent for an open one).

    A decision taken on it stays in force: decisions end only by a later decision (appeal,
    reversal) or expiry, never by reopening the notice that led to them.
    """
    notice = _notice(session, moderator, notice_id)
    if notice.state != NoticeState.RECEIVED.value:
        notice.state = NoticeState.RECEIVED.value
        notice.resolved_at = None
        notice.resolved_by_id = None
        notice.decision_id = None
        notice.outcome_text = ""
        session.flush()
    return notice


def cite_rule(session: Session, moderator: User, notice_id: int, rule_id: str | None) -> Notice:
    """Set (or clear) the rule a notice is about, checked against the rulebook in force, so an
    action taken on the notice can cite it."""
    notice = _notice(session, moderator, notice_id)
    if rule_id:
        current = publication.in_force(session)
        if current is None or rule_id not in {r.id for r in current[1].rules}:
            raise InvalidInput(f"The rulebook in force has no rule '{rule_id}'.", "rule_ids")
    notice.rule_id = rule_id or None
    session.flush()
    return notice

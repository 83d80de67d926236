"""Notifiers appeal a decision not to act on their notice (DSA Art. 20(1)): within six months,
decided by a moderator other than the one who closed the notice. Upholding keeps "no action";
reversing acts on the notice by a decision citing a rule."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from parvis.accounts.models import User
from parvis.accounts.services import Services
from parvis.audit import log as audit_log
from parvis.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from parvis.moderation.appeals import six_months_after
from parvis.moderation.decisions import DecisionRequest
from parvis.moderation.models import (
    Action,
    Appeal,
    AppealState,
    Automation,
    Decision,
    Notice,
    NoticeState,
    Source,
    SubjectType,
)
from parvis.moderation.reasons import RuleInfo
from parvis.moderation.services import take_decision
from parvis.storage.base import utcnow

CLOSED_WITHOUT_ACTION = (NoticeState.NO_ACTION.value, NoticeState.UNFOUNDED.value)


def file(session: Session, notifier: User, notice_id: int, reason: str) -> Appeal:
    """Appeal the outcome of one's own notice that was closed without action."""
    notice = session.get(Notice, notice_id)
    if notice is None or notice.notifier_user_id != notifier.id:
        raise NotFound("No such notice of yours.")
    if notice.state not in CLOSED_WITHOUT_ACTION:
        raise InvalidInput("Only a notice closed without action can be appealed.")
    if notice.resolved_at is None or utcnow() > six_months_after(notice.resolved_at):
        raise InvalidInput("The six months for appealing this outcome have passed.")
    if not 10 <= len(reason.strip()) <= 5000:
        raise InvalidInput("Explain why the outcome is wrong (10 to 5000 characters).", "reason")
    existing = session.scalar(select(Appeal).where(Appeal.notice_id == notice.id))
    if existing is not None:
        raise Conflict(f"Appeal #{existing.id} about this notice already exists.")
    appeal = Appeal(notice_id=notice.id, appellant_id=notifier.id, reason=reason.strip())
    session.add(appeal)
    session.flush()
    return appeal


def decide(
    session: Session,
    services: Services,
    appeal_id: int,
    moderator: User,
    *,
    reverse: bool,
    facts: str,
    rule: RuleInfo | None = None,
    action: Action | None = None,
) -> Decision | None:
    """Uphold "no action" (returns None) or reverse it by a decision acting on the notice."""
    if not moderator.is_moderator:
        raise PermissionDenied("Only moderators decide appeals.")
    appeal = session.get(Appeal, appeal_id)
    if appeal is None or appeal.notice_id is None:
        raise NotFound("No such appeal.")
    if appeal.state != AppealState.OPEN.value:
        raise InvalidInput(f"Appeal #{appeal.id} was already decided ({appeal.state}).")
    notice = session.get_one(Notice, appeal.notice_id)
    if notice.resolved_by_id == moderator.id:
        raise PermissionDenied("You closed this notice; another moderator must decide the appeal.")
    if not facts.strip():
        raise InvalidInput("Give the reasons for the outcome.", "facts")
    outcome: Decision | None = None
    if reverse:
        if rule is None or action is None:
            raise InvalidInput("Acting on the notice needs a rule and an action.", "rule")
        outcome = take_decision(
            session,
            services,
            DecisionRequest(
                subject_type=SubjectType(notice.subject_type),
                subject_key=notice.subject_key,
                action=action,
                rule=rule,
                facts=facts,
                source=Source.TRUSTED_FLAGGER if notice.trusted_flagger_id else Source.NOTICE,
                automated_detection=False,
                automated_decision=Automation.NOT_AUTOMATED,
                decided_by_id=moderator.id,
                notice_id=notice.id,
            ),
        )
        notice.state = NoticeState.ACTIONED.value
        notice.decision_id = outcome.id
    appeal.state = (AppealState.REVERSED if reverse else AppealState.UPHELD).value
    appeal.decided_at = utcnow()
    appeal.decided_by_id = moderator.id
    appeal.outcome_decision_id = outcome.id if outcome else None
    audit_log.record_appeal(session, appeal)
    if notice.notifier_email:
        services.mailer.send(
            session,
            notice.notifier_email,
            f"Outcome of your appeal about notice #{notice.id}",
            f"Hello {notice.notifier_name or 'there'},\n\n"
            + (
                f"We now act on your notice (decision {outcome.id})."
                if outcome
                else "We reviewed the outcome again and keep it."
            )
            + f"\n\nReasons: {facts.strip()}\n",
        )
    return outcome

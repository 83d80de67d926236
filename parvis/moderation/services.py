"""Decisions as people experience them: the affected member is told at once, in the app and
by e-mail, with the statement of reasons and how to appeal."""

from __future__ import annotations

from sqlalchemy.orm import Session

from parvis.accounts.models import User
from parvis.accounts.services import Services
from parvis.moderation import decisions, strikes
from parvis.moderation.decisions import DecisionRequest
from parvis.moderation.models import Action, Decision
from parvis.social import events
from parvis.social.events import EventKind
from parvis.social.models import Notification, NotificationKind

WHAT = {
    Action.LABEL.value: "a label was added to your post",
    Action.INTERSTITIAL.value: "your post is now shown behind a warning",
    Action.DEMOTE.value: "your post no longer appears in public feeds, tags or search",
    Action.BLOCK_URL.value: "sharing of a link was blocked",
    Action.REMOVE.value: "your post was removed from public view",
    Action.RESTRICT_ACCOUNT.value: "some features of your account were restricted",
    Action.SUSPEND.value: "your account was suspended",
    Action.TERMINATE.value: "your account was terminated",
    Action.RESTORE.value: "an earlier restriction was lifted",
    Action.NO_ACTION.value: "no action was taken",
}


PUBLIC_WHAT = {
    Action.LABEL.value: "the post was labelled",
    Action.INTERSTITIAL.value: "the post was placed behind a warning",
    Action.DEMOTE.value: "the post was taken out of public feeds, tags and search",
    Action.BLOCK_URL.value: "sharing of the link was blocked",
    Action.REMOVE.value: "the post was removed from public view",
    Action.RESTRICT_ACCOUNT.value: "some features of the account were restricted",
    Action.SUSPEND.value: "the account was suspended",
    Action.TERMINATE.value: "the account was terminated",
    Action.RESTORE.value: "an earlier restriction was lifted",
    Action.NO_ACTION.value: "no action was taken",
}


def what_happened(decision: Decision, *, public: bool = False) -> str:
    """The decision's effect in words (room decisions name the room or the speaker)."""
    if decision.subject_type == "room" and decision.action == Action.REMOVE.value:
        speaker = "/" in decision.subject_key
        if public:
            return "a speaker was removed from the live room" if speaker else "the room was ended"
        return "you were removed from a live room" if speaker else "your live room was ended"
    return (PUBLIC_WHAT if public else WHAT).get(decision.action, decision.action)


def take_decision(session: Session, services: Services, request: DecisionRequest) -> Decision:
    """Record a decision (see `decisions.decide`) and deliver its statement of reasons."""
    decision = decisions.decide(session, request)
    if not request.propose:
        deliver(session, services, decision)
        strikes.escalate(session, services, decision)
    return decision


def deliver(session: Session, services: Services, decision: Decision) -> None:
    """Tell the affected member: a notification linking to the statement, and an e-mail."""
    if decision.affected_user_id is None:
        return
    member = session.get_one(User, decision.affected_user_id)
    notification = Notification(
        user_id=member.id,
        actor_id=decision.decided_by_id or member.id,
        kind=NotificationKind.MODERATION.value,
        post_id=int(decision.subject_key) if decision.subject_type == "post" else None,
        decision_id=decision.id,
    )
    session.add(notification)
    events.emit(session, EventKind.NOTIFICATION_CREATED, notification)  # streamed once committed
    settings = services.settings
    until = f" until {decision.ends_at:%Y-%m-%d %H:%M} UTC" if decision.ends_at else ""
    link = f"{settings.base_url}/statements/{decision.id}"
    services.mailer.send(
        member.email,
        f"Moderation decision {decision.id} on {settings.instance_name}",
        f"Hello {member.username},\n\nUnder the rule '{decision.rule_id}' (rulebook version "
        f"{decision.rulebook_version}), {what_happened(decision)}{until}.\n\n"
        f"Facts and circumstances: {decision.facts}\n\n"
        f"Detected automatically: {'yes' if decision.automated_detection else 'no'}; "
        f"decided: {decision.automated_decision.replace('_', ' ')}.\n\n"
        f"The full statement of reasons, and the form to appeal within six months, are at:\n"
        f"{link}\n",
    )

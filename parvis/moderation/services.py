"""Decisions as people experience them: the affected member is told at once, in the app and
by e-mail, with the statement of reasons and how to appeal."""

from __future__ import annotations

import json
from dataclasses import dataclass

from sqlalchemy.orm import Session

from parvis.accounts.models import User
from parvis.accounts.services import Services
from parvis.errors import NotFound
from parvis.moderation import decisions, publication, statement_outbox, strikes
from parvis.moderation.appeals import appeal_deadline
from parvis.moderation.decisions import DecisionRequest
from parvis.moderation.models import Action, Decision
from parvis.social import events
from parvis.social.events import EventKind
from parvis.social.models import Notification, NotificationKind
from parvis.storage.direct import insert_values

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


DETECTION = {True: "automatically, by Parvis's detectors", False: "by a person or a notice"}
DECIDED = {
    "fully": "automatically, without a person",
    "partially": "by a moderator, on a proposal of Parvis's detectors",
    "not_automated": "by a moderator",
}


@dataclass(frozen=True)
class RuleWording:
    """The cited rule as the rulebook publishes it."""

    id: str
    title: str
    text: str
    version: int

    @property
    def url(self) -> str:
        """Path of the rule on the public rules page."""
        return f"/rules/{self.version}#{self.id}"


def rule_wording(session: Session, decision: Decision) -> RuleWording:
    """The title and public text of the rule a decision cites, from the very rulebook version
    it was taken under (falling back to the statement's explanation, which quotes the rule)."""
    try:
        version, rulebook = publication.rules(session, decision.rulebook_version)
        rule = rulebook.rule(decision.rule_id)
    except (NotFound, KeyError):
        pass
    else:
        return RuleWording(rule.id, rule.title, rule.text, version)
    statement = json.loads(decision.statement_json or "{}")
    quoted = str(
        statement.get("incompatible_content_explanation")
        or statement.get("illegal_content_explanation")
        or ""
    )
    title, _, text = quoted.partition(": ")
    return RuleWording(decision.rule_id, title or decision.rule_id, text, decision.rulebook_version)


def take_decision(session: Session, services: Services, request: DecisionRequest) -> Decision:
    """Record a decision (see `decisions.decide`) and deliver its statement of reasons."""
    decision = decisions.decide(session, request)
    if request.propose:
        return decision
    if decision.statement_pending:
        # Told, and its strike counted towards a suspension, once the transaction commits.
        statement_outbox.mark_queued(session)
    else:
        deliver(session, services, decision)
        strikes.escalate(session, services, decision)
    return decision


def deliver(
    session: Session, services: Services, decision: Decision, *, catch_up: bool = True
) -> None:
    """Tell the affected member: a notification linking to the statement, and an e-mail.
    Statements of the member's earlier decisions still waiting in the outbox (screening's,
    `statement_outbox`) are delivered first, so that nobody hears of a reversal before the
    removal it reverses (`catch_up=False`: the caller, the outbox itself, has seen to it)."""
    if decision.affected_user_id is None:
        return
    if catch_up:
        statement_outbox.deliver_earlier(session, services, decision.affected_user_id, decision.id)
    member = session.get_one(User, decision.affected_user_id)
    notification_id = insert_values(  # see `storage.direct`: every automated removal comes here
        session,
        Notification,
        user_id=member.id,
        actor_id=decision.decided_by_id or member.id,
        kind=NotificationKind.MODERATION.value,
        post_id=int(decision.subject_key) if decision.subject_type == "post" else None,
        decision_id=decision.id,
    )
    events.emit(  # streamed once committed
        session,
        EventKind.NOTIFICATION_CREATED,
        events.WrittenNotification(notification_id, member.id),
    )
    services.mailer.send(
        session,
        member.email,
        f"Moderation decision {decision.id} on {services.settings.instance_name}",
        statement_email(session, services, decision, member),
    )


def statement_email(session: Session, services: Services, decision: Decision, member: User) -> str:
    """The statement of reasons as the affected member reads it by e-mail: what was decided and
    for how long, the rule's public text, the facts, how it was detected and decided, and how
    to appeal (the full machine-readable statement is on the linked page)."""
    base = services.settings.base_url
    rule = rule_wording(session, decision)
    until = ""
    if decision.ends_at:
        until = f" until {decision.ends_at:%Y-%m-%d %H:%M} UTC"
    elif decision.action not in (Action.RESTORE.value, Action.NO_ACTION.value):
        until = " with no end date"
    deadline = appeal_deadline(decision)
    return (
        f"Hello {member.username},\n\n"
        f"Decision {decision.id}: {what_happened(decision)}{until}.\n\n"
        f"The rule: {rule.title} (rule '{rule.id}', rulebook version {rule.version})\n"
        f"{rule.text}\n{base}{rule.url}\n\n"
        f"Facts and circumstances: {decision.facts}\n\n"
        f"How it was detected: {DETECTION[bool(decision.automated_detection)]}.\n"
        f"How it was decided: {DECIDED.get(decision.automated_decision, '')}.\n\n"
        f"The full statement of reasons is at:\n{base}/statements/{decision.id}\n\n"
        f"How to appeal: open that page and use the appeal form before "
        f"{deadline:%Y-%m-%d} (six months). A moderator other than the one who decided reviews "
        "your appeal, and the outcome is a new decision with its own statement of reasons.\n"
    )

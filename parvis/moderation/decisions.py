"""The decision path: the only way any post, link or account is restricted or restored.

A decision, its statement of reasons and its effect are written in the caller's transaction,
so either all of them exist or none does. Decisions are never edited: a later decision
supersedes an earlier one, and expiry is itself recorded as a decision.

Several decisions can be in force on one post, account or link; the one effect it carries is
the strongest of them on the ladder (the newest among equals), and when that one ends the next
strongest takes over.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, or_, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from parvis.accounts.models import User
from parvis.audit import leaves
from parvis.audit import log as audit_log
from parvis.errors import InvalidInput, NotFound, PermissionDenied
from parvis.live import enforcement as live_enforcement
from parvis.moderation import dsa, personal_data
from parvis.moderation.enforcement import effect_row, normalise_url
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
from parvis.moderation.reasons import ContentInfo, RuleInfo, build_statement
from parvis.social import events
from parvis.social.events import EventKind
from parvis.social.models import Post
from parvis.storage.base import utcnow
from parvis.storage.direct import insert_object, insert_values
from parvis.storage.hot import HotSQL

POST_ACTIONS = {Action.LABEL, Action.INTERSTITIAL, Action.DEMOTE, Action.REMOVE}
ACCOUNT_ACTIONS = {Action.RESTRICT_ACCOUNT, Action.SUSPEND, Action.TERMINATE}
LINK_ACTIONS = {Action.BLOCK_URL}
ACCOUNT_FEATURES = frozenset({"links", "posting", "replies", "media", "notices"})
EffectRow = PostRestriction | AccountRestriction


@dataclass
class DecisionRequest:
    """Everything a decision must state. `propose` puts it in the review queue instead."""

    subject_type: SubjectType
    subject_key: str
    action: Action
    rule: RuleInfo
    facts: str
    source: Source
    automated_detection: bool
    automated_decision: Automation
    decided_by_id: int | None = None
    duration: timedelta | None = None
    features: tuple[str, ...] = ()
    territorial_scope: list[str] = field(default_factory=lambda: list(dsa.EEA_COUNTRIES))
    notice_id: int | None = None
    supersedes_id: int | None = None
    propose: bool = False
    # The subject was created in this very transaction (screening a new post), so it carries
    # no effect yet and the look-up for one is skipped.
    new_subject: bool = False
    # Tell the affected member once the transaction has committed, not inside it
    # (`moderation.statement_outbox`): screening, whose author's request waits for it.
    deliver_after_commit: bool = False
    # The caller only reads the returned decision's columns (screening): it is written all the
    # same, but not attached to the session (`storage.direct.insert_object`).
    detached: bool = False


def superseding(
    original: Decision, *, action: Action, rule: RuleInfo, facts: str, decided_by_id: int
) -> DecisionRequest:
    """A moderator's decision on the same subject that replaces `original` (an appeal's
    outcome, a review of an automated decision): same source, detection, features and
    territory, for what is left of its duration."""
    remaining = original.ends_at - utcnow() if original.ends_at else None
    return DecisionRequest(
        subject_type=SubjectType(original.subject_type),
        subject_key=original.subject_key,
        action=action,
        rule=rule,
        facts=facts,
        source=Source(original.source),
        automated_detection=original.automated_detection,
        automated_decision=Automation.NOT_AUTOMATED,
        decided_by_id=decided_by_id,
        duration=remaining if remaining and remaining > timedelta(0) else None,
        features=tuple(f for f in original.features.split(",") if f),
        territorial_scope=original.territorial_scope.split(),
        supersedes_id=original.id,
    )


def _check(session: Session, request: DecisionRequest) -> tuple[int | None, ContentInfo]:
    """Validate the request; returns the affected member and what the statement says of it."""
    if not request.facts.strip():
        raise InvalidInput("A decision must state its facts and circumstances.", field="facts")
    if request.automated_decision != Automation.FULLY:
        # A person wrote these facts; automated decisions state Parvis's own wording, which
        # names what was found by kind only.
        personal_data.check_public_text(request.facts, "facts")
    if request.decided_by_id is None and request.automated_decision != Automation.FULLY:
        raise InvalidInput("A decision not fully automated must name who decided.", "decided_by")
    if request.automated_decision == Automation.FULLY and request.decided_by_id is not None:
        raise InvalidInput("A fully automated decision has no human decider.", "decided_by")
    bad = set(request.territorial_scope) - dsa.EEA_SET
    if bad:
        raise InvalidInput(f"Unknown territories: {', '.join(sorted(bad))}.", "territorial_scope")
    unknown_features = set(request.features) - ACCOUNT_FEATURES
    if unknown_features:
        raise InvalidInput(f"Unknown features: {', '.join(sorted(unknown_features))}.", "features")
    kind = request.subject_type
    action = request.action
    restoring = action in (Action.RESTORE, Action.NO_ACTION)
    if kind == SubjectType.POST:
        if not restoring and action not in POST_ACTIONS:
            raise InvalidInput(f"'{action}' cannot apply to a post.", field="action")
        post = session.get(Post, int(request.subject_key))
        if post is None:
            raise NotFound("No such post.")
        content = ContentInfo(post.created_at.date(), language=post.language)
        return post.author_id, content
    if kind == SubjectType.ACCOUNT:
        if not restoring and action not in ACCOUNT_ACTIONS:
            raise InvalidInput(f"'{action}' cannot apply to an account.", field="action")
        if action == Action.RESTRICT_ACCOUNT and not request.features:
            raise InvalidInput("Say which features the restriction takes away.", "features")
        user = session.get(User, int(request.subject_key))
        if user is None:
            raise NotFound("No such account.")
        return user.id, ContentInfo(user.created_at.date(), ("CONTENT_TYPE_OTHER",))
    if kind == SubjectType.ROOM:
        if not restoring and action != Action.REMOVE:
            raise InvalidInput("A room decision ends the room or removes a speaker: 'remove'.")
        return live_enforcement.describe(session, request.subject_key)
    if not restoring and action not in LINK_ACTIONS:
        raise InvalidInput(f"'{action}' cannot apply to a link.", field="action")
    return None, ContentInfo(utcnow().date(), ("CONTENT_TYPE_TEXT",))


def write_changed_decisions(session: Session) -> None:
    """Flush decisions changed in this session but not yet written (confirmed, superseded), so
    that a driver read of the decisions table (`storage.hot`) sees them as they now are. New
    decisions need nothing: `decide` writes them at once."""
    if any(isinstance(row, Decision) for row in (*session.new, *session.dirty)):
        session.flush()


def statement_text(statement: dict[str, Any]) -> str:
    """A statement of reasons as `Decision.statement_json` stores it: the log's canonical JSON
    (sorted keys, no spaces), so that its leaf can hold the very same text."""
    return leaves.canonical(statement)


_SET_STATEMENT = HotSQL("UPDATE decisions SET statement_json = :statement WHERE id = :id")


def decide(session: Session, request: DecisionRequest) -> Decision:
    """Record a decision with its statement of reasons and put its effect in force."""
    if request.subject_type == SubjectType.URL:
        request.subject_key = normalise_url(request.subject_key)
    elif request.subject_type == SubjectType.DOMAIN:
        request.subject_key = request.subject_key.strip().lower().rstrip(".")
    affected_user_id, content = _check(session, request)
    now = utcnow()
    superseded = None
    if request.supersedes_id is not None:
        superseded = session.get(Decision, request.supersedes_id)
        if superseded is None:
            raise NotFound("The decision to supersede does not exist.")
        if (superseded.subject_type, superseded.subject_key) != (
            request.subject_type.value,
            request.subject_key,
        ):
            raise InvalidInput("A superseding decision must have the same subject.")
    # Written at once (`storage.direct`): every automated removal comes here.
    decision = insert_object(
        session,
        Decision,
        attach=not request.detached,
        subject_type=request.subject_type.value,
        subject_key=request.subject_key,
        affected_user_id=affected_user_id,
        rule_id=request.rule.id,
        rulebook_version=request.rule.version,
        action=request.action.value,
        features=",".join(sorted(request.features)),
        facts=request.facts.strip(),
        automated_detection=request.automated_detection,
        automated_decision=request.automated_decision.value,
        source=request.source.value,
        notice_id=request.notice_id,
        decided_by_id=request.decided_by_id,
        territorial_scope=" ".join(sorted(request.territorial_scope)),
        starts_at=now,
        ends_at=now + request.duration if request.duration else None,
        created_at=now,
        supersedes_id=request.supersedes_id,
        state=(DecisionState.PROPOSED if request.propose else DecisionState.IN_EFFECT).value,
        statement_pending=(
            request.deliver_after_commit and not request.propose and affected_user_id is not None
        ),
    )
    statement = build_statement(
        decision, request.rule, content, territorial_scope=request.territorial_scope
    )
    if statement is not None:
        problems = dsa.validate_statement(statement)
        if problems:
            raise InvalidInput(
                "The statement of reasons would be invalid: " + "; ".join(map(str, problems))
            )
        # Written straight away rather than left for the next flush: this is the one change
        # to the decision after its insert, and a flush costs more than the update itself.
        text = statement_text(statement)
        _SET_STATEMENT.write(session, {"id": decision.id, "statement": text})
        set_committed_value(decision, "statement_json", text)
    if not request.propose:
        if superseded is not None:
            _lift(session, superseded)
            superseded.state = DecisionState.SUPERSEDED.value
        _apply(session, decision, new_subject=request.new_subject)
        audit_log.record_decision(session, decision, canonical_statement=True)
    return decision


def confirm(session: Session, decision_id: int, moderator: User) -> Decision:
    """A moderator puts a proposed decision in force (it becomes partially automated)."""
    decision = _proposal(session, decision_id, moderator)
    decision.state = DecisionState.IN_EFFECT.value
    decision.decided_by_id = moderator.id
    if decision.automated_decision == Automation.FULLY.value:
        decision.automated_decision = Automation.PARTIALLY.value
        statement = json.loads(decision.statement_json or "null")
        if statement:
            statement["automated_decision"] = "AUTOMATED_DECISION_PARTIALLY"
            decision.statement_json = statement_text(statement)
    decision.starts_at = utcnow()
    _apply(session, decision)
    audit_log.record_decision(session, decision)
    return decision


def decline(session: Session, decision_id: int, moderator: User) -> Decision:
    """A moderator declines a proposal; nothing takes effect."""
    decision = _proposal(session, decision_id, moderator)
    decision.state = DecisionState.DECLINED.value
    decision.decided_by_id = moderator.id
    return decision


def _proposal(session: Session, decision_id: int, moderator: User) -> Decision:
    if not moderator.is_moderator:
        raise PermissionDenied("Only moderators can review proposed decisions.")
    decision = session.get(Decision, decision_id)
    if decision is None:
        raise NotFound("No such decision.")
    if decision.state != DecisionState.PROPOSED.value:
        raise InvalidInput(f"This decision is {decision.state}, not awaiting review.")
    return decision


def _link_key(decision: Decision) -> str:
    return f"{decision.subject_type}:{decision.subject_key}"


def _severity(action: str) -> int:
    """A restriction's step on the ladder (narrowest first)."""
    return list(Action).index(Action(action))


def _stronger_in_force(session: Session, current: EffectRow | None, decision: Decision) -> bool:
    """Whether another decision in force holds a stronger effect on the same subject, which a
    narrower decision must not replace (each post, account or link carries one effect: the
    strongest of the decisions in force; see `_reinstate`)."""
    if current is None or current.decision_id == decision.id:
        return False
    if current.ends_at is not None and current.ends_at <= utcnow():
        return False
    holder = session.get(Decision, current.decision_id)
    return (
        holder is not None
        and holder.state == DecisionState.IN_EFFECT.value
        and _severity(holder.action) > _severity(decision.action)
    )


def _apply(session: Session, decision: Decision, *, new_subject: bool = False) -> None:
    action = Action(decision.action)
    if action in (Action.RESTORE, Action.NO_ACTION):
        return
    if decision.subject_type == SubjectType.ROOM.value:
        live_enforcement.apply(session, decision)
    elif action in POST_ACTIONS:
        current_post = (
            None if new_subject else effect_row(session, PostRestriction, int(decision.subject_key))
        )
        if _stronger_in_force(session, current_post, decision):
            return
        _put(
            session,
            PostRestriction,
            current_post,
            post_id=int(decision.subject_key),
            action=action.value,
            decision_id=decision.id,
            ends_at=decision.ends_at,
        )
        _announce_post(session, decision, removed=action == Action.REMOVE)
    elif action in ACCOUNT_ACTIONS:
        current = effect_row(session, AccountRestriction, int(decision.subject_key))
        if _stronger_in_force(session, current, decision):
            return
        if action == Action.RESTRICT_ACCOUNT:
            _put(session, AccountRestriction, current, **_combined_features(session, decision))
            return
        _put(
            session,
            AccountRestriction,
            current,
            user_id=int(decision.subject_key),
            action=action.value,
            features=decision.features,
            decision_id=decision.id,
            ends_at=decision.ends_at,
        )
    else:
        session.merge(
            BlockedLink(key=_link_key(decision), decision_id=decision.id, ends_at=decision.ends_at)
        )


def _put(
    session: Session, model: type[EffectRow], current: EffectRow | None, **effect: Any
) -> None:
    """Make `effect` (column values) the subject's one effect row: what `session.merge` does,
    without its second look-up of a row the caller has just read (`current`), and written at
    once when the subject had none."""
    if current is None:
        insert_values(session, model, **effect)
        return
    for column in ("action", "features", "decision_id", "ends_at"):
        if column in effect:
            setattr(current, column, effect[column])


def _combined_features(session: Session, decision: Decision) -> dict[str, Any]:
    """An account's feature restriction (its columns) from every feature-restricting decision
    in force on it: their features together, held by the one that ends first, so that its end
    (lifting it) recomputes the rest (`_reinstate`)."""
    now = utcnow()
    in_force = [
        d
        for d in session.scalars(
            select(Decision).where(
                Decision.subject_type == decision.subject_type,
                Decision.subject_key == decision.subject_key,
                Decision.action == Action.RESTRICT_ACCOUNT.value,
                Decision.state == DecisionState.IN_EFFECT.value,
                or_(Decision.ends_at.is_(None), Decision.ends_at > now),
            )
        )
        if d.id != decision.id
    ] + [decision]
    features = sorted({f for d in in_force for f in d.features.split(",") if f})
    first_end = min(in_force, key=lambda d: (d.ends_at is None, d.ends_at or now, d.id or 0))
    return {
        "user_id": int(decision.subject_key),
        "action": Action.RESTRICT_ACCOUNT.value,
        "features": ",".join(features),
        "decision_id": first_end.id,
        "ends_at": first_end.ends_at,
    }


def _lift(session: Session, decision: Decision, now: datetime | None = None) -> None:
    """Remove the effect a decision put in force (if it is still the one in force), and put
    back the strongest other decision still in force on the same subject."""
    if decision.subject_type == SubjectType.ROOM.value:
        live_enforcement.lift(session, decision)
        return
    for model, column in (
        (PostRestriction, PostRestriction.decision_id),
        (AccountRestriction, AccountRestriction.decision_id),
        (BlockedLink, BlockedLink.decision_id),
    ):
        session.execute(delete(model).where(column == decision.id))
    if decision.subject_type == SubjectType.POST.value:
        _announce_post(session, decision, removed=False)
    _reinstate(session, decision, now or utcnow())


def _reinstate(session: Session, lifted: Decision, now: datetime) -> None:
    """A restriction that ends (expiry, reversal) must not take others with it: a posting
    restriction outlives a shorter suspension, a label outlives a reversed removal."""
    remaining = session.scalars(
        select(Decision).where(
            Decision.subject_type == lifted.subject_type,
            Decision.subject_key == lifted.subject_key,
            Decision.state == DecisionState.IN_EFFECT.value,
            Decision.id != lifted.id,
            Decision.action.not_in((Action.RESTORE.value, Action.NO_ACTION.value)),
            or_(Decision.ends_at.is_(None), Decision.ends_at > now),
        )
    ).all()
    if remaining:
        _apply(session, max(remaining, key=lambda d: (_severity(d.action), d.id)))


def _announce_post(session: Session, decision: Decision, *, removed: bool) -> None:
    """Tell live listeners (the streaming API) once the transaction commits: a removed post
    is deleted for them, any other change to a post's restriction updates it."""
    post = session.get(Post, int(decision.subject_key))
    if post is not None:
        events.emit(session, EventKind.POST_DELETED if removed else EventKind.POST_UPDATED, post)


def expire_due(session: Session, now: datetime | None = None) -> list[Decision]:
    """End temporary restrictions whose time is up, recording each end as a decision."""
    now = now or utcnow()
    due = session.scalars(
        select(Decision).where(
            Decision.state == DecisionState.IN_EFFECT.value,
            Decision.ends_at.is_not(None),
            Decision.ends_at <= now,
        )
    ).all()
    ended = []
    for decision in due:
        # Every worker runs the expiry loop: claim the decision first, so that only one of
        # them records its end (on PostgreSQL the second waits for the first, then finds it
        # no longer in effect).
        claimed = session.execute(
            update(Decision)
            .where(Decision.id == decision.id, Decision.state == DecisionState.IN_EFFECT.value)
            .values(state=DecisionState.EXPIRED.value)
            .execution_options(synchronize_session=False)
        )
        if claimed.rowcount != 1:  # type: ignore[attr-defined]
            continue
        set_committed_value(decision, "state", DecisionState.EXPIRED.value)
        _lift(session, decision, now)
        record = Decision(
            subject_type=decision.subject_type,
            subject_key=decision.subject_key,
            affected_user_id=decision.affected_user_id,
            rule_id=decision.rule_id,
            rulebook_version=decision.rulebook_version,
            action=Action.RESTORE.value,
            facts=f"The {decision.action} decided in decision {decision.id} reached its end date.",
            automated_detection=False,
            automated_decision=Automation.FULLY.value,
            source=Source.OWN_INITIATIVE.value,
            territorial_scope=decision.territorial_scope,
            starts_at=now,
            created_at=now,
            supersedes_id=decision.id,
            state=DecisionState.IN_EFFECT.value,
        )
        session.add(record)
        ended.append(record)
    session.flush()
    for record in ended:
        audit_log.record_decision(session, record)
    return ended


def history(session: Session, *, affected_user_id: int) -> list[Decision]:
    """Every decision that affected a member, newest first (for reviewers and the member)."""
    return list(
        session.scalars(
            select(Decision)
            .where(Decision.affected_user_id == affected_user_id)
            .order_by(Decision.id.desc())
        )
    )

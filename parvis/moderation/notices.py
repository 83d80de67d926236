"""Notice and action (DSA Art. 16, 22, 23): anyone reports, gets an acknowledgement at once and
learns the outcome; trusted flaggers go first; notifiers who keep sending manifestly unfounded
notices can be suspended from notifying (by a decision, elsewhere)."""

from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import urlsplit

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from parvis.accounts.models import User
from parvis.accounts.services import Services, validate_email
from parvis.errors import InvalidInput, NotFound, PermissionDenied
from parvis.live.models import Room
from parvis.moderation import dsa, publication
from parvis.moderation.decisions import DecisionRequest
from parvis.moderation.models import (
    AccountRestriction,
    Action,
    Automation,
    Decision,
    Notice,
    NoticeState,
    Source,
    SubjectType,
    TrustedFlagger,
)
from parvis.moderation.services import take_decision
from parvis.social.models import Post
from parvis.storage.base import utcnow

MIN_EXPLANATION = 20
# Art. 16(2)(c): name and e-mail may be withheld for these categories.
ANONYMOUS_ALLOWED = frozenset({"STATEMENT_CATEGORY_PROTECTION_OF_MINORS"})
POST_PATH = re.compile(r"^/@[A-Za-z0-9_]{3,30}/(\d+)/?$")
ACCOUNT_PATH = re.compile(r"^/@([A-Za-z0-9_]{3,30})/?$")
API_STATUS_PATH = re.compile(r"^/api/v1/statuses/(\d+)/?$")
ROOM_PATH = re.compile(r"^/live/rooms/(\d+)/?$")


def resolve_location(session: Session, base_url: str, location: str) -> tuple[SubjectType, str]:
    """What a reported URL points at: a post or account here, or an outside URL."""
    location = location.strip()
    if not location:
        raise InvalidInput("Give the exact address (URL) of what you report.", "location")
    parts = urlsplit(location)
    ours = urlsplit(base_url)
    if parts.scheme and parts.scheme not in ("http", "https"):
        raise InvalidInput("The address must start with http:// or https://.", "location")
    if not parts.netloc or parts.netloc == ours.netloc:
        path = parts.path
        for pattern in (POST_PATH, API_STATUS_PATH):
            match = pattern.match(path)
            if match:
                post = session.get(Post, int(match.group(1)))
                if post is None or post.deleted_at is not None:
                    raise NotFound("The reported post does not exist or was deleted.")
                return SubjectType.POST, str(post.id)
        match = ROOM_PATH.match(path)
        if match:
            if session.get(Room, int(match.group(1))) is None:
                raise NotFound("The reported room does not exist.")
            return SubjectType.ROOM, match.group(1)
        match = ACCOUNT_PATH.match(path)
        if match:
            user = session.scalar(select(User).where(User.username_key == match.group(1).lower()))
            if user is None:
                raise NotFound("The reported account does not exist.")
            return SubjectType.ACCOUNT, str(user.id)
        if not parts.netloc:
            raise InvalidInput(
                "This address is not a post or profile here. Copy the post's address from its "
                "page (it looks like /@name/123).",
                "location",
            )
    return SubjectType.URL, location


def trusted_flagger_for(session: Session, user_id: int | None) -> TrustedFlagger | None:
    """The trusted-flagger organisation this member acts for now, if any (not a withdrawn one)."""
    if user_id is None:
        return None
    return session.scalar(
        select(TrustedFlagger).where(
            TrustedFlagger.user_id == user_id, TrustedFlagger.revoked_at.is_(None)
        )
    )


def may_notify(session: Session, user_id: int | None) -> None:
    """Refuse notices from a member suspended from notifying (Art. 23), saying until when."""
    if user_id is None:
        return
    restriction = session.get(AccountRestriction, user_id)
    if restriction is None or "notices" not in restriction.features.split(","):
        return
    if restriction.ends_at is not None and restriction.ends_at <= utcnow():
        return
    until = f" until {restriction.ends_at:%Y-%m-%d}" if restriction.ends_at else ""
    raise PermissionDenied(
        f"Your notices are suspended{until} because many earlier ones were manifestly "
        f"unfounded (decision {restriction.decision_id}; you can appeal it)."
    )


def submit_notice(
    session: Session,
    services: Services,
    *,
    location: str,
    category: str,
    explanation: str,
    good_faith: bool,
    notifier: User | None = None,
    name: str = "",
    email: str = "",
    rule_id: str | None = None,
) -> Notice:
    """Record a notice and acknowledge it at once (by e-mail when an address is known)."""
    if category not in dsa.CATEGORIES:
        raise InvalidInput("Choose the category that best describes the problem.", "category")
    if len(explanation.strip()) < MIN_EXPLANATION:
        raise InvalidInput(
            f"Explain why the content is illegal or breaks the rules "
            f"(at least {MIN_EXPLANATION} characters).",
            "explanation",
        )
    if len(explanation) > 5000:
        raise InvalidInput("Explanation: at most 5000 characters.", "explanation")
    if not good_faith:
        raise InvalidInput(
            "Confirm that you believe in good faith that the information is accurate and complete.",
            "good_faith",
        )
    name = (name or (notifier.name if notifier else "")).strip()[:200]
    email = (email or (notifier.email if notifier else "")).strip()
    if category not in ANONYMOUS_ALLOWED:
        if not name:
            raise InvalidInput("Give your name (required for this kind of notice).", "name")
        if not email:
            raise InvalidInput("Give your e-mail address so we can tell you the outcome.", "email")
    if email:
        email = validate_email(email)
    may_notify(session, notifier.id if notifier else None)
    subject_type, subject_key = resolve_location(session, services.settings.base_url, location)
    flagger = trusted_flagger_for(session, notifier.id if notifier else None)
    illegal = category != "STATEMENT_CATEGORY_OTHER_VIOLATION_TC"
    notice = Notice(
        subject_type=subject_type.value,
        subject_key=subject_key[:2048],
        location=location.strip()[:2048],
        category=category,
        rule_id=rule_id,
        explanation=explanation.strip(),
        notifier_user_id=notifier.id if notifier else None,
        notifier_name=name,
        notifier_email=email,
        good_faith=True,
        trusted_flagger_id=flagger.id if flagger else None,
        priority=0 if flagger else (1 if illegal else 2),
        acknowledged_at=utcnow(),
    )
    session.add(notice)
    session.flush()
    if email:
        services.mailer.send(
            session,
            email,
            f"We received your notice #{notice.id}",
            f"Hello {name or 'there'},\n\nWe received your notice #{notice.id} about\n"
            f"{notice.location}\n\nA moderator will review it"
            f"{' with priority (trusted flagger)' if flagger else ''}. We will tell you the "
            "outcome and the reasons for it.\n",
        )
    return notice


def review_queue(session: Session, limit: int = 50) -> list[Notice]:
    """Open notices in review order: trusted flaggers, then illegal content, then oldest first."""
    return list(
        session.scalars(
            select(Notice)
            .where(Notice.state == NoticeState.RECEIVED.value)
            .order_by(Notice.priority, Notice.id)
            .limit(limit)
        )
    )


def resolve_notice(
    session: Session,
    services: Services,
    notice_id: int,
    moderator: User,
    *,
    outcome: NoticeState,
    explanation: str,
    decision: Decision | None = None,
) -> Notice:
    """Close a notice and tell the notifier what was decided and why."""
    if not moderator.is_moderator:
        raise PermissionDenied("Only moderators can resolve notices.")
    notice = session.get(Notice, notice_id)
    if notice is None:
        raise NotFound("No such notice.")
    if notice.state != NoticeState.RECEIVED.value:
        raise InvalidInput(f"Notice #{notice.id} was already resolved ({notice.state}).")
    if outcome == NoticeState.RECEIVED:
        raise InvalidInput("Choose an outcome.", "outcome")
    if (outcome == NoticeState.ACTIONED) != (decision is not None):
        raise InvalidInput("An actioned notice needs its decision; other outcomes have none.")
    if not explanation.strip():
        raise InvalidInput("Explain the outcome to the notifier.", "explanation")
    notice.state = outcome.value
    notice.resolved_at = utcnow()
    notice.resolved_by_id = moderator.id
    notice.decision_id = decision.id if decision else None
    notice.outcome_text = explanation.strip()
    if notice.notifier_email:
        what = {
            NoticeState.ACTIONED: f"We acted on it (decision {decision.id if decision else ''}).",
            NoticeState.NO_ACTION: "We decided not to act on it.",
            NoticeState.UNFOUNDED: "We found it manifestly unfounded.",
        }[outcome]
        services.mailer.send(
            session,
            notice.notifier_email,
            f"Outcome of your notice #{notice.id}",
            f"Hello {notice.notifier_name or 'there'},\n\n{what}\n\nReasons: {notice.outcome_text}"
            "\n\nIf you disagree, you can appeal this outcome within six months"
            + (
                f" at {services.settings.base_url}/notices/{notice.id}.\n"
                if notice.notifier_user_id
                else f" by replying with notice #{notice.id}.\n"
            )
            + (
                "\nNote: members who often send manifestly unfounded notices have their "
                "notices suspended for a while.\n"
                if outcome == NoticeState.UNFOUNDED
                else ""
            ),
        )
    if outcome == NoticeState.UNFOUNDED and notice.notifier_user_id is not None:
        session.flush()
        check_misuse(session, services, notice.notifier_user_id)
    return notice


UNFOUNDED_THRESHOLD = 5
MISUSE_RULE = "notice-misuse"


def check_misuse(session: Session, services: Services, notifier_id: int) -> None:
    """Suspend a member's notices (by a decision) once they keep sending unfounded ones."""
    count = unfounded_count(session, notifier_id)
    if count < UNFOUNDED_THRESHOLD:
        return
    current = session.get(AccountRestriction, notifier_id)
    if current is not None and "notices" in current.features.split(","):
        return
    try:
        row = publication.get_version(session)
        rule = publication.parsed(row).rule(MISUSE_RULE)
    except (NotFound, KeyError):
        return
    take_decision(
        session,
        services,
        DecisionRequest(
            subject_type=SubjectType.ACCOUNT,
            subject_key=str(notifier_id),
            action=Action.RESTRICT_ACCOUNT,
            rule=rule.info(row.version),
            facts=f"{count} notices from this account were manifestly unfounded in 90 days.",
            source=Source.OWN_INITIATIVE,
            automated_detection=True,
            automated_decision=Automation.FULLY,
            duration=timedelta(days=rule.duration_days or 30),
            features=tuple(rule.features) or ("notices",),
            territorial_scope=list(rule.territorial_scope),
        ),
    )


def unfounded_count(session: Session, user_id: int, days: int = 90) -> int:
    """How many of a member's notices were manifestly unfounded recently (Art. 23 evidence)."""
    since = utcnow() - timedelta(days=days)
    return int(
        session.scalar(
            select(func.count())
            .select_from(Notice)
            .where(
                Notice.notifier_user_id == user_id,
                Notice.state == NoticeState.UNFOUNDED.value,
                Notice.created_at >= since,
            )
        )
        or 0
    )

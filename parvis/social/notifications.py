"""Notifications: created by the social services, read by members (blocks and mutes obeyed)."""

from __future__ import annotations

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.orm import Session

from parvis.moderation.enforcement import (
    WITHDRAWN,
    account_restriction,
    post_restrictions,
    withdrawn_account_ids,
)
from parvis.social import events
from parvis.social.events import EventKind
from parvis.social.models import Block, Mute, Notification, NotificationKind, Post
from parvis.social.visibility import Viewer, can_see_post
from parvis.storage.base import utcnow


def notify(
    session: Session,
    *,
    recipient_id: int,
    actor_id: int,
    kind: NotificationKind,
    post_id: int | None = None,
    room_id: int | None = None,
) -> None:
    """Tell a member something happened, unless it is their own act or a block or mute stands."""
    if recipient_id == actor_id:
        return
    blocked_or_muted = session.scalar(
        select(func.count()).where(
            or_(
                select(Block.user_id)
                .where(
                    or_(
                        and_(Block.user_id == recipient_id, Block.target_id == actor_id),
                        and_(Block.user_id == actor_id, Block.target_id == recipient_id),
                    )
                )
                .exists(),
                select(Mute.user_id)
                .where(Mute.user_id == recipient_id, Mute.target_id == actor_id)
                .exists(),
            )
        )
    )
    if blocked_or_muted:
        return
    row = Notification(user_id=recipient_id, actor_id=actor_id, kind=kind.value, post_id=post_id)
    row.room_id = room_id
    session.add(row)
    events.emit(session, EventKind.NOTIFICATION_CREATED, row)


def list_notifications(
    session: Session,
    viewer: Viewer,
    *,
    max_id: int | None = None,
    since_id: int | None = None,
    min_id: int | None = None,
    limit: int = 20,
    kinds: list[str] | None = None,
) -> list[Notification]:
    """The viewer's notifications, newest first, with blocked/muted actors and muted words dropped.

    Filtering happens at read time too, so a block made after the fact hides old notifications.
    """
    assert viewer.user_id is not None
    query = select(Notification).where(
        Notification.user_id == viewer.user_id,
        # Nothing from an account a decision suspended or terminated, while that lasts.
        or_(
            Notification.actor_id.not_in(withdrawn_account_ids()),
            Notification.kind == NotificationKind.MODERATION.value,
        ),
    )
    if viewer.hidden_author_ids:
        # A block or mute never hides a moderation decision from the member it affects.
        query = query.where(
            or_(
                Notification.actor_id.not_in(viewer.hidden_author_ids),
                Notification.kind == NotificationKind.MODERATION.value,
            )
        )
    if kinds:
        query = query.where(Notification.kind.in_(kinds))
    if max_id is not None:
        query = query.where(Notification.id < max_id)
    if since_id is not None:
        query = query.where(Notification.id > since_id)
    ascending = min_id is not None
    if ascending:
        query = query.where(Notification.id > min_id).order_by(Notification.id.asc())
    else:
        query = query.order_by(Notification.id.desc())
    result: list[Notification] = []
    batch = max(limit * 2, 20)
    offset = 0
    while len(result) < limit:
        rows = session.scalars(query.limit(batch).offset(offset)).all()
        if not rows:
            break
        offset += len(rows)
        post_ids = {row.post_id for row in rows if row.post_id is not None}
        posts = (
            {p.id: p for p in session.scalars(select(Post).where(Post.id.in_(post_ids)))}
            if post_ids
            else {}
        )
        removed = _removed(session, post_ids)
        for row in rows:
            post = posts.get(row.post_id) if row.post_id is not None else None
            if not _shown(viewer, row, post, removed):
                continue
            result.append(row)
            if len(result) == limit:
                break
    if ascending:
        result.reverse()
    return result


def _removed(session: Session, post_ids: set[int]) -> set[int]:
    return {
        post_id
        for post_id, restriction in post_restrictions(session, post_ids).items()
        if restriction.removed
    }


def _shown(viewer: Viewer, row: Notification, post: Post | None, removed: set[int]) -> bool:
    if post is None:
        return True
    if post.deleted_at is not None or not can_see_post(viewer, post):
        return False
    # A post removed by a decision is gone, and so is news of it (as of a deleted post); the
    # decision's own notice to its author stays.
    return post.id not in removed or row.kind == NotificationKind.MODERATION


def is_shown(session: Session, viewer: Viewer, row: Notification) -> bool:
    """Whether the viewer is shown this notification, by the rules `list_notifications` applies
    (its actor hidden by a block or mute, or suspended or terminated by a decision, its post
    deleted, hidden or removed by a decision)."""
    if row.kind != NotificationKind.MODERATION:
        if row.actor_id in viewer.hidden_author_ids:
            return False
        standing = account_restriction(session, row.actor_id)
        if standing is not None and standing.action in WITHDRAWN:
            return False
    post = session.get(Post, row.post_id) if row.post_id is not None else None
    return _shown(viewer, row, post, _removed(session, {post.id} if post else set()))


def unread_count(session: Session, viewer: Viewer) -> int:
    """How many notifications the viewer has not seen (blocked/muted actors excluded)."""
    assert viewer.user_id is not None
    query = select(func.count()).where(
        Notification.user_id == viewer.user_id, Notification.read_at.is_(None)
    )
    if viewer.hidden_author_ids:
        query = query.where(
            or_(
                Notification.actor_id.not_in(viewer.hidden_author_ids),
                Notification.kind == NotificationKind.MODERATION.value,
            )
        )
    return int(session.scalar(query) or 0)


def mark_all_read(session: Session, user_id: int) -> None:
    """Mark every notification of the member as read."""
    session.execute(
        update(Notification)
        .where(Notification.user_id == user_id, Notification.read_at.is_(None))
        .values(read_at=utcnow())
    )


def dismiss(session: Session, user_id: int, notification_id: int) -> None:
    """Delete one notification of the member (Mastodon's dismiss)."""
    row = session.get(Notification, notification_id)
    if row is not None and row.user_id == user_id:
        session.delete(row)


def clear(session: Session, user_id: int) -> None:
    """Delete all notifications of the member."""
    for row in session.scalars(select(Notification).where(Notification.user_id == user_id)):
        session.delete(row)
